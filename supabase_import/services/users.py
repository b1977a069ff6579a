"""Users and their profiles (balances are set with the ledger)."""

from __future__ import annotations

from django.utils import timezone

from accounts.models import PlanType, Profile, User
from supabase_import import mapping
from supabase_import import source as src
from supabase_import.writer import existing, insert_rows


class UsersPhase:
    """Part of SupabaseImport (run.py): uses its source, report, batch size, _phase and _guarded."""

    def users(self) -> None:
        total = self.source.count("SELECT count(*) AS n FROM auth.users")
        self._phase("users", self.source.stream(src.users_sql(self.source)), total, self._users_write)

    def _users_write(self, batch: list[dict]) -> None:
        report = self.report
        already = existing(User, "id", [row["id"] for row in batch])
        report.add("users", "already imported", len(already))
        users, profiles = [], {}
        for row in batch:
            if row["id"] in already:
                continue
            email = mapping.fold_email(row["profile_email"] or row["auth_email"])
            if not email or "@" not in email:
                report.skip("users", row["id"], "no email")
                continue
            if len(email) > 254:
                report.skip("users", row["id"], "email longer than 254 characters")
                continue
            if row["email_rank"] > 1:
                report.skip(
                    "users",
                    row["id"],
                    f"email {email} is also user {row['email_first_id']}'s (differing only by case); "
                    "that older account was imported",
                )
                continue
            password = mapping.password_hash(row["password_hash"], row["encrypted_password"])
            if password is None:
                report.note("users", row["id"], "no bcrypt password: imported unable to sign in until a reset")
                password = mapping.unusable_password()
            joined = row["created_at"] or row["auth_created_at"] or timezone.now()
            users.append({"id": row["id"], "email": email, "password": password, "date_joined": joined})
            first, last = mapping.split_name(row["full_name"])
            plan = mapping.text(row["plan_type"]).lower()
            profiles[row["id"]] = {
                "user_id": row["id"],
                "first_name": first,
                "last_name": last,
                "avatar_url": mapping.http_url(row["avatar_url"], 500),
                "plan_type": plan if plan in mapping.PLAN_TYPES else PlanType.FREE,
                "credits": 0,  # set with the ledger, so that balance and ledger always agree
                "total_credits_spent": max(row["total_credits_spent"] or 0, 0),
                "total_videos_created": max(row["total_videos_created"] or 0, 0),
                "preferred_resolution": mapping.text(row["resolution"], 8) or "720p",
                "max_duration": min(mapping.leading_int(row["max_duration"], 5), 32767),
                "language": mapping.text(row["language_preference"], 16) or "en",
                "timezone": mapping.text(row["timezone"], 64) or "UTC",
                "created_at": joined,
                "updated_at": row["updated_at"] or joined,
            }
        taken = existing(User, "email", [u["email"] for u in users])
        seen: set[str] = set()
        kept = []
        for user in users:
            if user["email"] in taken or user["email"] in seen:
                report.skip("users", user["id"], f"email {user['email']} already belongs to another account here")
                continue
            seen.add(user["email"])
            kept.append(user)
        inserted = insert_rows(User, kept)
        insert_rows(Profile, [profiles[user_id] for user_id in inserted], conflict="user_id")
        report.add("users", "imported", len(inserted))
