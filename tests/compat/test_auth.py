"""routes/auth.js: register, login, refresh, logout as the shipped app calls them, plus Express's tokens.

Express (services/auth-service.js generateToken) signs `{id, email, iat}` with HS256 and JWT_SECRET,
`expiresIn: JWT_EXPIRES_IN || '7d'` (so `exp` too); the app sends it as `Authorization: Bearer` to every
route and, to refresh, to POST /auth/refresh, which answers `data.token`.
"""

import time

import jwt
import pytest
from django.conf import settings as django_settings

from accounts.models import User
from tests.compat.conftest import SLASHES
from tests.compat.shapes import AUTH_USER, TIMESTAMP, VALIDATION_DETAIL, assert_error, assert_ok
from tests.factories import DEFAULT_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

LEGACY_SECRET = "express-jwt-secret-used-before-the-cut-over"

# routes/auth.js POST /register: 201 {success, data: {user, token}, message}
REGISTER = {"success": bool, "data": {"user": AUTH_USER, "token": str}, "message": str}
# routes/auth.js POST /login: loginUser adds created_at to the user
LOGIN = {"success": bool, "data": {"user": {**AUTH_USER, "created_at": TIMESTAMP}, "token": str}, "message": str}
# routes/auth.js POST /refresh: {token, user: {id, email, credits, plan_type}}
REFRESH = {"success": bool, "data": {"token": str, "user": AUTH_USER}, "message": str}
# routes/auth.js POST /logout: no data
LOGOUT = {"success": bool, "message": str}


def express_token(user, *, secret=LEGACY_SECRET, lifetime=7 * 24 * 3600, issued=None):
    """A token minted exactly as auth-service.js generateToken mints it."""
    issued = int(time.time()) if issued is None else issued
    payload = {"id": str(user.pk), "email": user.email, "iat": issued, "exp": issued + lifetime}
    return jwt.encode(payload, secret, algorithm="HS256")


@pytest.fixture
def legacy_secret(settings):
    settings.LEGACY_JWT_SECRET = LEGACY_SECRET
    return LEGACY_SECRET


def _bearer(token):
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def _login(client, user):
    response = client.post("/api/auth/login", {"email": user.email, "password": DEFAULT_PASSWORD}, format="json")
    return response.json()["data"]["token"]


# --- POST /auth/register ------------------------------------------------------------------------------


@SLASHES
def test_register_answers_201_with_user_and_token(api_client, slash):
    # routes/auth.js POST /register; validation.js registerSchema lowercases and trims the email
    response = api_client.post(
        f"/api/auth/register{slash}", {"email": "  New.User@Example.COM ", "password": "Str0ng-pass!"}, format="json"
    )
    body = assert_ok(response, REGISTER, status=201)
    user = body["data"]["user"]
    assert user["email"] == "new.user@example.com"
    assert (user["credits"], user["plan_type"]) == (20, "free")
    assert api_client.get("/api/user/profile", **_bearer(body["data"]["token"])).status_code == 200


def test_register_refuses_invalid_fields_with_joi_details(api_client):
    # middleware/validation.js createValidationMiddleware: 400 VALIDATION_ERROR, details [{field, message}]
    response = api_client.post("/api/auth/register", {"email": "not-an-email", "password": "short"}, format="json")
    error = assert_error(response, 400, "VALIDATION_ERROR", details=[VALIDATION_DETAIL])
    assert {detail["field"] for detail in error["details"]} == {"email", "password"}


def test_register_of_a_taken_email_is_registration_failed(api_client):
    # routes/auth.js POST /register: registerUser's "User already exists" -> 400 REGISTRATION_FAILED
    UserFactory(email="taken@example.com")
    response = api_client.post("/api/auth/register", {"email": "Taken@example.com", "password": "Str0ng-pass!"},
                               format="json")
    assert_error(response, 400, "REGISTRATION_FAILED")


# --- POST /auth/login ---------------------------------------------------------------------------------


@SLASHES
def test_login_answers_user_with_created_at_and_token(api_client, slash):
    # routes/auth.js POST /login -> services/auth-service.js loginUser
    user = UserFactory(email="login@example.com")
    response = api_client.post(
        f"/api/auth/login{slash}", {"email": "LOGIN@example.com", "password": DEFAULT_PASSWORD}, format="json"
    )
    body = assert_ok(response, LOGIN)
    assert body["data"]["user"]["id"] == str(user.pk)


def test_login_with_a_wrong_password_is_login_failed(api_client):
    # routes/auth.js POST /login: 401 LOGIN_FAILED
    UserFactory(email="login@example.com")
    response = api_client.post("/api/auth/login", {"email": "login@example.com", "password": "Wrong-pass-1!"},
                               format="json")
    assert_error(response, 401, "LOGIN_FAILED")


def test_login_without_a_password_is_a_validation_error(api_client):
    # validation.js loginSchema: password required
    response = api_client.post("/api/auth/login", {"email": "login@example.com"}, format="json")
    assert_error(response, 400, "VALIDATION_ERROR", details=[VALIDATION_DETAIL])


