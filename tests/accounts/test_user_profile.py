import pytest

from accounts.models import Profile, User
from credits.models import CreditTransaction
from tests.factories import DEFAULT_PASSWORD
from videos.models import Video

pytestmark = pytest.mark.django_db

USER_FIELDS = {
    "id", "email", "first_name", "last_name", "credits", "plan_type",
    "total_credits_spent", "total_videos_created", "created_at",
}


def test_profile_get_has_contract_fields(auth_client):
    user = auth_client.get("/api/user/profile").json()["data"]["user"]
    assert set(user) >= USER_FIELDS
    assert user["credits"] == 20
    assert user["plan_type"] == "free"


def test_profile_update_writes_documented_fields(auth_client):
    response = auth_client.put(
        "/api/user/profile",
        {"first_name": "Ada", "last_name": "Lovelace", "bio": "Hi", "avatar_url": "https://cdn.example.com/a.png"},
        format="json",
    )
    assert response.status_code == 200
    profile = Profile.objects.get(user=auth_client.user)
    assert (profile.first_name, profile.last_name, profile.bio, profile.avatar_url) == (
        "Ada", "Lovelace", "Hi", "https://cdn.example.com/a.png",
    )


def test_profile_update_ignores_mass_assignment(auth_client):
    response = auth_client.put(
        "/api/user/profile",
        {"first_name": "Eve", "credits": 999999, "email": "evil@example.com", "plan_type": "pro",
         "total_credits_spent": -5, "is_staff": True},
        format="json",
    )
    assert response.status_code == 200
    profile = Profile.objects.select_related("user").get(user=auth_client.user)
    assert profile.first_name == "Eve"
    assert profile.credits == 20
    assert profile.plan_type == "free"
    assert profile.total_credits_spent == 0
    assert profile.user.email == auth_client.user.email
    assert profile.user.is_staff is False
    assert CreditTransaction.objects.filter(user=auth_client.user).count() == 1


def test_profile_update_validates(auth_client):
    response = auth_client.put("/api/user/profile", {"first_name": "x" * 101, "avatar_url": "http://x.example.com/a.png"}, format="json")
    assert response.status_code == 400
    fields = {item["field"] for item in response.json()["error"]["details"]}
    assert fields == {"first_name", "avatar_url"}


