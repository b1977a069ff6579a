"""manage.py import_supabase against a Supabase-shaped PostgreSQL database built from the shared schema."""

import io
import os
import uuid
from datetime import UTC, datetime, timedelta

import bcrypt
import psycopg
import pytest
import responses
from django.conf import settings
from django.contrib.auth.hashers import get_hashers, identify_hasher
from django.core.management import call_command
from django.core.management.base import CommandError
from django_tasks_db.models import DBTaskResult

from accounts.models import Profile, User
from billing.models import Order, Subscription
from credits.models import CreditTransaction
from tests.supabase_import.source_db import create_source, drop_source
from videos.models import Video
from videos.tasks import video_copy_task

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
SERVER_URL = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres")
SOURCE_NAME = "aiasmr_import_src_test"
ID = {name: uuid.UUID(int=n) for n, name in enumerate(
    ["alice", "bob", "bob_dup", "carol", "dave", "erin", "frank", "ghost",
     "v_ready", "v_failed", "v_processing", "v_stale", "v_external", "v_orphan", "v_dup_task",
     "t1", "t2", "t3", "t4", "t5", "t_zero", "t_orphan", "t_null", "t_dave1", "t_dave2", "t_frank",
     "sub", "order", "order_orphan", "t_cross", "greedy", "t_big1", "t_big2"], start=1)}
ALICE_PASSWORD = "alice-old-Pass1"
BOB_PASSWORD = "bob-old-Pass1"
ODD = "Zoë \u202eRTL\u202c \U0001d518\U0001d52b\U0001d526 \u200d\U0001f9fc \uffff \u0301combining"


def bcrypt_hash(password: str, prefix: str = "$2a$") -> str:
    """As bcryptjs (Express) and GoTrue (Supabase auth) write it: $2a$."""
    return prefix + bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds=4)).decode()[4:]


def media(path: str) -> str:
    return f"{settings.BASE_URL.rstrip('/')}{settings.MEDIA_URL}{path}"


