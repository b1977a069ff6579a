"""middleware/auth.js, middleware/rate-limit.js, middleware/error-handler.js: what every route shares.

The errors the app sees on any protected route: 401 NO_TOKEN (no `Bearer ` header), INVALID_TOKEN (bad,
forged or expired: verifyToken catches jwt's TokenExpiredError, so TOKEN_EXPIRED never reaches the app),
USER_NOT_FOUND (a valid token of a user who is gone); 429 RATE_LIMIT_EXCEEDED from the general limiter;
404 NOT_FOUND for an unknown route and 500 INTERNAL_SERVER_ERROR, both in the error envelope.
"""

import time

import jwt
import pytest
from django.test import override_settings

from accounts.models import User
from accounts.services import auth_tokens_issue
from tests.compat.shapes import assert_error
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PROTECTED = [
    ("get", "/api/user/profile"),
    ("get", "/api/credits/balance"),
    ("get", "/api/videos"),
    ("post", "/api/generate"),
]


@pytest.mark.parametrize(("method", "path"), PROTECTED)
def test_no_authorization_header_is_no_token(api_client, method, path):
    # middleware/auth.js authMiddleware: no header -> 401 NO_TOKEN
    assert_error(getattr(api_client, method)(path), 401, "NO_TOKEN")


def test_a_header_that_is_not_bearer_is_no_token(api_client, user):
    # middleware/auth.js authMiddleware: !authHeader.startsWith('Bearer ') -> NO_TOKEN
    token = auth_tokens_issue(user=user)["token"]
    assert_error(api_client.get("/api/user/profile", HTTP_AUTHORIZATION=f"Token {token}"), 401, "NO_TOKEN")


def test_a_malformed_token_is_invalid_token(api_client):
    # middleware/auth.js authMiddleware: verifyToken null -> INVALID_TOKEN
    assert_error(api_client.get("/api/user/profile", HTTP_AUTHORIZATION="Bearer abc.def.ghi"), 401, "INVALID_TOKEN")


def test_an_expired_token_is_invalid_token(api_client, user, settings):
    # auth-service.js verifyToken swallows TokenExpiredError: the app sees INVALID_TOKEN
    token = auth_tokens_issue(user=user)["token"]
    claims = jwt.decode(token, options={"verify_signature": False})
    claims.update(iat=int(time.time()) - 3600, exp=int(time.time()) - 60)
    expired = jwt.encode(claims, settings.SIMPLE_JWT["SIGNING_KEY"], algorithm="HS256")
    assert_error(api_client.get("/api/user/profile", HTTP_AUTHORIZATION=f"Bearer {expired}"), 401, "INVALID_TOKEN")


def test_the_token_of_a_removed_user_is_user_not_found(api_client):
    # middleware/auth.js authMiddleware: getUserById null -> 401 USER_NOT_FOUND
    user = UserFactory()
    token = auth_tokens_issue(user=user)["token"]
    User.objects.filter(pk=user.pk).delete()
    assert_error(api_client.get("/api/user/profile", HTTP_AUTHORIZATION=f"Bearer {token}"), 401, "USER_NOT_FOUND")


def test_the_token_of_a_deleted_account_is_user_not_found(api_client):
    # routes/user.js DELETE /account soft-deleted the profile, and Express kept accepting its token (a
    # defect); here the account is gone, and the app gets the code it knows for that
    user = UserFactory()
    token = auth_tokens_issue(user=user)["token"]
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    assert api_client.delete("/api/user/account", {"confirmDeletion": True}, format="json", **headers).status_code == 200
    assert_error(api_client.get("/api/user/profile", **headers), 401, "USER_NOT_FOUND")


def test_the_general_limit_is_rate_limit_exceeded(api_client, settings):
    # middleware/rate-limit.js generalLimit: 429 {code RATE_LIMIT_EXCEEDED, message, retryAfter '60 seconds'}
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "api": "2/m"}
    for _ in range(2):
        api_client.get("/api/credits/packages")
    error = assert_error(api_client.get("/api/credits/packages"), 429, "RATE_LIMIT_EXCEEDED", retryAfter=str)
    assert error["retryAfter"] == "60 seconds"


@pytest.mark.parametrize("path", ["/api/no-such-route", "/api/videos/123/unknown", "/no-such-page"])
def test_an_unknown_route_is_not_found(api_client, path):
    # middleware/error-handler.js notFoundHandler: createError(..., 404, 'NOT_FOUND')
    assert_error(api_client.get(path), 404, "NOT_FOUND")


@override_settings(ROOT_URLCONF="tests.api.urls_with_failure")
def test_an_unexpected_failure_is_internal_server_error(api_client):
    # middleware/error-handler.js errorHandler: default 500 INTERNAL_SERVER_ERROR, no stack in production
    response = api_client.get("/api/test-crash")
    assert_error(response, 500, "INTERNAL_SERVER_ERROR")
    assert "Traceback" not in response.content.decode()
