"""The import: users, subscriptions, orders, videos, then the ledger with the balances, in batches.

Each batch commits on its own (an interrupted run keeps what it wrote), rows keep their Supabase ids
(the ledger keeps its as the idempotency key `supabase:<id>`), and every phase skips what is already
there, so a rerun resumes and never duplicates. A row that cannot be imported is reported and skipped.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from itertools import islice

import psycopg
from django.conf import settings
from django.db import DataError, IntegrityError, transaction
from django.utils import timezone

from accounts.models import PlanType, Profile, User
from billing.models import CreditPackage, Order, OrderStatus, Plan, Subscription, SubscriptionStatus
from credits.models import CreditTransaction
from supabase_import import mapping
from supabase_import import source as src
from supabase_import.writer import existing, insert_rows, next_ids, query, raw_cursor
from videos.models import Video, VideoStatus
from videos.tasks import video_copy_task

# What one bad row can cause (a constraint, a value out of range); the batch is then retried row by row.
ROW_ERRORS = (IntegrityError, DataError, psycopg.IntegrityError, psycopg.DataError)
LIVE_SUBSCRIPTION = (SubscriptionStatus.INCOMPLETE, SubscriptionStatus.ACTIVE, SubscriptionStatus.PAST_DUE)
PHASES = ("users", "subscriptions", "orders", "videos", "credit_transactions")


@dataclass
class ImportReport:
    """Counts per (table, outcome) and a line per skipped row or noteworthy change.

    Within a batch they are held until it commits: a batch retried row by row is counted once.
    """

    write: Callable[[str], None]
    counts: Counter = field(default_factory=Counter)
    _held: tuple[Counter, list] | None = None

    def add(self, table: str, outcome: str, n: int = 1) -> None:
        if n:
            (self._held[0] if self._held else self.counts)[(table, outcome)] += n

    def line(self, text: str) -> None:
        if self._held:
            self._held[1].append(text)
        else:
            self.write(text)

    def skip(self, table: str, row_id, reason: str, n: int = 1) -> None:
        self.add(table, "skipped", n)
        self.line(f"SKIPPED {table} {row_id}: {reason}")

    def note(self, table: str, row_id, message: str) -> None:
        self.add(table, "notes")
        self.line(f"NOTE {table} {row_id}: {message}")

    def hold(self) -> None:
        self._held = (Counter(), [])

    def release(self, *, keep: bool) -> None:
        held, self._held = self._held, None
        if keep and held:
            self.counts.update(held[0])
            for text in held[1]:
                self.write(text)


class MediaHostsUnfetchable(Exception):
    """Ready videos have media on hosts that are neither the bucket nor fetchable by the copy task."""


def bucket_from_settings(extra_prefixes: Iterable[str] = ()) -> mapping.Bucket:
    """Where an object already in the configured storage is served from (so its key can be recovered), and
    the hosts the copy task fetches from (KIE_FILE_HOSTS; a listed port is not checked here)."""
    prefixes = list(extra_prefixes)
    if settings.USE_R2:
        if settings.R2_PUBLIC_DOMAIN:
            prefixes.append(f"https://{settings.R2_PUBLIC_DOMAIN.strip('/')}/")
        endpoint = settings.R2_ENDPOINT.rstrip("/")
        prefixes.append(f"{endpoint}/{settings.R2_BUCKET_NAME}/")
        scheme, _, host = endpoint.partition("://")
        prefixes.append(f"{scheme}://{settings.R2_BUCKET_NAME}.{host}/")
    else:
        prefixes.append(f"{settings.BASE_URL.rstrip('/')}{settings.MEDIA_URL}")
    hosts = {entry.lower().rpartition(":")[0] if ":" in entry else entry.lower() for entry in settings.KIE_FILE_HOSTS}
    return mapping.Bucket(prefixes=prefixes, fetchable_hosts=hosts)


def _enqueue_copy(*, video_id: str) -> None:
    """In the batch's transaction on the database task backend (it exists exactly when the video does);
    after the commit on any other backend (never a download inside the transaction, nor in a dry run)."""
    if video_copy_task.get_backend().__class__.__name__ == "DatabaseBackend":
        video_copy_task.enqueue(video_id=video_id)
    else:
        transaction.on_commit(lambda: video_copy_task.enqueue(video_id=video_id))


class _DryRun(Exception):
    """Raised at the end of a dry run to roll every write back."""


def supabase_import_run(
    *,
    source: src.Source,
    report: ImportReport,
    bucket: mapping.Bucket,
    batch_size: int = 5000,
    dry_run: bool = False,
    progress: Callable[[str, int, int], None] | None = None,
) -> ImportReport:
    """Runs every phase; each batch commits on its own, or with `dry_run` everything is rolled back."""
    importer = SupabaseImport(source=source, report=report, bucket=bucket, batch_size=batch_size, progress=progress)
    if not dry_run:
        importer.run()
        return report
    try:
        with transaction.atomic():
            importer.run()
            raise _DryRun
    except _DryRun:
        pass
    return report


def _batched(rows: Iterable, size: int) -> Iterator[list]:
    iterator = iter(rows)
    while batch := list(islice(iterator, size)):
        yield batch


class SupabaseImport:
    def __init__(
        self,
        *,
        source: src.Source,
        report: ImportReport,
        bucket: mapping.Bucket,
        batch_size: int = 5000,
        progress: Callable[[str, int, int], None] | None = None,
    ):
        self.source = source
        self.report = report
        self.bucket = bucket
        self.batch_size = batch_size
        self.progress = progress or (lambda phase, done, total: None)

    # --- driver -----------------------------------------------------------------------------------

    def run(self) -> None:
        unknown = self.media_hosts_check()
        if unknown and not self.bucket.skip_unfetchable:
            raise MediaHostsUnfetchable(
                f"ready videos have media on host(s) {', '.join(unknown[:20])}: add them to KIE_FILE_HOSTS so the "
                "copy task may fetch them, pass --bucket-url if they already are this bucket, or pass "
                "--without-unfetchable-media to import those videos without their files"
            )
        self.users()
        self.subscriptions()
        self.orders()
        self.videos()
        self.ledger()

    def _guarded(self, table: str, items: list, write: Callable[[list], None], ident: Callable) -> None:
        """Writes a batch in one transaction; on a database error, each item alone, reporting the bad one."""
        self.report.hold()
        try:
            with transaction.atomic():
                write(items)
        except ROW_ERRORS as exc:  # a lost connection is not a bad row: it stops the run (resumable)
            self.report.release(keep=False)
            if len(items) == 1:
                self.report.skip(table, ident(items[0]), f"database refused it: {str(exc).strip()[:300]}")
                return
            for item in items:
                self._guarded(table, [item], write, ident)
        except BaseException:
            self.report.release(keep=False)
            raise
        else:
            self.report.release(keep=True)

    def _phase(self, table: str, rows: Iterable, total: int, write, ident=lambda row: row["id"], size=None):
        done = 0
        self.progress(table, 0, total)
        for batch in _batched(rows, size or self.batch_size):
            self._guarded(table, batch, write, ident)
            done += len(batch)
            self.progress(table, done, total)

    # --- users ------------------------------------------------------------------------------------

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

    # --- subscriptions ----------------------------------------------------------------------------

    def subscriptions(self) -> None:
        self.plans = dict(Plan.objects.values_list("slug", "id"))
        total = self.source.count("SELECT count(*) AS n FROM public.subscriptions")
        self._phase("subscriptions", self.source.stream(src.SUBSCRIPTIONS_SQL), total, self._subscriptions_write)

    def _subscriptions_write(self, batch: list[dict]) -> None:
        report, table = self.report, "subscriptions"
        already = existing(Subscription, "id", [row["id"] for row in batch])
        report.add(table, "already imported", len(already))
        users = existing(User, "id", [row["user_id"] for row in batch])
        provider_ids = {
            mapping.text(row.get("stripe_subscription_id") or row.get("external_subscription_id"), 255) or None
            for row in batch
        }
        taken_ids = set(
            Subscription.objects.filter(provider_subscription_id__in=provider_ids - {None}).values_list(
                "provider_subscription_id", flat=True
            )
        )
        live_users = set(
            Subscription.objects.filter(user_id__in=users, status__in=LIVE_SUBSCRIPTION).values_list("user_id", flat=True)
        )
        rows = []
        for row in batch:
            if row["id"] in already:
                continue
            if row["user_id"] not in users:
                report.skip(table, row["id"], f"user {row['user_id']} not imported")
                continue
            plan_id = self.plans.get(mapping.text(row["plan_type"]).lower())
            if plan_id is None:
                report.skip(table, row["id"], f"no plan {row['plan_type']!r} here")
                continue
            status = mapping.SUBSCRIPTION_STATUSES.get(mapping.text(row["status"]).lower())
            if status is None:
                report.skip(table, row["id"], f"unknown status {row['status']!r}")
                continue
            if status in LIVE_SUBSCRIPTION:
                if row["user_id"] in live_users:
                    report.skip(table, row["id"], "the user already has a live subscription (one at a time here)")
                    continue
                live_users.add(row["user_id"])
            provider_id = mapping.text(row.get("stripe_subscription_id") or row.get("external_subscription_id"), 255)
            if provider_id in taken_ids:
                report.note(table, row["id"], f"provider id {provider_id} already used here: not kept")
                provider_id = ""
            taken_ids.add(provider_id)
            customer = row.get("stripe_customer_id") or row.get("external_customer_id")
            rows.append(
                {
                    "id": row["id"],
                    "user_id": row["user_id"],
                    "plan_id": plan_id,
                    "status": status,
                    "provider": "stripe" if provider_id else "legacy",
                    "provider_subscription_id": provider_id or None,
                    "provider_customer_id": mapping.text(customer, 255),
                    "current_period_start": row["current_period_start"],
                    "current_period_end": row["current_period_end"],
                    "cancel_at_period_end": bool(row["cancel_at_period_end"]),
                    "created_at": row["created_at"] or timezone.now(),
                    "updated_at": row["updated_at"] or row["created_at"] or timezone.now(),
                }
            )
        report.add(table, "imported", len(insert_rows(Subscription, rows)))

    # --- orders -----------------------------------------------------------------------------------

    def orders(self) -> None:
        self.packages = dict(CreditPackage.objects.values_list("slug", "id"))
        total = self.source.count("SELECT count(*) AS n FROM public.orders")
        self._phase("orders", self.source.stream(src.ORDERS_SQL), total, self._orders_write)

    def _orders_write(self, batch: list[dict]) -> None:
        report, table = self.report, "orders"
        already = existing(Order, "id", [row["id"] for row in batch])
        report.add(table, "already imported", len(already))
        users = existing(User, "id", [row["user_id"] for row in batch])
        checkout_ids = {mapping.text(row["checkout_id"], 255) or None for row in batch}
        taken_ids = set(
            Order.objects.filter(provider_payment_id__in=checkout_ids - {None}).values_list(
                "provider_payment_id", flat=True
            )
        )
        rows = []
        for row in batch:
            if row["id"] in already:
                continue
            if row["user_id"] not in users:
                report.skip(table, row["id"], f"user {row['user_id']} not imported")
                continue
            status = mapping.text(row["status"]).lower() or OrderStatus.PENDING
            if status not in mapping.ORDER_STATUSES:
                report.skip(table, row["id"], f"unknown status {row['status']!r}")
                continue
            if (row["credits"] or 0) < 0 or (row["price"] or 0) < 0:
                report.skip(table, row["id"], "negative credits or price")
                continue
            checkout_id = mapping.text(row["checkout_id"], 255)
            if checkout_id in taken_ids:
                report.note(table, row["id"], f"payment id {checkout_id} already used here: not kept")
                checkout_id = ""
            taken_ids.add(checkout_id)
            method = mapping.text(row.get("payment_method")).lower()
            stripe = method == "stripe" or checkout_id.startswith(("pi_", "cs_", "in_", "ch_"))
            product = mapping.text(row["product_id"]).lower()
            subscription = mapping.text(row.get("type")).lower() == "subscription"
            rows.append(
                {
                    "id": row["id"],
                    "user_id": row["user_id"],
                    "package_id": None if subscription else self.packages.get(product),
                    "plan_id": self.plans.get(product) if subscription else None,
                    "status": status,
                    "credits": row["credits"] or 0,
                    # Supabase keeps prices in cents.
                    "amount": Decimal(row["price"] or 0) / 100,
                    "currency": mapping.text(row.get("currency"), 3).upper() or "USD",
                    "provider": "stripe" if stripe else (method[:16] or "legacy"),
                    "provider_payment_id": checkout_id or None,
                    "payment_method": method[:32],
                    "created_at": row["created_at"] or timezone.now(),
                    "updated_at": row["completed_at"] or row["created_at"] or timezone.now(),
                    "completed_at": row["completed_at"],
                    "refunded_at": row["completed_at"] if status == OrderStatus.REFUNDED else None,
                }
            )
        report.add(table, "imported", len(insert_rows(Order, rows)))

    # --- videos -----------------------------------------------------------------------------------

    def media_hosts_check(self) -> list[str]:
        """Hosts of ready videos' media that are neither in the bucket nor fetchable by the copy task.

        Copying from such a host would fail and, past the retries, fail and refund the video: so the run
        stops before writing anything unless told to import those videos without their files."""
        bucket_hosts = {(mapping.urlsplit(p).hostname or "").lower() for p in self.bucket.prefixes}
        hosts = [row["host"] for row in self.source.conn.execute(src.MEDIA_HOSTS_SQL).fetchall() if row["host"]]
        return sorted(h for h in hosts if h not in bucket_hosts and h not in self.bucket.fetchable_hosts)

    def videos(self) -> None:
        total = self.source.count("SELECT count(*) AS n FROM public.videos")
        self._phase("videos", self.source.stream(src.videos_sql(self.source)), total, self._videos_write)

    def _videos_write(self, batch: list[dict]) -> None:
        report, table = self.report, "videos"
        already = existing(Video, "id", [row["id"] for row in batch])
        report.add(table, "already imported", len(already))
        users = existing(User, "id", [row["user_id"] for row in batch])
        task_ids = {mapping.text(row["task_id"], 128) or None for row in batch}
        taken = existing(Video, "provider_task_id", task_ids)
        rows, copies = [], []
        for row in batch:
            if row["id"] in already:
                continue
            if row["user_id"] not in users:
                report.skip(table, row["id"], f"user {row['user_id']} not imported")
                continue
            prompt = mapping.text(row["prompt"]) or mapping.text(row["title"])
            if not prompt:
                report.skip(table, row["id"], "no prompt")
                continue
            media = mapping.video_media(row, self.bucket)
            if media.note:
                report.note(table, row["id"], media.note)
            task_id = mapping.text(row["task_id"], 128).strip()
            if task_id in taken:
                report.note(table, row["id"], f"KIE task id {task_id} already belongs to another video: not kept")
                task_id = ""
            taken.add(task_id)
            if media.status == VideoStatus.PROCESSING and not task_id:
                media.status = VideoStatus.FAILED
            quality = mapping.text(row["quality"] or row["resolution"], 8) or "720p"
            aspect = mapping.text(row["aspect_ratio"])
            created = row["created_at"] or timezone.now()
            rows.append(
                {
                    "id": row["id"],
                    "user_id": row["user_id"],
                    "status": media.status,
                    "prompt": prompt,
                    "enhanced_prompt": prompt,
                    "triggers": [mapping.text(t, 100) for t in (row["triggers"] or []) if t is not None],
                    "duration": min(mapping.leading_int(row["duration"], 5), 32767),
                    "quality": quality,
                    "aspect_ratio": aspect if aspect in mapping.ASPECT_RATIOS else "16:9",
                    "credit_cost": max(row["credit_cost"] or 0, 0),
                    "provider": "kie",
                    "provider_task_id": task_id or None,
                    "provider_state": "success" if media.status in (VideoStatus.READY, VideoStatus.STORING) else "",
                    "provider_video_url": media.provider_video_url,
                    "provider_thumbnail_url": media.provider_thumbnail_url,
                    "video_file": media.video_file,
                    "thumbnail_file": media.thumbnail_file,
                    "file_size": row["file_size"] if (row["file_size"] or 0) > 0 else None,
                    "is_favorite": bool(row["is_favorite"]),
                    "error_code": "GENERATION_FAILED" if media.status == VideoStatus.FAILED else "",
                    "error_message": mapping.text(row["error_message"] or media.note, 500)
                    if media.status == VideoStatus.FAILED
                    else "",
                    "created_at": created,
                    # A copy starts fresh: the sweep re-queues a storing video only once it has been idle a while.
                    "updated_at": timezone.now() if media.needs_copy else (row["updated_at"] or created),
                    "submitted_at": row["generation_started_at"] or (created if task_id else None),
                    "completed_at": row["generation_completed_at"] if media.status == VideoStatus.READY else None,
                }
            )
            if media.needs_copy:
                copies.append(row["id"])
        inserted = insert_rows(Video, rows)
        for video_id in copies:
            if video_id in inserted:
                # The same lease/retry path as a finished generation: storing -> ready once copied.
                _enqueue_copy(video_id=str(video_id))
        report.add(table, "imported", len(inserted))
        report.add(table, "copies queued", len([v for v in copies if v in inserted]))

    # --- ledger and balances ----------------------------------------------------------------------

    def ledger(self) -> None:
        total = self.source.count("SELECT count(*) AS n FROM public.credit_transactions")
        done = 0
        self.progress("credit_transactions", 0, total)
        group: list = []
        rows_in_group = 0
        for item in self._ledger_groups():
            group.append(item)
            rows_in_group += len(item[3]) + 1
            if rows_in_group >= self.batch_size:
                self._guarded("credit_transactions", group, self._ledger_write, ident=lambda g: f"of user {g[0]}")
                done += sum(len(g[3]) for g in group)
                self.progress("credit_transactions", done, total)
                group, rows_in_group = [], 0
        if group:
            self._guarded("credit_transactions", group, self._ledger_write, ident=lambda g: f"of user {g[0]}")
            done += sum(len(g[3]) for g in group)
        self.progress("credit_transactions", done, total)

    def _ledger_groups(self) -> Iterator[tuple]:
        """(user id, credits, opened at, transactions) per Supabase user: two sorted streams merged."""
        transactions = self.source.stream(src.TRANSACTIONS_SQL)
        pending = next(transactions, None)

        def orphan(row):
            self.report.skip("credit_transactions", row["id"], f"orphan: user {row['user_id']} does not exist")

        for user in self.source.stream(src.BALANCES_SQL):
            while pending is not None and (pending["user_id"] is None or pending["user_id"] < user["id"]):
                orphan(pending)
                pending = next(transactions, None)
            own = []
            while pending is not None and pending["user_id"] == user["id"]:
                own.append(pending)
                pending = next(transactions, None)
            yield user["id"], user["credits"], user["created_at"], own
        while pending is not None:
            orphan(pending)
            pending = next(transactions, None)

    def _ledger_write(self, groups: list[tuple]) -> None:
        report, table = self.report, "credit_transactions"
        user_ids = [g[0] for g in groups]
        present = existing(User, "id", user_ids)
        done = {
            row[0]
            for row in query(
                f"SELECT DISTINCT user_id FROM {CreditTransaction._meta.db_table} "  # noqa: S608
                "WHERE user_id = ANY(%s) AND idempotency_key LIKE 'supabase:%%'",
                [list(present)],
            )
        }
        video_ids = list({t["video_id"] for g in groups for t in g[3] if t["video_id"]})
        owned = query(f"SELECT id, status, user_id FROM {Video._meta.db_table} WHERE id = ANY(%s)", [video_ids])  # noqa: S608
        subscriptions = existing(Subscription, "id", {t["subscription_id"] for g in groups for t in g[3]})
        rows, balances = [], {}
        for user_id, credits, opened_at, transactions in groups:
            if user_id not in present:
                if transactions:
                    report.skip(table, f"of user {user_id}", f"user not imported ({len(transactions)} rows)", len(transactions))
                continue
            if user_id in done:
                report.add(table, "already imported", len(transactions))
                continue
            plan = mapping.ledger_plan(
                user_id=user_id,
                credits=credits,
                opened_at=opened_at,
                transactions=transactions,
                # A transaction links only its own user's videos (one charge per video is a constraint).
                videos={video_id: status for video_id, status, owner in owned if owner == user_id},
                subscriptions=subscriptions,
            )
            for tx_id, reason in plan.skipped:
                report.skip(table, tx_id, reason)
            for message in plan.notes:
                report.note("user_profiles", user_id, message)
            if plan.rows:  # no rows: the profile's 0 already matches, and must not be touched again
                rows += plan.rows
                balances[user_id] = plan.balance
            report.add(table, "imported", len(transactions) - len(plan.skipped))
            report.add(table, "balance adjustments", sum(1 for r in plan.rows if r["idempotency_key"] in (
                "supabase:opening", "supabase:closing")))
        for row, pk in zip(rows, next_ids(CreditTransaction, len(rows)), strict=True):
            row["id"] = pk
        for row in rows:
            reverses = row.pop("_reverses", None)
            row["reverses_id"] = reverses["id"] if reverses else None
        insert_rows(CreditTransaction, rows, conflict=None)
        with raw_cursor() as cursor:
            if balances:
                cursor.execute(
                    f"UPDATE {Profile._meta.db_table} SET credits = b.credits "  # noqa: S608
                    "FROM unnest(%s::uuid[], %s::integer[]) AS b(user_id, credits) "
                    f"WHERE {Profile._meta.db_table}.user_id = b.user_id",
                    [list(balances), list(balances.values())],
                )
            charges = [(r["video_id"], r["id"]) for r in rows if r["type"] == "usage" and r.get("video_id")]
            if charges:
                cursor.execute(
                    f"UPDATE {Video._meta.db_table} SET debit_id = c.debit_id "  # noqa: S608
                    "FROM unnest(%s::uuid[], %s::bigint[]) AS c(video_id, debit_id) "
                    f"WHERE {Video._meta.db_table}.id = c.video_id AND {Video._meta.db_table}.debit_id IS NULL",
                    [[c[0] for c in charges], [c[1] for c in charges]],
                )