def fill(url: str) -> None:
    at = lambda minutes: T0 + timedelta(minutes=minutes)  # noqa: E731
    with psycopg.connect(url, autocommit=True) as conn:
        auth = "INSERT INTO auth.users (id, email, encrypted_password, created_at) VALUES (%s, %s, %s, %s)"
        conn.execute(auth, (ID["alice"], "alice@example.com", bcrypt_hash("supabase-side-other"), at(0)))
        conn.execute(auth, (ID["bob"], "Bob@Example.COM", bcrypt_hash(BOB_PASSWORD), at(1)))
        conn.execute(auth, (ID["bob_dup"], "BOB@example.com", bcrypt_hash("x"), at(2)))
        conn.execute(auth, (ID["carol"], None, bcrypt_hash("x"), at(3)))
        conn.execute(auth, (ID["dave"], "dave@example.com", None, at(4)))
        conn.execute(auth, (ID["erin"], "erin@example.com", bcrypt_hash("erin-Pass-1", "$2b$"), at(5)))
        conn.execute(auth, (ID["frank"], "frank@example.com", bcrypt_hash("x"), at(6)))
        conn.execute(auth, (ID["greedy"], "greedy@example.com", bcrypt_hash("x"), at(7)))
        profile = (
            "INSERT INTO public.user_profiles (id, email, full_name, plan_type, credits, password_hash, created_at, "
            "max_duration) VALUES (%s, %s, %s, %s, %s, %s, %s, '8s')"
        )
        # Express wrote password_hash at registration: it wins over the auth copy.
        conn.execute(profile, (ID["alice"], "alice@example.com", "Alice Liddell", "basic", 100,
                               bcrypt_hash(ALICE_PASSWORD), at(0)))
        conn.execute(profile, (ID["bob"], "Bob@Example.COM", "Bob", "free", -5, None, at(1)))
        conn.execute(profile, (ID["bob_dup"], "BOB@example.com", "Bob Again", "free", 20, None, at(2)))
        conn.execute(profile, (ID["carol"], None, "Carol", "free", 20, None, at(3)))
        conn.execute(profile, (ID["dave"], "dave@example.com", "Dave", "pro", 0, None, at(4)))
        conn.execute(profile, (ID["erin"], "erin@example.com", ODD, "free", 20, None, at(5)))
        conn.execute(profile, (ID["greedy"], "greedy@example.com", "Greedy", "free", 2_000_000_000, None, at(7)))
        # frank has no profile row at all.
        video = (
            "INSERT INTO public.videos (id, user_id, title, prompt, triggers, category, status, credit_cost, "
            "duration, quality, aspect_ratio, task_id, download_url, thumbnail_url, created_at, error_message) "
            "VALUES (%s, %s, 't', %s, %s, 'Soap', %s, %s, %s, '720p', %s, %s, %s, %s, %s, %s)"
        )
        conn.execute(video, (ID["v_ready"], ID["alice"], "soap " + ODD, ["soap", ODD], "ready", 20, "5s", "9:16",
                             "task-ready", media("videos/alice/ready.mp4"), media("thumbnails/alice/ready.jpg"),
                             at(10), None))
        conn.execute(video, (ID["v_failed"], ID["alice"], "ice", ["ice"], "failed", 25, "5s", "16:9", "task-failed",
                             None, None, at(11), "KIE said no"))
        conn.execute(video, (ID["v_processing"], ID["alice"], "honey", [], "processing", 20, "8s", "1:1",
                             "task-proc", None, None, at(12), None))
        conn.execute(video, (ID["v_stale"], ID["alice"], "water", [], "processing", 20, "5s", "4:3",
                             None, None, None, at(13), None))
        conn.execute(video, (ID["v_external"], ID["alice"], "pages", [], "ready", 20, "5s", "16:9", "task-ext",
                             "https://old-cdn.example.com/v.mp4", "https://old-cdn.example.com/v.jpg", at(14), None))
        conn.execute(video, (ID["v_orphan"], ID["ghost"], "orphan", [], "ready", 20, "5s", "16:9", None,
                             None, None, at(15), None))
        conn.execute(video, (ID["v_dup_task"], ID["erin"], "dup task", [], "ready", 20, "5s", "16:9", "task-ready",
                             None, None, at(16), None))
        tx = (
            "INSERT INTO public.credit_transactions (id, user_id, transaction_type, amount, description, video_id, "
            "subscription_id, created_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)"
        )
        # alice: 20 signup credits Express never logged, then 100 bought, 20 + 25 spent, 25 refunded -> 100.
        conn.execute(tx, (ID["t1"], ID["alice"], "purchase", 100, "Basic pack", None, ID["sub"], at(9)))
        conn.execute(tx, (ID["t2"], ID["alice"], "usage", -20, "gen " + ODD, ID["v_ready"], None, at(10)))
        conn.execute(tx, (ID["t3"], ID["alice"], "usage", -25, "gen", ID["v_failed"], None, at(11)))
        conn.execute(tx, (ID["t4"], ID["alice"], "refund", 25, "refund", ID["v_failed"], None, at(12)))
        conn.execute(tx, (ID["t_zero"], ID["alice"], "bonus", 0, "nothing", None, None, at(13)))
        # dave's ledger spends before it earns and disagrees with his balance of 0.
        conn.execute(tx, (ID["t_dave1"], ID["dave"], "usage", -30, "gen", None, None, at(20)))
        conn.execute(tx, (ID["t_dave2"], ID["dave"], "purchase", 10, "pack", None, None, at(21)))
        conn.execute(tx, (ID["t_frank"], ID["frank"], "bonus", 10, "check-in", None, None, at(22)))
        conn.execute(tx, (ID["t_cross"], ID["erin"], "usage", -5, "someone else's video", ID["v_ready"], None, at(22)))
        # greedy's running balance passes 2**31: the database refuses that ledger, and only that one.
        conn.execute(tx, (ID["t_big1"], ID["greedy"], "purchase", 2_000_000_000, "big", None, None, at(30)))
        conn.execute(tx, (ID["t_big2"], ID["greedy"], "purchase", 2_000_000_000, "bigger", None, None, at(31)))
        conn.execute(tx, (ID["t5"], ID["bob_dup"], "bonus", 5, "dup's", None, None, at(23)))
        conn.execute(tx, (ID["t_orphan"], ID["ghost"], "bonus", 5, "orphan", None, None, at(24)))
        conn.execute(tx, (ID["t_null"], None, "bonus", 5, "no user", None, None, at(25)))
        conn.execute(
            "INSERT INTO public.subscriptions (id, user_id, stripe_subscription_id, stripe_customer_id, plan_type, "
            "status, current_period_start, current_period_end, created_at) "
            "VALUES (%s, %s, 'sub_123', 'cus_123', 'basic', 'active', %s, %s, %s)",
            (ID["sub"], ID["alice"], at(9), at(9) + timedelta(days=30), at(9)),
        )
        order = (
            "INSERT INTO public.orders (id, user_id, product_id, product_name, price, credits, type, status, "
            "checkout_id, payment_method, created_at, completed_at) "
            "VALUES (%s, %s, 'basic', 'Basic', 999, 100, 'once', 'completed', %s, 'stripe', %s, %s)"
        )
        conn.execute(order, (ID["order"], ID["alice"], "pi_alice_1", at(9), at(9)))
        conn.execute(order, (ID["order_orphan"], ID["ghost"], "pi_ghost_1", at(9), at(9)))