def test_failed_sign_ins_are_limited_with_auth_rate_limit_exceeded(api_client):
    # middleware/rate-limit.js authLimit: 10 failed attempts / hour / IP, then 429 with error.retryAfter
    UserFactory(email="login@example.com")
    wrong = {"email": "login@example.com", "password": "Wrong-pass-1!"}
    for _ in range(10):
        assert api_client.post("/api/auth/login", wrong, format="json").status_code == 401
    response = api_client.post("/api/auth/login", wrong, format="json")
    error = assert_error(response, 429, "AUTH_RATE_LIMIT_EXCEEDED", retryAfter=str)
    assert error["retryAfter"] == "1 hour"


# --- POST /auth/refresh -------------------------------------------------------------------------------


@SLASHES
def test_refresh_the_express_way_with_the_current_access_token(api_client, slash):
    # routes/auth.js POST /refresh: the app sends its current token as Bearer and keeps data.token
    user = UserFactory()
    access = _login(api_client, user)
    response = api_client.post(f"/api/auth/refresh{slash}", **_bearer(access))
    body = assert_ok(response, REFRESH)
    assert body["data"]["user"]["id"] == str(user.pk)
    assert api_client.get("/api/user/profile", **_bearer(body["data"]["token"])).status_code == 200


def test_refresh_with_a_refresh_token_also_answers_data_token(api_client):
    # Addition (issue 10 item 3): the refresh-token form answers the same shape
    user = UserFactory()
    login = api_client.post("/api/auth/login", {"email": user.email, "password": DEFAULT_PASSWORD}, format="json")
    refresh = login.json()["data"]["refreshToken"]
    body = assert_ok(api_client.post("/api/auth/refresh", {"refreshToken": refresh}, format="json"), REFRESH)
    assert api_client.get("/api/user/profile", **_bearer(body["data"]["token"])).status_code == 200


def test_refresh_without_a_token_is_no_token(api_client):
    # routes/auth.js POST /refresh: 401 NO_TOKEN
    assert_error(api_client.post("/api/auth/refresh"), 401, "NO_TOKEN")


def test_refresh_with_a_bad_token_is_invalid_token(api_client):
    # routes/auth.js POST /refresh: verifyToken null -> 401 INVALID_TOKEN
    assert_error(api_client.post("/api/auth/refresh", **_bearer("not.a.token")), 401, "INVALID_TOKEN")


def test_refresh_for_a_removed_user_is_user_not_found(api_client):
    # routes/auth.js POST /refresh: getUserById null -> 401 USER_NOT_FOUND
    user = UserFactory()
    access = _login(api_client, user)
    User.objects.filter(pk=user.pk).delete()
    assert_error(api_client.post("/api/auth/refresh", **_bearer(access)), 401, "USER_NOT_FOUND")


# --- Express-issued tokens across the cut-over -----------------------------------------------------


def test_a_token_express_issued_reads_the_profile(api_client, legacy_secret):
    # services/auth-service.js generateToken + middleware/auth.js authMiddleware
    user = UserFactory()
    response = api_client.get("/api/user/profile", **_bearer(express_token(user)))
    assert response.status_code == 200, response.content[:300]
    assert response.json()["data"]["user"]["id"] == str(user.pk)


def test_a_token_express_issued_refreshes_into_a_usable_token(api_client, legacy_secret):
    # routes/auth.js POST /refresh with the Express token the app holds
    user = UserFactory()
    body = assert_ok(api_client.post("/api/auth/refresh", **_bearer(express_token(user))), REFRESH)
    assert api_client.get("/api/credits/balance", **_bearer(body["data"]["token"])).status_code == 200


def test_an_expired_express_token_is_invalid_token(api_client, legacy_secret):
    # auth-service.js verifyToken returns null for an expired token -> INVALID_TOKEN (never TOKEN_EXPIRED)
    user = UserFactory()
    expired = express_token(user, issued=int(time.time()) - 8 * 24 * 3600)
    assert_error(api_client.get("/api/user/profile", **_bearer(expired)), 401, "INVALID_TOKEN")
    assert_error(api_client.post("/api/auth/refresh", **_bearer(expired)), 401, "INVALID_TOKEN")


def test_a_token_signed_with_another_secret_is_invalid_token(api_client, legacy_secret):
    user = UserFactory()
    forged = express_token(user, secret="someone-elses-secret-of-enough-length")
    assert_error(api_client.get("/api/user/profile", **_bearer(forged)), 401, "INVALID_TOKEN")


def test_access_tokens_live_as_long_as_express_tokens_by_default(api_client):
    # auth-service.js: expiresIn JWT_EXPIRES_IN || '7d'; an Express-era app only refreshes a token it
    # still holds, so a shorter default signs its user out (issue 10 item 3)
    user = UserFactory()
    claims = jwt.decode(_login(api_client, user), options={"verify_signature": False})
    assert claims["exp"] - claims["iat"] >= 7 * 24 * 3600
    assert django_settings.SIMPLE_JWT["ACCESS_TOKEN_LIFETIME"].total_seconds() >= 7 * 24 * 3600


# --- POST /auth/logout --------------------------------------------------------------------------------


@SLASHES
def test_logout_without_a_token_still_answers_success(api_client, slash):
    # routes/auth.js POST /logout: public, always 200 {success, message}
    assert_ok(api_client.post(f"/api/auth/logout{slash}", {}, format="json"), LOGOUT)


def test_logout_with_the_token_answers_success(api_client):
    # routes/auth.js POST /logout with the bearer the app still sends
    user = UserFactory()
    access = _login(api_client, user)
    assert_ok(api_client.post("/api/auth/logout", {}, format="json", **_bearer(access)), LOGOUT)
