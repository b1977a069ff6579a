"""Times `manage.py import_supabase` on a generated Supabase database (not part of `make test`).

Usage: python bench/import_supabase.py [--users 100000] [--tx-per-user 10] [--videos-per-user 3] [--rerun]

Builds `aiasmr_import_bench_src` from the shared schema (tests/supabase_import/source_db.py) and fills it
with COPY; creates and migrates `aiasmr_import_bench`; runs the import in a subprocess and prints rows/s
and the command's peak RSS; then `credits_audit`, and with --rerun a second (idempotent) import.
"""

import argparse
import os
import random
import re
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import bcrypt
import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.supabase_import.source_db import create_source, database_url  # noqa: E402

SERVER = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432/postgres")
SOURCE_DB = "aiasmr_import_bench_src"
TARGET_DB = "aiasmr_import_bench"
MEDIA = "http://localhost:8000/media/"  # the configured (local) storage's URL: objects kept in place
T0 = datetime(2025, 1, 1, tzinfo=UTC)


def fill(url: str, *, users: int, tx_per_user: int, videos_per_user: int) -> dict:
    rng = random.Random(7)
    password = "$2a$" + bcrypt.hashpw(b"bench-Pass-1", bcrypt.gensalt(rounds=10)).decode()[4:]
    counts = {"users": users, "credit_transactions": 0, "videos": 0}
    with psycopg.connect(url) as conn, conn.cursor() as cur:
        user_ids = [uuid.UUID(int=rng.getrandbits(128)) for _ in range(users)]
        with cur.copy("COPY auth.users (id, email, encrypted_password, created_at) FROM STDIN") as copy:
            for n, user_id in enumerate(user_ids):
                copy.write_row((user_id, f"user{n}@example.com", password, T0 + timedelta(seconds=n)))
        video_ids: list[list[uuid.UUID]] = []
        with cur.copy(
            "COPY public.videos (id, user_id, title, prompt, triggers, category, status, credit_cost, duration, "
            "quality, aspect_ratio, task_id, download_url, thumbnail_url, created_at) FROM STDIN"
        ) as copy:
            for n, user_id in enumerate(user_ids):
                own = []
                for k in range(videos_per_user):
                    video_id = uuid.UUID(int=rng.getrandbits(128))
                    own.append(video_id)
                    roll = rng.random()
                    status = "failed" if roll < 0.05 else "processing" if roll < 0.06 else "ready"
                    external = status == "ready" and rng.random() < 0.01
                    base = "https://old-cdn.example.com/" if external else MEDIA
                    url_video = f"{base}videos/{user_id}/{video_id}.mp4" if status == "ready" else None
                    url_thumb = f"{base}thumbnails/{user_id}/{video_id}.jpg" if status == "ready" else None
                    copy.write_row((
                        video_id, user_id, "ASMR", f"Slow soap cutting #{n}-{k}", ["soap", "crisp"], "Soap", status,
                        20, "5s", "720p", "16:9", f"task-{video_id.hex}", url_video, url_thumb,
                        T0 + timedelta(seconds=n, milliseconds=k),
                    ))
                    counts["videos"] += 1
                video_ids.append(own)
        balances = []
        with cur.copy(
            "COPY public.credit_transactions (id, user_id, transaction_type, amount, description, video_id, "
            "created_at) FROM STDIN"
        ) as copy:
            for n, user_id in enumerate(user_ids):
                at = T0 + timedelta(seconds=n)
                balance = 20  # Express's signup credits, never logged: each user needs an opening row
                for k in range(tx_per_user):
                    if k % 3 == 0:
                        kind, amount, video = "purchase", 100, None
                    else:
                        own = video_ids[n]
                        video = own[k % len(own)] if own and k < 2 * len(own) else None
                        kind, amount = "usage", -20
                        if balance + amount < 0:
                            kind, amount, video = "bonus", 5, None
                    balance += amount
                    copy.write_row((uuid.UUID(int=rng.getrandbits(128)), user_id, kind, amount, "bench", video,
                                    at + timedelta(minutes=k)))
                    counts["credit_transactions"] += 1
                balances.append(balance if n % 50 else balance + 7)  # some ledgers disagree with the balance
        with cur.copy(
            "COPY public.user_profiles (id, email, full_name, plan_type, credits, created_at) FROM STDIN"
        ) as copy:
            for n, user_id in enumerate(user_ids):
                copy.write_row((user_id, f"user{n}@example.com", f"User {n}", "free", balances[n],
                                T0 + timedelta(seconds=n)))
        with cur.copy(
            "COPY public.orders (id, user_id, product_id, product_name, price, credits, type, status, checkout_id, "
            "payment_method, created_at, completed_at) FROM STDIN"
        ) as copy:
            for n, user_id in enumerate(user_ids[::10]):  # one user in ten bought a pack
                at = T0 + timedelta(seconds=10 * n)
                copy.write_row((uuid.UUID(int=rng.getrandbits(128)), user_id, "basic", "Basic", 999, 100, "once",
                                "completed", f"pi_bench_{n}", "stripe", at, at))
                counts["orders"] = counts.get("orders", 0) + 1
        with cur.copy(
            "COPY public.subscriptions (id, user_id, stripe_subscription_id, stripe_customer_id, plan_type, status, "
            "current_period_start, current_period_end, created_at) FROM STDIN"
        ) as copy:
            for n, user_id in enumerate(user_ids[::30]):  # one in thirty subscribes
                at = T0 + timedelta(seconds=30 * n)
                copy.write_row((uuid.UUID(int=rng.getrandbits(128)), user_id, f"sub_bench_{n}", f"cus_bench_{n}",
                                "pro" if n % 2 else "basic", "active" if n % 4 else "canceled", at,
                                at + timedelta(days=30), at))
                counts["subscriptions"] = counts.get("subscriptions", 0) + 1
        conn.commit()
        cur.execute("ANALYZE")
    return counts