@pytest.fixture(autouse=True)
def _old_cdn_fetchable(settings):
    """The copy task may fetch from the Express-era CDN (as the runbook asks)."""
    settings.KIE_FILE_HOSTS = [*settings.KIE_FILE_HOSTS, "old-cdn.example.com"]


@pytest.fixture
def source():
    url = create_source(SERVER_URL, SOURCE_NAME)
    fill(url)
    yield url
    drop_source(SERVER_URL, SOURCE_NAME)


def run_import(url: str, *extra: str) -> str:
    out = io.StringIO()
    call_command("import_supabase", "--source", url, "--batch-size", "3", "--no-progress", *extra, stdout=out)
    return out.getvalue()


def snapshot() -> dict:
    return {
        "users": sorted(User.objects.values_list("id", "email", "password")),
        "balances": sorted(Profile.objects.values_list("user_id", "credits")),
        "ledger": sorted(CreditTransaction.objects.values_list("id", "user_id", "type", "amount", "balance_after")),
        "videos": sorted(Video.objects.values_list("id", "status", "debit_id")),
        "orders": sorted(Order.objects.values_list("id", "status")),
        "subscriptions": sorted(Subscription.objects.values_list("id", "status")),
        "tasks": DBTaskResult.objects.count(),
    }


def audit() -> str:
    out = io.StringIO()
    call_command("credits_audit", "--no-progress", stdout=out)
    return out.getvalue()


def test_dry_run_writes_nothing_and_says_what_it_would_do(source):
    before = snapshot()
    output = run_import(source, "--dry-run")
    assert snapshot() == before
    assert "DRY RUN" in output
    assert "users                  imported               6" in output


