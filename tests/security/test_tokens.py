"""Bearer and refresh tokens: expired, tampered, wrong type, orphaned, reused (also concurrently)."""

import base64
import json
import threading
from datetime import timedelta

import jwt
import pytest
from django.conf import settings
from django.db import connection
from rest_framework.test import APIClient
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken

from accounts.models import User
from accounts.services import auth_tokens_issue
from aiasmr.lifecycle.services import account_delete
from tests.factories import UserFactory
from tests.security.conftest import error_code

pytestmark = pytest.mark.django_db


def _profile(token: str):
    return APIClient().get("/api/user/profile", HTTP_AUTHORIZATION=f"Bearer {token}")


def _refresh(token: str):
    return APIClient().post("/api/auth/refresh", {"refreshToken": token}, format="json")


def _assert_refused(response):
    assert response.status_code == 401
    assert error_code(response) == "INVALID_TOKEN"


def _b64(data: dict | bytes) -> str:
    raw = data if isinstance(data, bytes) else json.dumps(data, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _claims(token: str) -> dict:
    return jwt.decode(token, options={"verify_signature": False})


def _access(user, *, lifetime: timedelta) -> str:
    token = AccessToken.for_user(user)
    token["ver"] = user.token_version
    token.set_exp(lifetime=lifetime)
    return str(token)


def test_expired_access_token_is_refused_and_a_fresh_one_works(user):
    _assert_refused(_profile(_access(user, lifetime=timedelta(seconds=-5))))
    assert _profile(_access(user, lifetime=timedelta(minutes=5))).status_code == 200


def test_expired_refresh_token_is_refused_and_issues_nothing(user):
    refresh = RefreshToken.for_user(user)
    refresh["ver"] = user.token_version
    refresh.set_exp(lifetime=timedelta(seconds=-5))
    outstanding = OutstandingToken.objects.count()

    _assert_refused(_refresh(str(refresh)))

    assert OutstandingToken.objects.count() == outstanding
    assert not BlacklistedToken.objects.exists()


def test_tampered_access_tokens_are_refused(user):
    victim = UserFactory()
    valid = auth_tokens_issue(user=user)["token"]
    header, payload, signature = valid.split(".")
    claims = _claims(valid)
    impersonating = {**claims, "user_id": str(victim.pk)}
    key = settings.SIMPLE_JWT["SIGNING_KEY"]

    forged = {
        "payload changed, old signature": f"{header}.{_b64(impersonating)}.{signature}",
        "signature stripped": f"{header}.{payload}.",
        "signature dropped": f"{header}.{payload}",
        "alg none": f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(impersonating)}.",
        "alg None, signature kept": f"{_b64({'alg': 'None', 'typ': 'JWT'})}.{_b64(impersonating)}.{signature}",
        "another key": jwt.encode(impersonating, "another-secret-key-of-at-least-32-bytes!", algorithm="HS256"),
        "another algorithm, same key": jwt.encode(impersonating, key, algorithm="HS512"),
        "garbage signature": f"{header}.{payload}.{_b64(b'x' * 32)}",
    }
    for name, token in forged.items():
        response = _profile(token)
        assert response.status_code == 401, name
        assert error_code(response) == "INVALID_TOKEN", name

    # The control: the same claims signed with the real key do get in, as the victim.
    genuine = jwt.encode(impersonating, key, algorithm="HS256")
    assert _profile(genuine).json()["data"]["user"]["id"] == str(victim.pk)


def test_tampered_refresh_tokens_are_refused_and_nothing_is_blacklisted(user):
    victim = UserFactory()
    valid = auth_tokens_issue(user=user)["refreshToken"]
    header, payload, signature = valid.split(".")
    impersonating = {**_claims(valid), "user_id": str(victim.pk)}
    for token in (
        f"{header}.{_b64(impersonating)}.{signature}",
        f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(impersonating)}.",
        jwt.encode(impersonating, "another-secret-key-of-at-least-32-bytes!", algorithm="HS256"),
    ):
        _assert_refused(_refresh(token))
    assert not BlacklistedToken.objects.exists()
    assert _refresh(valid).status_code == 200


def test_a_refresh_token_is_not_an_access_token(user, tokens):
    _assert_refused(_profile(tokens["refreshToken"]))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['refreshToken']}")
    _assert_refused(client.post("/api/generate", {"prompt": "soap cutting on a board"}, format="json"))
    assert client.post("/api/auth/logout").status_code == 401
    assert not BlacklistedToken.objects.exists()


def test_an_access_token_in_the_body_is_not_a_refresh_token(user, tokens):
    _assert_refused(_refresh(tokens["token"]))
    assert OutstandingToken.objects.count() == 1


def test_tokens_of_a_deactivated_user_stop_working(user, tokens):
    User.objects.filter(pk=user.pk).update(is_active=False)

    assert _profile(tokens["token"]).status_code == 401
    _assert_refused(_refresh(tokens["refreshToken"]))
    assert OutstandingToken.objects.filter(user=user).count() == 1  # nothing new was issued


def test_tokens_of_a_deleted_user_stop_working(user, tokens):
    account_delete(user=user)

    assert _profile(tokens["token"]).status_code == 401
    _assert_refused(_refresh(tokens["refreshToken"]))
    assert OutstandingToken.objects.count() == 1


def test_tokens_of_a_user_deleted_behind_the_services_back_stop_working(user, tokens):
    """Deleted with a plain ORM delete (no token revocation): the refresh must still fail."""
    User.objects.filter(pk=user.pk).delete()

    assert _profile(tokens["token"]).status_code == 401
    _assert_refused(_refresh(tokens["refreshToken"]))


def test_a_rotated_refresh_token_cannot_be_used_again_by_header_or_body(user, tokens):
    assert _refresh(tokens["refreshToken"]).status_code == 200
    _assert_refused(_refresh(tokens["refreshToken"]))
    header = APIClient().post("/api/auth/refresh", HTTP_AUTHORIZATION=f"Bearer {tokens['refreshToken']}")
    _assert_refused(header)
    assert OutstandingToken.objects.filter(user=user).count() == 2


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_five_concurrent_uses_of_one_refresh_token_rotate_it_once_then_revoke_everything():
    user = UserFactory()
    raw = auth_tokens_issue(user=user)["refreshToken"]
    barrier = threading.Barrier(5)
    results: list[tuple[int, dict]] = []
    lock = threading.Lock()

    def use():
        try:
            barrier.wait(timeout=10)
            response = _refresh(raw)
            with lock:
                results.append((response.status_code, response.json()))
        finally:
            connection.close()

    threads = [threading.Thread(target=use) for _ in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    statuses = sorted(status for status, _ in results)
    assert statuses == [200, 401, 401, 401, 401]
    assert all(body["error"]["code"] == "INVALID_TOKEN" for status, body in results if status == 401)
    # One rotation: exactly one new refresh token was issued. The reuse then signed out every session,
    # so the winner's new tokens are revoked too (two parties held one token).
    assert OutstandingToken.objects.filter(user=user).count() == 2
    assert BlacklistedToken.objects.filter(token__user=user).count() == 2
    [winner] = [body["data"] for status, body in results if status == 200]
    _assert_refused(_refresh(winner["refreshToken"]))
    assert _profile(winner["token"]).status_code == 401
