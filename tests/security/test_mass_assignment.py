"""Extra fields on every write endpoint are ignored and never written (ids, prices, statuses, owners)."""

from decimal import Decimal

import pytest

from accounts.models import Profile, User
from billing.models import Order, Plan, Subscription
from credits.models import CreditTransaction
from tests.factories import DEFAULT_PASSWORD, UserFactory
from tests.videos.conftest import GOOD_BODY
from videos.models import Video

pytestmark = pytest.mark.django_db

FOREIGN_ID = "00000000-0000-4000-8000-000000000001"


def _account_fields(user) -> dict:
    return {"is_staff": True, "is_superuser": True, "is_active": False, "user": str(user.pk),
            "user_id": str(user.pk), "id": FOREIGN_ID, "token_version": 99}


def test_register_ignores_privileges_credits_and_plan(api_client):
    body = {"email": "new@example.com", "password": "Str0ng-pass!", "credits": 99999, "plan_type": "pro",
            "is_staff": True, "is_superuser": True, "id": FOREIGN_ID, "token_version": 7, "date_joined": "2000-01-01"}
    response = api_client.post("/api/auth/register", body, format="json")

    assert response.status_code == 201
    user = User.objects.get(email="new@example.com")
    assert (user.is_staff, user.is_superuser, user.is_active, user.token_version) == (False, False, True, 0)
    assert str(user.pk) != FOREIGN_ID and user.date_joined.year > 2000
    assert (user.profile.credits, user.profile.plan_type) == (20, "free")
    assert response.json()["data"]["user"]["is_staff"] is False


def test_profile_update_ignores_account_fields_and_counters(auth_client):
    other = UserFactory()
    body = {"first_name": "Eve", "total_videos_created": 500, "created_at": "2000-01-01T00:00:00Z",
            "preferred_resolution": "1080p", "password": "Hacked-pass-1!", **_account_fields(other)}
    assert auth_client.put("/api/user/profile", body, format="json").status_code == 200

    user = User.objects.get(pk=auth_client.user.pk)
    assert (user.is_staff, user.is_superuser, user.is_active, user.token_version) == (False, False, True, 0)
    assert user.check_password(DEFAULT_PASSWORD)
    profile = user.profile
    assert (profile.first_name, profile.total_videos_created, profile.preferred_resolution) == ("Eve", 0, "720p")
    assert profile.created_at.year > 2000
    assert Profile.objects.get(user=other).first_name == ""


def test_preferences_update_writes_only_preferences(auth_client):
    body = {"language": "fr", "credits": 99999, "plan_type": "pro", "preferred_resolution": "1080p",
            "max_duration": 8, "first_name": "Eve", **_account_fields(UserFactory())}
    response = auth_client.put("/api/user/preferences", body, format="json")

    assert response.status_code == 200
    profile = Profile.objects.select_related("user").get(user=auth_client.user)
    assert profile.language == "fr"
    assert (profile.credits, profile.plan_type, profile.preferred_resolution, profile.max_duration) == (20, "free", "720p", 5)
    assert profile.first_name == "" and profile.user.is_staff is False


def test_password_change_ignores_the_email_and_privileges(auth_client):
    body = {"currentPassword": DEFAULT_PASSWORD, "newPassword": "New-pass-123!", "confirmPassword": "New-pass-123!",
            "email": "evil@example.com", **_account_fields(UserFactory())}
    assert auth_client.put("/api/user/password", body, format="json").status_code == 200

    user = User.objects.get(pk=auth_client.user.pk)
    assert user.email == auth_client.user.email and user.is_staff is False and user.is_superuser is False
    assert user.token_version == 1  # bumped by the password change itself, not set to 99