def test_imported_user_signs_in_with_the_old_password_and_sees_balance_and_videos(source, api_client):
    output = run_import(source)

    login = api_client.post("/api/auth/login", {"email": "Alice@Example.com", "password": ALICE_PASSWORD}, format="json")
    assert login.status_code == 200, login.content
    alice = User.objects.get(pk=ID["alice"])
    # Django re-hashed the bcrypt hash with the project's preferred hasher at this first sign-in.
    assert identify_hasher(alice.password).algorithm == get_hashers()[0].algorithm
    assert api_client.post(
        "/api/auth/login", {"email": "alice@example.com", "password": ALICE_PASSWORD}, format="json"
    ).status_code == 200
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {login.json()['data']['token']}")
    assert api_client.get("/api/credits/balance").json()["data"]["balance"] == 100
    listed = api_client.get("/api/videos").json()["data"]
    assert {v["id"] for v in listed["videos"]} == {
        str(ID[name]) for name in ("v_ready", "v_failed", "v_processing", "v_stale", "v_external")
    }

    # The ledger keeps each Supabase row (id as key, type, amount, time, video) after one opening row.
    ledger = list(CreditTransaction.objects.filter(user=alice).order_by("created_at", "id"))
    assert [(t.idempotency_key, t.type, t.amount, t.balance_after) for t in ledger] == [
        ("supabase:opening", "adjustment", 20, 20),
        (f"supabase:{ID['t1']}", "purchase", 100, 120),
        (f"supabase:{ID['t2']}", "usage", -20, 100),
        (f"supabase:{ID['t3']}", "usage", -25, 75),
        (f"supabase:{ID['t4']}", "refund", 25, 100),
    ]
    assert "showed 100 credits, its ledger summed to 80" in ledger[0].description
    # The history shows each imported entry under the id the app knew; the opening row under its own.
    history = api_client.get("/api/credits/history").json()["data"]["transactions"]
    assert [row["id"] for row in reversed(history)] == [
        str(ledger[0].pk), str(ID["t1"]), str(ID["t2"]), str(ID["t3"]), str(ID["t4"])
    ]
    assert ledger[1].created_at == T0 + timedelta(minutes=9) and ledger[1].subscription_id == ID["sub"]
    assert ledger[2].video_id == ID["v_ready"] and ledger[4].reverses_id == ledger[3].pk
    assert ODD.replace("\uffff", "\uffff") in ledger[2].description

    videos = {v.pk: v for v in Video.objects.filter(user=alice)}
    ready = videos[ID["v_ready"]]
    assert (ready.status, ready.video_file.name, ready.thumbnail_file.name) == (
        "ready", "videos/alice/ready.mp4", "thumbnails/alice/ready.jpg"
    )
    assert (ready.prompt, ready.triggers, ready.aspect_ratio, ready.provider_task_id, ready.debit_id) == (
        "soap " + ODD, ["soap", ODD], "9:16", "task-ready", ledger[2].pk
    )
    assert videos[ID["v_failed"]].status == "failed" and videos[ID["v_failed"]].error_message == "KIE said no"
    assert (videos[ID["v_processing"]].status, videos[ID["v_processing"]].duration) == ("processing", 8)
    assert videos[ID["v_stale"]].status == "failed" and videos[ID["v_stale"]].aspect_ratio == "4:3"
    external = videos[ID["v_external"]]
    assert (external.status, external.provider_video_url) == ("storing", "https://old-cdn.example.com/v.mp4")
    # Not left for the sweep to call stuck: it was just queued (its creation time is the Supabase one).
    assert external.updated_at > T0 + timedelta(days=365) and external.created_at == T0 + timedelta(minutes=14)
    copy = DBTaskResult.objects.get(task_path="videos.tasks.video_copy_task")
    assert copy.args_kwargs["kwargs"] == {"video_id": str(ID["v_external"])}

    # Orders and subscriptions keep their provider ids for later webhooks.
    assert Order.objects.get(provider_payment_id="pi_alice_1").pk == ID["order"]
    subscription = Subscription.objects.get(provider_subscription_id="sub_123")
    assert (subscription.pk, subscription.status, subscription.plan.slug) == (ID["sub"], "active", "basic")

    # Hostile rows: reported, skipped, and the run went on.
    assert f"SKIPPED users {ID['bob_dup']}: email bob@example.com is also user {ID['bob']}" in output
    assert f"SKIPPED users {ID['carol']}: no email" in output
    assert f"SKIPPED credit_transactions {ID['t_orphan']}: orphan" in output
    assert f"SKIPPED credit_transactions {ID['t_null']}: orphan" in output
    assert f"SKIPPED credit_transactions {ID['t_zero']}: zero amount" in output
    assert f"SKIPPED videos {ID['v_orphan']}: user {ID['ghost']} not imported" in output
    assert f"SKIPPED orders {ID['order_orphan']}" in output
    assert f"NOTE user_profiles {ID['bob']}: negative balance -5 imported as 0" in output
    assert Video.objects.get(pk=ID["v_dup_task"]).provider_task_id is None
    assert not User.objects.filter(pk__in=[ID["bob_dup"], ID["carol"]]).exists()

    bob = User.objects.get(pk=ID["bob"])
    assert (bob.email, bob.profile.credits) == ("bob@example.com", 0)
    assert api_client.post("/api/auth/login", {"email": "bob@example.com", "password": BOB_PASSWORD},
                           format="json").status_code == 200
    dave = User.objects.get(pk=ID["dave"])
    assert not dave.has_usable_password() and dave.profile.credits == 0 and dave.profile.plan_type == "pro"
    assert list(dave.credit_transactions.order_by("created_at", "id").values_list("amount", "balance_after")) == [
        (30, 30), (-30, 0), (10, 10), (-10, 0)
    ]
    erin = User.objects.get(pk=ID["erin"])
    assert (erin.profile.first_name, erin.profile.credits) == ("Zoë", 20)
    cross = CreditTransaction.objects.get(idempotency_key=f"supabase:{ID['t_cross']}")
    assert (cross.user_id, cross.amount, cross.video_id) == (ID["erin"], -5, None)  # not alice's video
    assert Profile.objects.get(pk=ID["frank"]).credits == 0
    assert f"SKIPPED credit_transactions of user {ID['greedy']}: database refused it: " in output
    assert "out of range for type integer" in output
    # Counted once, though greedy's batch was tried whole and then user by user.
    assert "credit_transactions    imported               8\n" in output
    assert output.count(f"SKIPPED credit_transactions of user {ID['greedy']}") == 1
    greedy = User.objects.get(pk=ID["greedy"])
    assert greedy.profile.credits == 0 and not greedy.credit_transactions.exists()

    assert "credits audit clean" in audit()


