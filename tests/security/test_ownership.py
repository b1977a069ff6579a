"""Another user's objects, on every endpoint that takes an id: 404 (logout: 401), and no row changes."""

import pytest
from rest_framework.test import APIClient
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken

from accounts.models import Profile
from accounts.services import auth_tokens_issue
from billing.models import Order, PaymentEvent
from credits.models import CreditTransaction, TransactionType
from credits.services import credits_grant
from tests.factories import UserFactory
from tests.security.conftest import error_code
from tests.videos.conftest import GOOD_BODY
from videos.models import Video, VideoEvent

KIE_TASK = "kie-victim-task-0001"


def _snapshot() -> dict:
    return {
        "videos": list(Video.objects.order_by("pk").values_list("pk", "user_id", "status", "is_favorite", "provider_task_id")),
        "events": VideoEvent.objects.count(),
        "ledger": list(CreditTransaction.objects.order_by("pk").values_list("pk", "user_id", "type", "amount")),
        "balances": list(Profile.objects.order_by("pk").values_list("pk", "credits")),
        "orders": list(Order.objects.order_by("pk").values_list("pk", "user_id", "status", "provider_payment_id")),
        "payment_events": PaymentEvent.objects.count(),
        "blacklisted": BlacklistedToken.objects.count(),
    }


@pytest.fixture
def victim(fake_kie):
    """A user with a cancellable job (not yet sent, but already carrying a KIE task id), a pending
    sandbox order and a refresh token of their own."""
    user = UserFactory()
    tokens = auth_tokens_issue(user=user)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['token']}")
    video_id = client.post("/api/generate", GOOD_BODY, format="json").json()["data"]["videoId"]
    Video.objects.filter(pk=video_id).update(provider_task_id=KIE_TASK)
    purchase = client.post("/api/credits/purchase", {"package": "basic", "amount": 100}, format="json")
    assert purchase.status_code == 200
    return {
        "user": user,
        "client": client,
        "refresh": tokens["refreshToken"],
        "video": video_id,
        "order": purchase.json()["data"]["order"]["id"],
    }


def _attacks(v) -> list[tuple[str, str, dict | None, int, str]]:
    video, order = v["video"], v["order"]
    return [
        ("get", f"/api/videos/{video}", None, 404, "VIDEO_NOT_FOUND"),
        ("put", f"/api/videos/{video}/favorite", {"favorite": True}, 404, "VIDEO_NOT_FOUND"),
        ("delete", f"/api/videos/{video}", None, 404, "VIDEO_NOT_FOUND"),
        ("get", f"/api/generate/status/{video}", None, 404, "TASK_NOT_FOUND"),
        ("get", f"/api/generate/status/{KIE_TASK}", None, 404, "TASK_NOT_FOUND"),
        ("post", f"/api/generate/cancel/{video}", None, 404, "TASK_NOT_FOUND"),
        ("post", f"/api/generate/cancel/{KIE_TASK}", None, 404, "TASK_NOT_FOUND"),
        ("get", f"/api/billing/orders/{order}", None, 404, "ORDER_NOT_FOUND"),
        ("post", f"/api/billing/sandbox/confirm/{order}", {}, 404, "ORDER_NOT_FOUND"),
        ("post", f"/api/billing/sandbox/confirm/{order}", {"outcome": "failed"}, 404, "ORDER_NOT_FOUND"),
        ("post", "/api/auth/logout", {"refreshToken": v["refresh"]}, 401, "INVALID_TOKEN"),
    ]


@pytest.mark.django_db
def test_every_id_taking_endpoint_refuses_another_users_object_and_changes_nothing(victim, make_auth_client):
    attacker = make_auth_client()
    before = _snapshot()

    for method, path, body, status, code in _attacks(victim):
        response = getattr(attacker, method)(path, body, format="json")
        assert (response.status_code, error_code(response)) == (status, code), (method, path)

    assert _snapshot() == before
    # The attacker's own lists stay empty; the victim's session still works.
    assert attacker.get("/api/videos").json()["data"]["pagination"]["total"] == 0
    refreshed = APIClient().post("/api/auth/refresh", {"refreshToken": victim["refresh"]}, format="json")
    assert refreshed.status_code == 200


@pytest.mark.django_db
def test_the_owner_reaches_the_same_objects(victim):
    """The control: the paths above are real, so the attacker's 404s come from ownership."""
    owner = victim["client"]
    video, order = victim["video"], victim["order"]
    for path in (f"/api/videos/{video}", f"/api/generate/status/{video}", f"/api/generate/status/{KIE_TASK}",
                 f"/api/billing/orders/{order}"):
        assert owner.get(path).status_code == 200, path
    assert owner.put(f"/api/videos/{video}/favorite", {"favorite": True}, format="json").status_code == 200
    assert owner.post(f"/api/generate/cancel/{KIE_TASK}").status_code == 200
    assert Video.objects.get(pk=video).status == "cancelled"
    assert owner.post(f"/api/billing/sandbox/confirm/{order}", {}, format="json").json()["data"]["status"] == "completed"
    assert owner.delete(f"/api/videos/{video}").status_code == 200
    # Last: logging out this session's refresh token signs out its access token too (one family).
    assert owner.post("/api/auth/logout", {"refreshToken": victim["refresh"]}, format="json").status_code == 200


@pytest.mark.django_db
def test_an_idempotency_key_never_reaches_another_users_job_or_order(victim, make_auth_client):
    key = {"HTTP_IDEMPOTENCY_KEY": "shared-key-1"}
    owner = victim["client"]
    credits_grant(user=victim["user"], amount=100, type=TransactionType.BONUS, description="top-up")
    first_video = owner.post("/api/generate", GOOD_BODY, format="json", **key).json()["data"]["videoId"]
    first_order = owner.post("/api/credits/purchase", {"package": "basic", "amount": 100}, format="json", **key)

    attacker = make_auth_client()
    video = attacker.post("/api/generate", GOOD_BODY, format="json", **key)
    order = attacker.post("/api/credits/purchase", {"package": "basic", "amount": 100}, format="json", **key)

    assert video.status_code == 200 and video.json()["data"]["videoId"] != first_video
    assert order.status_code == 200 and order.json()["data"]["order"]["id"] != first_order.json()["data"]["order"]["id"]
    assert Video.objects.filter(user=attacker.user).count() == 1
    assert Order.objects.filter(user=victim["user"]).count() == 2


@pytest.mark.django_db
def test_lists_and_balances_only_show_the_callers_rows(victim, make_auth_client):
    attacker = make_auth_client()
    assert attacker.get("/api/videos/stats").json()["data"]["total"] == 0
    history = attacker.get("/api/credits/history").json()["data"]["transactions"]
    assert [entry["transaction_type"] for entry in history] == ["bonus"]
    assert attacker.get("/api/credits/balance").json()["data"]["user"]["id"] == str(attacker.user.pk)
    assert attacker.get("/api/billing/subscription").json()["data"]["subscription"] is None
    assert attacker.post("/api/billing/subscription/cancel").status_code == 404
