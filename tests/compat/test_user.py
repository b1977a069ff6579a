"""routes/user.js: profile, password, statistics, account deletion and preferences."""

import pytest

from accounts.models import Profile, User
from tests.compat.conftest import SLASHES, make_failed_video, make_ready_video
from tests.compat.shapes import TIMESTAMP, UUID, VALIDATION_DETAIL, assert_error, assert_ok
from tests.factories import DEFAULT_PASSWORD

pytestmark = pytest.mark.django_db

# routes/user.js GET /profile: the seven fields it picks from getUserById
PROFILE_USER = {
    "id": UUID,
    "email": str,
    "credits": int,
    "plan_type": str,
    "total_credits_spent": int,
    "total_videos_created": int,
    "created_at": TIMESTAMP,
}
PROFILE = {"success": bool, "data": {"user": PROFILE_USER}}
# auth-service.js updateUserProfile selects updated_at as well
PROFILE_UPDATED = {"success": bool, "data": {"user": {**PROFILE_USER, "updated_at": TIMESTAMP}}, "message": str}
NO_DATA = {"success": bool, "message": str}
# routes/user.js GET /statistics
STATISTICS = {
    "success": bool,
    "data": {
        "statistics": {
            "videos": {"total": int, "completed": int, "processing": int, "failed": int, "successRate": int},
            "credits": {"totalSpent": int, "totalPurchased": int, "totalRefunded": int, "currentBalance": int},
            "usage": {
                "videosLast30Days": int,
                "creditsSpentLast30Days": int,
                "averageCreditsPerVideo": int,
                "memberSince": TIMESTAMP,
            },
            "account": {"plan_type": str, "member_since": TIMESTAMP},
        }
    },
}
# routes/user.js GET /preferences
PREFERENCES = {
    "success": bool,
    "data": {
        "preferences": {
            "notifications": {"email": bool, "push": bool, "videoCompletion": bool, "creditLow": bool, "marketing": bool},
            "video": {"defaultQuality": str, "defaultAspectRatio": str, "defaultDuration": int, "autoDownload": bool},
            "privacy": {"profilePublic": bool, "showInLeaderboard": bool},
        }
    },
}
NEW_PASSWORD = "N3w-pass-word!"


# --- GET/PUT /user/profile ----------------------------------------------------------------------------


@SLASHES
def test_profile(auth_client, slash):
    # routes/user.js GET /profile
    body = assert_ok(auth_client.get(f"/api/user/profile{slash}"), PROFILE)
    assert body["data"]["user"]["id"] == str(auth_client.user.pk)
    assert body["data"]["user"]["credits"] == 20


@SLASHES
def test_profile_update_answers_the_user_with_updated_at(auth_client, slash):
    # routes/user.js PUT /profile -> auth-service.js updateUserProfile
    response = auth_client.put(f"/api/user/profile{slash}", {"first_name": "Ada", "last_name": "Lovelace"}, format="json")
    assert_ok(response, PROFILE_UPDATED)


def test_profile_update_drops_unknown_and_protected_fields(auth_client):
    # validation.js createValidationMiddleware stripUnknown; updateUserProfile drops id/email/credits
    response = auth_client.put("/api/user/profile", {"first_name": "Ada", "credits": 99999, "plan_type": "pro"},
                               format="json")
    assert_ok(response, PROFILE_UPDATED)
    profile = Profile.objects.get(user=auth_client.user)
    assert (profile.credits, profile.plan_type) == (20, "free")


def test_profile_update_with_a_bad_avatar_url_is_a_validation_error(auth_client):
    # validation.js updateProfileSchema: avatar_url must be a URI
    response = auth_client.put("/api/user/profile", {"avatar_url": "not a url"}, format="json")
    assert_error(response, 400, "VALIDATION_ERROR", details=[VALIDATION_DETAIL])


# --- PUT /user/password -------------------------------------------------------------------------------


def _password_body(current=DEFAULT_PASSWORD, new=NEW_PASSWORD, confirm=None):
    return {"currentPassword": current, "newPassword": new, "confirmPassword": confirm or new}


@SLASHES
def test_password_change(auth_client, api_client, slash):
    # routes/user.js PUT /password: 200 {success, message}
    assert_ok(auth_client.put(f"/api/user/password{slash}", _password_body(), format="json"), NO_DATA)
    login = api_client.post("/api/auth/login", {"email": auth_client.user.email, "password": NEW_PASSWORD}, format="json")
    assert login.status_code == 200


