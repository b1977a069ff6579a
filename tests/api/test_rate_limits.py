import pytest
from django.test import override_settings

from aiasmr.api.exceptions import rate_limited, window_text
from aiasmr.settings import RATE_LIMITS

pytestmark = pytest.mark.django_db


# Any limited API path will do; unauthenticated it answers 401 until the limit turns it into 429.
PATH = "/api/user/profile"


def limits(**overrides):
    return override_settings(RATE_LIMITS={**RATE_LIMITS, **overrides})


def assert_limited(response, code="RATE_LIMIT_EXCEEDED"):
    """Express's code for the limiter, its window as text in error.retryAfter, and the Retry-After header."""
    assert response.status_code == 429
    error = response.json()["error"]
    assert error["code"] == code
    assert isinstance(error["retryAfter"], str)
    assert int(response["Retry-After"]) >= 1


@limits(api="3/m")
def test_general_limit_by_ip(api_client):
    for _ in range(3):
        assert api_client.get(PATH).status_code == 401
    assert_limited(api_client.get(PATH))
    # Another client IP has its own budget.
    assert api_client.get(PATH, REMOTE_ADDR="10.1.2.3").status_code == 401


@limits(api="2/m")
def test_health_and_callbacks_are_exempt_from_ip_limit(api_client):
    for _ in range(5):
        assert api_client.get("/api/health").status_code == 200


@limits(api="2/m")
@override_settings(TRUSTED_PROXY_COUNT=1)
def test_trusted_proxy_takes_client_ip_from_forwarded_for(api_client):
    for _ in range(2):
        assert api_client.get(PATH, HTTP_X_FORWARDED_FOR="203.0.113.9").status_code == 401
    assert_limited(api_client.get(PATH, HTTP_X_FORWARDED_FOR="203.0.113.9"))
    assert api_client.get(PATH, HTTP_X_FORWARDED_FOR="203.0.113.10").status_code == 401


@limits(api="2/m")
def test_forwarded_for_is_ignored_without_trusted_proxies(api_client):
    for ip in ("198.51.100.1", "198.51.100.2"):
        assert api_client.get(PATH, HTTP_X_FORWARDED_FOR=ip).status_code == 401
    assert_limited(api_client.get(PATH, HTTP_X_FORWARDED_FOR="198.51.100.3"))


@limits(auth="2/2h")
def test_auth_limit_by_ip_covers_login_register_refresh(api_client):
    api_client.post("/api/auth/login", {"email": "a@example.com", "password": "x"}, format="json")
    api_client.post("/api/auth/register", {"email": "bad"}, format="json")
    refresh = api_client.post("/api/auth/refresh", {"refreshToken": "x"}, format="json")
    assert_limited(refresh, "AUTH_RATE_LIMIT_EXCEEDED")
    assert refresh.json()["error"]["retryAfter"] == "2 hours"
    login = api_client.post("/api/auth/login", {"email": "a@example.com", "password": "x"}, format="json")
    assert_limited(login, "AUTH_RATE_LIMIT_EXCEEDED")


@limits(sensitive="2/15m")
def test_sensitive_limit_by_user(make_auth_client):
    client = make_auth_client()
    body = {"currentPassword": "wrong-Pass1!", "newPassword": "New-pass-123!", "confirmPassword": "New-pass-123!"}
    for _ in range(2):
        assert client.put("/api/user/password", body, format="json").status_code == 400
    assert_limited(client.put("/api/user/password", body, format="json"), "STRICT_RATE_LIMIT_EXCEEDED")
    assert_limited(client.delete("/api/user/account"), "STRICT_RATE_LIMIT_EXCEEDED")
    # Another user is not affected.
    other = make_auth_client()
    assert other.put("/api/user/password", body, format="json").status_code == 400


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(60, "60 seconds"), (1, "1 second"), (900, "15 minutes"), (3600, "1 hour"), (7200, "2 hours"),
     (86400, "24 hours"), (90, "90 seconds")],
)
def test_retry_after_words_the_window_as_express_did(seconds, text):
    assert window_text(seconds) == text


def test_each_scope_has_its_express_code():
    codes = {scope: rate_limited(scope=scope, retry_after=5, limit=3, window=60).code for scope in RATE_LIMITS}
    assert codes == {
        "api": "RATE_LIMIT_EXCEEDED",
        "auth": "AUTH_RATE_LIMIT_EXCEEDED",
        "generate": "VIDEO_GENERATION_LIMIT_EXCEEDED",
        "purchase": "CREDITS_PURCHASE_LIMIT_EXCEEDED",
        "sensitive": "STRICT_RATE_LIMIT_EXCEEDED",
        "upload": "UPLOAD_RATE_LIMIT_EXCEEDED",  # image uploads are new: no Express limiter to copy
    }
    assert rate_limited(scope="unknown", retry_after=5, limit=3, window=60).code == "RATE_LIMIT_EXCEEDED"