def manage(*args: str, env: dict, capture: bool = False) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True, text=True,
        stdout=subprocess.PIPE if capture else None,
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--tx-per-user", type=int, default=10)
    parser.add_argument("--videos-per-user", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=5000)
    parser.add_argument("--rerun", action="store_true", help="Time a second, idempotent run too.")
    parser.add_argument("--reuse-source", action="store_true", help="Keep the source of the previous run.")
    args = parser.parse_args()

    started = time.monotonic()
    if args.reuse_source:
        source = database_url(SERVER, SOURCE_DB)
        with psycopg.connect(source) as conn:
            counts = {
                table: conn.execute(f"SELECT count(*) FROM {name}").fetchone()[0]
                for table, name in (("users", "auth.users"), ("credit_transactions", "public.credit_transactions"),
                                    ("videos", "public.videos"), ("orders", "public.orders"),
                                    ("subscriptions", "public.subscriptions"))
            }
    else:
        source = create_source(SERVER, SOURCE_DB)
        counts = fill(source, users=args.users, tx_per_user=args.tx_per_user, videos_per_user=args.videos_per_user)
    print(f"source ready in {time.monotonic() - started:.0f}s: {counts}", flush=True)

    with psycopg.connect(database_url(SERVER, "postgres"), autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{TARGET_DB}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{TARGET_DB}"')
    env = {**os.environ, "DATABASE_URL": database_url(SERVER, TARGET_DB), "BASE_URL": "http://localhost:8000",
           "LOG_LEVEL": "warning", "KIE_FILE_HOSTS": "old-cdn.example.com"}
    manage("migrate", "-v", "0", env=env)

    total_rows = sum(counts.values())
    for label in ["import"] + (["rerun"] if args.rerun else []):
        began = time.monotonic()
        result = manage("import_supabase", "--source", source, "--batch-size", str(args.batch_size),
                        env=env, capture=True)
        elapsed = time.monotonic() - began
        rss = re.search(r"peak RSS (\d+) MB", result.stdout)
        summary = result.stdout[result.stdout.find("Import finished"):]
        print(summary.strip())
        print(f"{label}: {total_rows} source rows in {elapsed:.1f}s = {total_rows / elapsed:,.0f} rows/s, "
              f"peak RSS {rss.group(1) if rss else '?'} MB", flush=True)
    began = time.monotonic()
    audit = manage("credits_audit", "--no-progress", env=env, capture=True)
    print(f"credits_audit: {audit.stdout.strip()} ({time.monotonic() - began:.1f}s)")


if __name__ == "__main__":
    main()