def test_password_change_with_a_wrong_current_password_is_password_change_failed(auth_client):
    # routes/user.js PUT /password: changePassword "Current password is incorrect" -> 400 PASSWORD_CHANGE_FAILED
    response = auth_client.put("/api/user/password", _password_body(current="Wrong-pass-1!"), format="json")
    assert_error(response, 400, "PASSWORD_CHANGE_FAILED")


def test_password_change_with_a_mismatched_confirmation_is_a_validation_error(auth_client):
    # validation.js changePasswordSchema: confirmPassword must equal newPassword
    response = auth_client.put("/api/user/password", _password_body(confirm="Other-pass-1!"), format="json")
    assert_error(response, 400, "VALIDATION_ERROR", details=[VALIDATION_DETAIL])


def test_password_changes_are_limited_with_strict_rate_limit_exceeded(auth_client):
    # rate-limit.js strictLimit: 3 requests / 15 minutes / user (all counted), then 429 + retryAfter
    for _ in range(3):
        auth_client.put("/api/user/password", _password_body(current="Wrong-pass-1!"), format="json")
    response = auth_client.put("/api/user/password", _password_body(current="Wrong-pass-1!"), format="json")
    error = assert_error(response, 429, "STRICT_RATE_LIMIT_EXCEEDED", retryAfter=str)
    assert error["retryAfter"] == "15 minutes"


# --- GET /user/statistics -----------------------------------------------------------------------------


@SLASHES
def test_statistics_of_a_new_user(auth_client, slash):
    # routes/user.js GET /statistics
    body = assert_ok(auth_client.get(f"/api/user/statistics{slash}"), STATISTICS)
    statistics = body["data"]["statistics"]
    assert statistics["videos"] == {"total": 0, "completed": 0, "processing": 0, "failed": 0, "successRate": 0}
    assert statistics["credits"]["currentBalance"] == 20
    assert statistics["account"]["plan_type"] == "free"


def test_statistics_count_ready_and_failed_videos(rich_client, fake_kie):
    # routes/user.js GET /statistics: completed = status 'ready'; successRate = round(100 * ready / total)
    make_ready_video(rich_client, fake_kie)
    make_failed_video(rich_client, fake_kie)
    body = assert_ok(rich_client.get("/api/user/statistics"), STATISTICS)
    videos = body["data"]["statistics"]["videos"]
    assert (videos["total"], videos["completed"], videos["failed"], videos["successRate"]) == (2, 1, 1, 50)
    credits = body["data"]["statistics"]["credits"]
    assert (credits["totalSpent"], credits["totalRefunded"]) == (40, 20)


# --- DELETE /user/account -----------------------------------------------------------------------------


@SLASHES
def test_account_deletion_needs_confirm_deletion(auth_client, slash):
    # routes/user.js DELETE /account: no confirmDeletion -> 400 CONFIRMATION_REQUIRED, nothing deleted
    assert_error(auth_client.delete(f"/api/user/account{slash}", {}, format="json"), 400, "CONFIRMATION_REQUIRED")
    assert_error(auth_client.delete("/api/user/account", {"confirmDeletion": False}, format="json"), 400,
                 "CONFIRMATION_REQUIRED")
    assert User.objects.filter(pk=auth_client.user.pk, is_active=True).exists()


@SLASHES
def test_account_deletion_with_confirmation(auth_client, slash):
    # routes/user.js DELETE /account: 200 {success, message}
    response = auth_client.delete(f"/api/user/account{slash}", {"confirmDeletion": True}, format="json")
    assert_ok(response, NO_DATA)
    assert auth_client.get("/api/user/profile").status_code == 401


def test_account_deletions_are_limited_with_strict_rate_limit_exceeded(auth_client):
    # rate-limit.js strictLimit on DELETE /account (before the confirmation check, so refusals count)
    for _ in range(3):
        auth_client.delete("/api/user/account", {}, format="json")
    error = assert_error(auth_client.delete("/api/user/account", {}, format="json"), 429,
                         "STRICT_RATE_LIMIT_EXCEEDED", retryAfter=str)
    assert error["retryAfter"] == "15 minutes"


# --- GET /user/preferences ----------------------------------------------------------------------------


@SLASHES
def test_preferences(auth_client, slash):
    # routes/user.js GET /preferences: the nested defaults
    body = assert_ok(auth_client.get(f"/api/user/preferences{slash}"), PREFERENCES)
    video = body["data"]["preferences"]["video"]
    assert (video["defaultQuality"], video["defaultAspectRatio"], video["defaultDuration"]) == ("720p", "16:9", 5)