def test_generate_ignores_cost_status_owner_and_ids(fake_kie, auth_client):
    other = UserFactory()
    body = {
        **GOOD_BODY,
        "credit_cost": 0, "creditCost": 0, "creditsDeducted": 0, "cost": 0,
        "status": "ready", "state": "ready", "user": str(other.pk), "user_id": str(other.pk), "userId": str(other.pk),
        "id": FOREIGN_ID, "videoId": FOREIGN_ID, "taskId": "kie-chosen", "provider_task_id": "kie-chosen",
        "videoUrl": "https://evil.example/x.mp4", "video_file": "videos/x.mp4", "is_favorite": True,
        "enhancedPrompt": "something else", "debit": 1, "idempotency_key": "chosen",
    }
    response = auth_client.post("/api/generate", body, format="json")

    assert response.status_code == 200
    video = Video.objects.get()
    assert str(video.pk) != FOREIGN_ID and video.user_id == auth_client.user.pk
    assert (video.status, video.credit_cost, video.provider_task_id, video.is_favorite) == ("queued", 20, None, False)
    assert (video.video_file.name or "", video.idempotency_key) == ("", None)
    assert video.enhanced_prompt.startswith("ASMR video: ")
    assert response.json()["data"]["creditsDeducted"] == 20
    assert Profile.objects.get(user=auth_client.user).credits == 0
    assert Profile.objects.get(user=other).credits == 20 and not Video.objects.filter(user=other).exists()


def test_favorite_writes_only_the_flag(fake_kie, auth_client):
    video_id = auth_client.post("/api/generate", GOOD_BODY, format="json").json()["data"]["videoId"]
    other = UserFactory()
    body = {"favorite": True, "status": "ready", "credit_cost": 0, "user": str(other.pk), "prompt": "changed prompt!"}

    assert auth_client.put(f"/api/videos/{video_id}/favorite", body, format="json").status_code == 200

    video = Video.objects.get(pk=video_id)
    assert (video.is_favorite, video.status, video.credit_cost, video.user_id) == (True, "queued", 20, auth_client.user.pk)
    assert video.prompt == GOOD_BODY["prompt"]


def test_purchase_ignores_price_credits_status_and_owner(auth_client):
    other = UserFactory()
    body = {"package": "basic", "amount": 100, "paymentMethod": "card",
            "price": "0.01", "credits": 100000, "status": "completed", "currency": "JPY", "provider": "stripe",
            "provider_payment_id": "pi_chosen", "user": str(other.pk), "id": FOREIGN_ID, "completed_at": "2020-01-01"}
    response = auth_client.post("/api/credits/purchase", body, format="json")

    assert response.status_code == 200
    order = Order.objects.get()
    assert str(order.pk) != FOREIGN_ID and order.user_id == auth_client.user.pk
    assert (order.status, order.credits, order.amount, order.currency) == ("pending", 100, Decimal("9.99"), "USD")
    assert order.provider == "sandbox" and order.provider_payment_id != "pi_chosen" and order.completed_at is None
    assert not CreditTransaction.objects.filter(type="purchase").exists()

    # Paying it (with more extra fields) grants the package's credits, not the client's numbers.
    confirm = auth_client.post(f"/api/billing/sandbox/confirm/{order.pk}",
                               {"credits": 99999, "amount": "0.01", "status": "refunded"}, format="json")
    assert confirm.json()["data"]["status"] == "completed"
    assert Profile.objects.get(user=auth_client.user).credits == 120
    assert Profile.objects.get(user=other).credits == 20


def test_subscription_ignores_price_status_period_and_plan_type(auth_client):
    body = {"plan": "basic", "paymentMethod": "card", "price": "0", "status": "active", "credits": 99999,
            "credits_per_period": 99999, "current_period_end": "2100-01-01T00:00:00Z", "cancel_at_period_end": True,
            "plan_type": "pro", "provider": "stripe", "user": str(UserFactory().pk), "id": FOREIGN_ID}
    response = auth_client.post("/api/billing/subscription", body, format="json")

    assert response.status_code == 201
    subscription = Subscription.objects.get()
    assert str(subscription.pk) != FOREIGN_ID and subscription.user_id == auth_client.user.pk
    assert (subscription.status, subscription.current_period_end, subscription.cancel_at_period_end) == ("incomplete", None, False)
    assert subscription.provider == "sandbox"
    plan = Plan.objects.get(slug="basic")
    order = Order.objects.get(subscription=subscription)
    assert (order.amount, order.credits, order.status) == (plan.price, plan.credits_per_period, "pending")
    profile = Profile.objects.get(user=auth_client.user)
    assert (profile.plan_type, profile.credits) == ("free", 20)

