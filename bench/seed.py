"""Seeds a benchmark database: many users, videos and ledger rows, consistent with the ledger.

Usage: DATABASE_URL=... python bench/seed.py --users 10000 --videos-per-user 10 --ledger-per-user 100 --out DIR
Writes DIR/tokens.txt (access tokens of bench users) and DIR/tasks.txt (KIE task ids awaiting a callback).
"""

import argparse
import os
import random
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "aiasmr.settings")

import django  # noqa: E402

django.setup()

from django.contrib.auth.hashers import make_password  # noqa: E402
from django.db import connection, models  # noqa: E402
from django.utils import timezone  # noqa: E402
from psycopg.types.json import Jsonb  # noqa: E402

from accounts.models import Profile, User  # noqa: E402
from accounts.services import auth_tokens_issue  # noqa: E402
from credits.models import CreditTransaction  # noqa: E402
from videos.models import Video, VideoStatus  # noqa: E402

STATUSES = [VideoStatus.READY] * 7 + [VideoStatus.FAILED, VideoStatus.PROCESSING, VideoStatus.SUBMITTED]


def copy_rows(model, rows) -> int:
    """COPY dict rows into the model's table; missing fields take the model's defaults."""
    # Serial ids are left to the database.
    fields = [f for f in model._meta.concrete_fields if not isinstance(f, models.AutoField | models.BigAutoField)]
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    count = 0
    copy_sql = f"COPY {model._meta.db_table} ({columns}) FROM STDIN"
    with connection.cursor() as cursor, cursor.cursor.copy(copy_sql) as copy:
        for row in rows:
            values = []
            for field in fields:
                if field.attname in row:
                    value = row[field.attname]
                elif field.has_default():
                    value = field.get_default()
                elif field.null:
                    value = None
                else:
                    value = "" if field.empty_strings_allowed else None
                if isinstance(field, models.JSONField):
                    value = Jsonb(value)
                values.append(value)
            copy.write_row(values)
            count += 1
    return count


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--videos-per-user", type=int, default=10)
    parser.add_argument("--ledger-per-user", type=int, default=100)
    parser.add_argument("--token-users", type=int, default=200)
    parser.add_argument("--callback-tasks", type=int, default=50_000)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    rng = random.Random(7)
    now = timezone.now()
    password = make_password("Bench-pass-123!")

    user_ids = [uuid.uuid4() for _ in range(args.users)]
    copy_rows(User, ({"id": uid, "email": f"bench{i}@example.com", "password": password, "date_joined": now}
                     for i, uid in enumerate(user_ids)))
    # Each user's ledger: a large purchase, then usage debits; the balance is the ledger's sum.
    balances = {}

    def ledger_rows():
        for uid in user_ids:
            balance = 10_000_000
            created = now - timedelta(days=60)
            yield {"user_id": uid, "type": "purchase", "amount": balance, "balance_after": balance,
                   "description": "Seed purchase", "created_at": created}
            for step in range(args.ledger_per_user - 1):
                amount = rng.choice((20, 25, 30))
                balance -= amount
                yield {"user_id": uid, "type": "usage", "amount": -amount, "balance_after": balance,
                       "description": "Seed usage", "created_at": created + timedelta(minutes=step + 1)}
            balances[uid] = balance

    ledger_count = copy_rows(CreditTransaction, ledger_rows())
    copy_rows(Profile, ({"user_id": uid, "credits": balances[uid], "created_at": now, "updated_at": now}
                        for uid in user_ids))

    task_ids = []

    def video_rows():
        for uid in user_ids:
            for n in range(args.videos_per_user):
                status = rng.choice(STATUSES)
                task_id = uuid.uuid4().hex
                if status == VideoStatus.SUBMITTED and len(task_ids) < args.callback_tasks:
                    task_ids.append(task_id)
                created = now - timedelta(hours=n)
                yield {"id": uuid.uuid4(), "user_id": uid, "status": status, "prompt": "Seeded ASMR prompt",
                       "enhanced_prompt": "ASMR video: Seeded ASMR prompt", "triggers": ["soap"],
                       "duration": 5, "quality": "720p", "aspect_ratio": "16:9", "credit_cost": 20,
                       "provider_task_id": task_id, "created_at": created, "updated_at": created,
                       "submitted_at": created}

    video_count = copy_rows(Video, video_rows())
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")

    token_users = User.objects.filter(pk__in=user_ids[: args.token_users])
    (out / "tokens.txt").write_text("\n".join(auth_tokens_issue(user=u)["token"] for u in token_users) + "\n")
    (out / "tasks.txt").write_text("\n".join(task_ids) + "\n")
    print(f"seeded {args.users} users, {video_count} videos, {ledger_count} ledger rows "
          f"in {time.monotonic() - started:.1f}s")


if __name__ == "__main__":
    main()