def test_password_change_revokes_other_sessions_and_returns_fresh_tokens(auth_client, tokens, api_client):
    body = {"currentPassword": DEFAULT_PASSWORD, "newPassword": "Brand-new-pass9!", "confirmPassword": "Brand-new-pass9!"}
    response = auth_client.put("/api/user/password", body, format="json")
    assert response.status_code == 200
    fresh = response.json()["data"]
    assert auth_client.get("/api/user/profile").json()["error"]["code"] == "INVALID_TOKEN"
    old_refresh = api_client.post("/api/auth/refresh", {"refreshToken": tokens["refreshToken"]}, format="json")
    assert old_refresh.status_code == 401
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {fresh['token']}")
    assert api_client.get("/api/user/profile").status_code == 200
    login = api_client.post("/api/auth/login", {"email": auth_client.user.email, "password": "Brand-new-pass9!"}, format="json")
    assert login.status_code == 200


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"currentPassword": "Wrong-pass-1!", "newPassword": "Brand-new-pass9!", "confirmPassword": "Brand-new-pass9!"}, "PASSWORD_CHANGE_FAILED"),
        ({"currentPassword": DEFAULT_PASSWORD, "newPassword": "Brand-new-pass9!", "confirmPassword": "Other-pass-9!"}, "VALIDATION_ERROR"),
        ({"currentPassword": DEFAULT_PASSWORD, "newPassword": "weak", "confirmPassword": "weak"}, "VALIDATION_ERROR"),
        ({"currentPassword": DEFAULT_PASSWORD, "newPassword": DEFAULT_PASSWORD, "confirmPassword": DEFAULT_PASSWORD}, "VALIDATION_ERROR"),
    ],
)
def test_password_change_errors(auth_client, body, code):
    response = auth_client.put("/api/user/password", body, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == code
    assert auth_client.get("/api/user/profile").status_code == 200


def test_preferences_read_and_update(auth_client):
    data = auth_client.get("/api/user/preferences").json()["data"]
    assert {key: data[key] for key in ("resolution", "maxDuration", "language", "timezone")} == {
        "resolution": "720p", "maxDuration": 5, "language": "en", "timezone": "UTC",
    }
    assert data["preferences"]["video"] == {
        "defaultQuality": "720p", "defaultAspectRatio": "16:9", "defaultDuration": 5, "autoDownload": False,
    }
    response = auth_client.put("/api/user/preferences", {"timezone": "Europe/Paris", "maxDuration": 8}, format="json")
    assert response.status_code == 200
    assert response.json()["data"]["timezone"] == "Europe/Paris"
    assert response.json()["data"]["preferences"]["video"]["defaultDuration"] == 8
    bad = auth_client.put("/api/user/preferences", {"timezone": "Mars/Base"}, format="json")
    assert bad.json()["error"]["details"][0]["field"] == "timezone"


def test_preferences_update_in_the_nested_shape(auth_client):
    body = {"preferences": {"video": {"defaultQuality": "1080p", "defaultDuration": 8}}}
    response = auth_client.put("/api/user/preferences", body, format="json")
    assert response.status_code == 200
    assert response.json()["data"]["preferences"]["video"]["defaultQuality"] == "1080p"
    profile = Profile.objects.get(user=auth_client.user)
    assert (profile.preferred_resolution, profile.max_duration) == ("1080p", 8)
    bad = auth_client.put("/api/user/preferences", {"preferences": {"video": {"defaultDuration": 7}}}, format="json")
    assert bad.status_code == 400
    assert bad.json()["error"]["details"][0]["field"] == "preferences.video.defaultDuration"


def test_statistics_from_real_rows(auth_client):
    statistics = auth_client.get("/api/user/statistics").json()["data"]["statistics"]
    assert statistics["videos"] == {"total": 0, "completed": 0, "processing": 0, "failed": 0, "successRate": 0}
    assert statistics["credits"] == {"totalSpent": 0, "totalPurchased": 0, "totalRefunded": 0, "currentBalance": 20}
    assert statistics["usage"]["averageCreditsPerVideo"] == 0
    assert statistics["usage"]["memberSince"] == statistics["account"]["member_since"]


@pytest.mark.parametrize("body", [{}, {"confirmDeletion": False}, {"confirmDeletion": ""}, {"confirmDeletion": 0}])
def test_account_deletion_needs_a_truthy_confirmation(auth_client, body):
    response = auth_client.delete("/api/user/account", body, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "CONFIRMATION_REQUIRED"
    assert User.objects.filter(pk=auth_client.user.pk).exists()


def test_account_deletion_keeps_ledger_anonymised(auth_client):
    user_id = auth_client.user.pk
    response = auth_client.delete("/api/user/account", {"confirmDeletion": True}, format="json")
    assert response.status_code == 200
    assert not User.objects.filter(pk=user_id).exists()
    entries = CreditTransaction.objects.filter(description="Signup bonus", user__isnull=True)
    assert entries.count() == 1
    assert auth_client.get("/api/user/profile").json()["error"]["code"] == "USER_NOT_FOUND"


def test_success_rates_round_halves_up_like_express_everywhere(auth_client):
    # 1 of 8 ready is 12.5 %: Math.round gives 13 (Python's round() would give 12).
    for status in ["ready"] + ["failed"] * 7:
        Video.objects.create(user=auth_client.user, prompt="p", enhanced_prompt="e", duration=5, quality="720p",
                             credit_cost=20, status=status)
    statistics = auth_client.get("/api/user/statistics").json()["data"]["statistics"]
    stats = auth_client.get("/api/videos/stats").json()["data"]
    assert statistics["videos"]["successRate"] == stats["statistics"]["successRate"] == 13