@responses.activate
def test_media_outside_the_bucket_is_copied_by_the_copy_task(source, settings, tmp_path):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path), "base_url": "http://testserver/media/"},
        },
    }
    responses.get("https://old-cdn.example.com/v.mp4", body=b"\x00\x00\x00\x18ftypmp42", content_type="video/mp4")
    responses.get("https://old-cdn.example.com/v.jpg", body=b"\xff\xd8\xff\xe0", content_type="image/jpeg")
    run_import(source)
    balance = Profile.objects.get(pk=ID["alice"]).credits

    video_copy_task.call(video_id=str(ID["v_external"]))

    video = Video.objects.get(pk=ID["v_external"])
    assert (video.status, video.video_file.name, video.thumbnail_file.name) == (
        "ready", f"videos/{ID['alice']}/{ID['v_external']}.mp4", f"thumbnails/{ID['alice']}/{ID['v_external']}.jpg"
    )
    assert (tmp_path / video.video_file.name).read_bytes() == b"\x00\x00\x00\x18ftypmp42"
    assert Profile.objects.get(pk=ID["alice"]).credits == balance


def test_a_second_run_changes_nothing(source):
    run_import(source)
    first = snapshot()
    output = run_import(source)
    assert snapshot() == first
    assert "users                  already imported       6" in output
    assert "imported               " not in output.replace("already imported", "")
    assert "credits audit clean" in audit()


def test_an_interrupted_import_resumes_without_duplicates(source):
    run_import(source)
    complete = snapshot()
    # As if the run had stopped after the users: later phases' rows are gone, the users stay.
    CreditTransaction.objects.filter(reverses__isnull=False).delete()
    CreditTransaction.objects.all().delete()
    Profile.objects.update(credits=0)
    Video.objects.all().delete()
    DBTaskResult.objects.all().delete()
    run_import(source)
    resumed = snapshot()
    ids_differ = ("ledger", "videos")  # the resumed ledger rows got new ids, and the videos' debit ids with them
    assert {k: v for k, v in resumed.items() if k not in ids_differ} == {
        k: v for k, v in complete.items() if k not in ids_differ
    }
    assert [(v, s, bool(d)) for v, s, d in resumed["videos"]] == [(v, s, bool(d)) for v, s, d in complete["videos"]]
    assert sorted(row[1:] for row in resumed["ledger"]) == sorted(row[1:] for row in complete["ledger"])
    assert "credits audit clean" in audit()


def test_media_the_copy_task_could_not_fetch_stops_the_run_before_it_writes(source, settings):
    settings.KIE_FILE_HOSTS = []
    with pytest.raises(CommandError, match="old-cdn.example.com.*KIE_FILE_HOSTS"):
        run_import(source)
    assert not User.objects.exists()

    output = run_import(source, "--without-unfetchable-media")
    external = Video.objects.get(pk=ID["v_external"])
    assert (external.status, external.video_file.name, external.provider_video_url) == ("ready", "", "")
    assert f"NOTE videos {ID['v_external']}: media on a host the copy task may not fetch from" in output
    assert not DBTaskResult.objects.filter(task_path="videos.tasks.video_copy_task").exists()


def test_an_unreachable_source_is_a_clear_error():
    with pytest.raises(CommandError, match="cannot connect to the source database"):
        run_import("postgres://postgres@127.0.0.1:1/nothing?connect_timeout=2")
    assert not User.objects.exists()


def test_a_schema_missing_a_table_is_a_clear_error():
    url = create_source(SERVER_URL, SOURCE_NAME, skip_tables=("public.orders",))
    try:
        with pytest.raises(CommandError, match="missing table.*public.orders"):
            run_import(url)
    finally:
        drop_source(SERVER_URL, SOURCE_NAME)
    assert not User.objects.exists()


def test_a_schema_missing_a_column_is_a_clear_error():
    url = create_source(SERVER_URL, SOURCE_NAME)
    try:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("ALTER TABLE public.user_profiles DROP COLUMN credits")
        with pytest.raises(CommandError, match="public.user_profiles lacks credits"):
            run_import(url)
    finally:
        drop_source(SERVER_URL, SOURCE_NAME)
    assert not User.objects.exists()
