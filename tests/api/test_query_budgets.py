"""Query budgets: every mobile read runs a small, constant number of SQL queries (the same with 1 or 100
videos and ledger rows), and the main writes stay within a budget.

A read that starts costing one query per item (a missing select_related, a per-row lookup in a
serializer) fails the 1-vs-100 comparison; a read or write that grows past its budget fails the budget.
"""

import pytest
from django.test import override_settings
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.services import auth_tokens_issue
from billing.catalog import catalog_ensure
from billing.models import Plan, Subscription
from credits.services import credits_grant, credits_refund, credits_spend
from tests.factories import DEFAULT_PASSWORD, UserFactory
from videos.models import Video, VideoStatus

pytestmark = pytest.mark.django_db

STATUSES = [VideoStatus.READY, VideoStatus.FAILED, VideoStatus.PROCESSING, VideoStatus.QUEUED]

# Per read: the most queries it may run (what it runs today: the authenticated user with its profile,
# then the read itself; a read never costs a query per item).
READ_BUDGETS = {
    "/api/user/profile": 2,  # user+profile, plan entitlements
    "/api/user/preferences": 1,
    "/api/user/statistics": 3,  # + video aggregate, ledger aggregate
    "/api/credits/balance": 1,
    "/api/credits/history": 3,  # + count, page
    "/api/credits/usage": 4,  # + Express's totals, by day, by quality
    "/api/credits/packages": 1,  # public: no user
    "/api/billing/plans": 1,  # public: no user
    "/api/billing/subscription": 3,  # + subscription with plan, entitlements
    "/api/videos": 3,  # + count, page
    "/api/videos/{video}": 2,
    "/api/videos/stats": 2,  # + one aggregate
    "/api/generate/status/{video}": 2,
}


@pytest.fixture(autouse=True)
def _catalog():
    catalog_ensure()


def _client(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {auth_tokens_issue(user=user)['token']}")
    return client


def _user_with_items(count: int):
    """A user with `count` videos in every state (stored files included), each charged through the
    ledger and the failed ones refunded, on a pro subscription: `count` x 2-3 ledger rows."""
    user = UserFactory()
    credits_grant(user=user, amount=25 * count, type="purchase", description="seed")
    now = timezone.now()
    videos = Video.objects.bulk_create(
        [
            Video(
                user=user,
                status=STATUSES[i % len(STATUSES)],
                prompt=f"prompt number {i} for the budget",
                enhanced_prompt=f"ASMR video: prompt number {i} for the budget",
                triggers=["soap"],
                duration=5,
                quality="720p" if i % 2 else "1080p",
                credit_cost=20,
                provider_task_id=f"task-{user.pk}-{i}",
                video_file=f"videos/{user.pk}/{i}.mp4",
                thumbnail_file=f"thumbnails/{user.pk}/{i}.jpg",
                file_size=1000 + i,
                is_favorite=i % 3 == 0,
                submitted_at=now,
                completed_at=now,
                last_synced_at=now,
            )
            for i in range(count)
        ]
    )
    for video in videos:
        debit = credits_spend(user=user, amount=20, description="seed generation", video=video)
        if video.status == VideoStatus.FAILED:
            credits_refund(debit=debit, description="seed refund")
    plan = Plan.objects.get(slug="pro")
    Subscription.objects.create(
        user=user, plan=plan, status="active", provider="sandbox", current_period_start=now, current_period_end=now
    )
    user.profile.plan_type = "pro"
    user.profile.save(update_fields=["plan_type"])
    return user, videos[0]


def _count_get(client, url: str, budget: int, django_assert_max_num_queries) -> int:
    with django_assert_max_num_queries(budget) as captured:
        response = client.get(url)
    assert response.status_code == 200, response.content
    return len(captured.captured_queries)


@pytest.mark.parametrize("path", list(READ_BUDGETS))
def test_reads_run_constant_queries_whatever_the_number_of_items(path, django_assert_max_num_queries):
    counts = {}
    for items in (1, 100):
        user, video = _user_with_items(items)
        url = path.format(video=video.pk)
        if path == "/api/videos" or path == "/api/credits/history":
            url += "?limit=100"
        counts[items] = _count_get(_client(user), url, READ_BUDGETS[path], django_assert_max_num_queries)
    assert counts[1] == counts[100], f"{path}: {counts[1]} queries with 1 item, {counts[100]} with 100"


def test_the_list_pages_really_hold_the_hundred_items():
    user, _ = _user_with_items(100)
    client = _client(user)
    assert len(client.get("/api/videos?limit=100").json()["data"]["videos"]) == 100
    history = client.get("/api/credits/history?limit=100").json()["data"]
    assert len(history["transactions"]) == 100
    assert history["pagination"]["total"] == 1 + 1 + 100 + 25  # bonus, grant, charges, refunds


# --- writes --------------------------------------------------------------------------------------


def test_generate_budget(django_assert_max_num_queries):
    user, _ = _user_with_items(1)
    credits_grant(user=user, amount=100, type="purchase", description="seed")
    client = _client(user)
    body = {"prompt": "soap being cut slowly on a wooden board", "triggers": ["soap"]}
    # user, plan, video, locked profile, balance, ledger row, debit link, counter, event, task
    # (+ 4 savepoints of the nested atomic blocks inside the test's transaction).
    with django_assert_max_num_queries(14):
        response = client.post("/api/generate", body, format="json")
    assert response.status_code == 200
    with django_assert_max_num_queries(15):  # + the Idempotency-Key lookup
        first = client.post("/api/generate", body, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    with django_assert_max_num_queries(5):  # a replay charges nothing and writes nothing (+ the model's prices)
        replay = client.post("/api/generate", body, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert replay.status_code == 200
    assert replay.json()["data"]["videoId"] == first.json()["data"]["videoId"]


def test_favorite_budget(django_assert_max_num_queries):
    user, video = _user_with_items(1)
    client = _client(user)
    with django_assert_max_num_queries(3):  # user, video, one conditional update
        response = client.put(f"/api/videos/{video.pk}/favorite", {"favorite": True}, format="json")
    assert response.status_code == 200
    assert Video.objects.get(pk=video.pk).is_favorite is True


def test_purchase_budget(django_assert_max_num_queries):
    user, _ = _user_with_items(1)
    client = _client(user)
    # user, package validated, package, order (+2 savepoints), payment id, re-read
    with django_assert_max_num_queries(9):
        response = client.post(
            "/api/credits/purchase", {"package": "basic", "paymentMethod": "sandbox", "amount": 100}, format="json"
        )
    assert response.status_code == 200, response.content


@override_settings(RATELIMIT_ENABLE=False)
def test_register_and_login_budgets(django_assert_max_num_queries):
    client = APIClient()
    # user, profile, signup bonus through the ledger, refresh token (+6 savepoints in the test's transaction)
    with django_assert_max_num_queries(15):
        response = client.post(
            "/api/auth/register", {"email": "budget@example.com", "password": DEFAULT_PASSWORD}, format="json"
        )
    assert response.status_code == 201
    with django_assert_max_num_queries(3):  # user, refresh token, profile
        response = client.post(
            "/api/auth/login", {"email": "budget@example.com", "password": DEFAULT_PASSWORD}, format="json"
        )
    assert response.status_code == 200
