"""Seeds a benchmark database: many users, videos and ledger rows, consistent with the ledger.

Usage: DATABASE_URL=... python bench/seed.py --users 10000 --videos-per-user 10 --ledger-per-user 100 --out DIR
Writes, in DIR:
  tokens.txt        access tokens of the first --token-users users (the reads, generate, uploads)
  tasks.txt         KIE task ids of submitted jobs awaiting a callback
  videos.txt        "token video-id": ready videos of those users (video detail)
  status_fresh.txt  "token video-id": jobs in progress whose KIE refresh is not due during the run
  status_due.txt    "token video-id": jobs in progress whose KIE refresh is due (last checked an hour ago)
  kie_tasks.txt     the KIE task ids of the due jobs (bench/fake_kie_jobs.py answers `generating` for them)
  upload.png        the image the upload benchmark sends
The status jobs belong to --poll-users extra users, so the other users' lists keep their size.
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
from PIL import Image  # noqa: E402
from psycopg.types.json import Jsonb  # noqa: E402

from accounts.models import Profile, User  # noqa: E402
from accounts.services import auth_tokens_issue  # noqa: E402
from credits.models import CreditTransaction  # noqa: E402
from videos.models import Video, VideoStatus  # noqa: E402

STATUSES = [VideoStatus.READY] * 7 + [VideoStatus.FAILED, VideoStatus.PROCESSING, VideoStatus.SUBMITTED]
# A job the status view refreshed from KIE less than GENERATION_STATUS_REFRESH_SECONDS ago is answered
# from the database alone. "Not due" for the whole run: the last check is stamped a day ahead.
FRESH_CHECK = timedelta(days=1)


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


def write_lines(path: Path, lines) -> None:
    path.write_text("".join(f"{line}\n" for line in lines))


def upload_image(side: int) -> Image.Image:
    """A photo-like PNG (smooth gradients, a fractal's edges, some grain): neither compressible to nothing
    nor pure noise. At 512 px it is about 290 KB."""
    gradient = Image.linear_gradient("L").resize((side, side))
    fractal = Image.effect_mandelbrot((side, side), (-2, -1.25, 0.75, 1.25), 100)
    grain = Image.blend(gradient, Image.effect_noise((side, side), 64), 0.15)
    return Image.merge("RGB", (gradient, fractal, grain))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--videos-per-user", type=int, default=10)
    parser.add_argument("--ledger-per-user", type=int, default=100)
    parser.add_argument("--token-users", type=int, default=200)
    parser.add_argument("--callback-tasks", type=int, default=50_000)
    parser.add_argument("--poll-users", type=int, default=200)
    parser.add_argument("--fresh-jobs", type=int, default=2_000)
    parser.add_argument("--due-jobs", type=int, default=6_000)
    parser.add_argument("--upload-side", type=int, default=512)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    rng = random.Random(7)
    now = timezone.now()
    password = make_password("Bench-pass-123!")

    user_ids = [uuid.uuid4() for _ in range(args.users)]
    poll_user_ids = [uuid.uuid4() for _ in range(args.poll_users)]
    emails = [f"bench{i}@example.com" for i in range(args.users)] + [
        f"bench-poll{i}@example.com" for i in range(args.poll_users)
    ]
    copy_rows(User, ({"id": uid, "email": email, "password": password, "date_joined": now}
                     for uid, email in zip(user_ids + poll_user_ids, emails, strict=True)))
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
        for uid in poll_user_ids:
            balances[uid] = 10_000_000
            yield {"user_id": uid, "type": "purchase", "amount": balances[uid], "balance_after": balances[uid],
                   "description": "Seed purchase", "created_at": now - timedelta(days=60)}

    ledger_count = copy_rows(CreditTransaction, ledger_rows())
    copy_rows(Profile, ({"user_id": uid, "credits": balances[uid], "created_at": now, "updated_at": now}
                        for uid in user_ids + poll_user_ids))

    task_ids = []
    token_user_ids = set(user_ids[: args.token_users])
    ready_videos = []  # (owner, video id) of the token users
    poll_jobs = {"fresh": [], "due": []}  # (owner, video id, KIE task id)

    def video_row(uid, status, created, **extra):
        return {"id": uuid.uuid4(), "user_id": uid, "status": status, "prompt": "Seeded ASMR prompt",
                "enhanced_prompt": "ASMR video: Seeded ASMR prompt", "triggers": ["soap"],
                "duration": 5, "quality": "720p", "aspect_ratio": "16:9", "credit_cost": 20,
                "provider_task_id": uuid.uuid4().hex, "created_at": created, "updated_at": created,
                "submitted_at": created, **extra}

    def video_rows():
        for uid in user_ids:
            for n in range(args.videos_per_user):
                row = video_row(uid, rng.choice(STATUSES), now - timedelta(hours=n))
                if row["status"] == VideoStatus.SUBMITTED and len(task_ids) < args.callback_tasks:
                    task_ids.append(row["provider_task_id"])
                if row["status"] == VideoStatus.READY and uid in token_user_ids:
                    ready_videos.append((uid, row["id"]))
                yield row
        # Jobs KIE is generating, submitted an hour ago: only the last check differs.
        last_check = {"fresh": now + FRESH_CHECK, "due": now - timedelta(hours=1)}
        for kind, count in (("fresh", args.fresh_jobs), ("due", args.due_jobs)):
            for n in range(count if poll_user_ids else 0):
                uid = poll_user_ids[n % len(poll_user_ids)]
                row = video_row(uid, VideoStatus.PROCESSING, now - timedelta(hours=1),
                                provider_state="generating", last_synced_at=last_check[kind])
                poll_jobs[kind].append((uid, row["id"], row["provider_task_id"]))
                yield row

    video_count = copy_rows(Video, video_rows())
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")

    tokens = {user.pk: auth_tokens_issue(user=user)["token"]
              for user in User.objects.filter(pk__in=[*token_user_ids, *poll_user_ids])}
    write_lines(out / "tokens.txt", (tokens[uid] for uid in user_ids[: args.token_users]))
    write_lines(out / "tasks.txt", task_ids)
    write_lines(out / "videos.txt", (f"{tokens[uid]} {video_id}" for uid, video_id in ready_videos))
    for kind, jobs in poll_jobs.items():
        write_lines(out / f"status_{kind}.txt", (f"{tokens[uid]} {video_id}" for uid, video_id, _ in jobs))
    write_lines(out / "kie_tasks.txt", (task_id for _, _, task_id in poll_jobs["due"]))
    upload_image(args.upload_side).save(out / "upload.png", format="PNG")
    print(f"seeded {args.users} users (+{args.poll_users} polling), {video_count} videos "
          f"({len(poll_jobs['fresh'])} + {len(poll_jobs['due'])} status jobs), {ledger_count} ledger rows "
          f"in {time.monotonic() - started:.1f}s")


if __name__ == "__main__":
    main()
