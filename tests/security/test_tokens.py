"""Bearer and refresh tokens: expired, tampered, wrong type, orphaned, reused (also concurrently)."""

import base64
import json
import secrets
import threading
import time
from datetime import timedelta

import jwt
import pytest
from django.conf import settings
from django.db import connection
from rest_framework.test import APIClient
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken

from accounts.models import RevokedTokenFamily, User
from accounts.services import auth_tokens_issue
from aiasmr.lifecycle.services import account_delete
from tests.factories import DEFAULT_PASSWORD, UserFactory
from tests.security.conftest import error_code

pytestmark = pytest.mark.django_db


def _profile(token: str):
    return APIClient().get("/api/user/profile", HTTP_AUTHORIZATION=f"Bearer {token}")


def _refresh(token: str):
    return APIClient().post("/api/auth/refresh", {"refreshToken": token}, format="json")


def _assert_refused(response, code="INVALID_TOKEN"):
    assert response.status_code == 401
    assert error_code(response) == code


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
    # Logout is public (Express): it answers 200 but a refresh token signs nobody in, so nothing is revoked.
    assert client.post("/api/auth/logout").status_code == 200
    assert not BlacklistedToken.objects.exists()
    assert User.objects.get(pk=user.pk).token_version == 0


def test_an_access_token_in_the_body_is_not_a_refresh_token(user, tokens):
    _assert_refused(_refresh(tokens["token"]))
    assert OutstandingToken.objects.count() == 1


def test_tokens_of_a_deactivated_user_stop_working(user, tokens):
    User.objects.filter(pk=user.pk).update(is_active=False)

    _assert_refused(_profile(tokens["token"]), "USER_NOT_FOUND")
    _assert_refused(_refresh(tokens["refreshToken"]), "USER_NOT_FOUND")
    assert OutstandingToken.objects.filter(user=user).count() == 1  # nothing new was issued


def test_tokens_of_a_deleted_user_stop_working(user, tokens):
    account_delete(user=user)

    _assert_refused(_profile(tokens["token"]), "USER_NOT_FOUND")
    _assert_refused(_refresh(tokens["refreshToken"]), "USER_NOT_FOUND")
    assert OutstandingToken.objects.count() == 1


def test_tokens_of_a_user_deleted_behind_the_services_back_stop_working(user, tokens):
    """Deleted with a plain ORM delete (no token revocation): the refresh must still fail."""
    User.objects.filter(pk=user.pk).delete()

    _assert_refused(_profile(tokens["token"]), "USER_NOT_FOUND")
    _assert_refused(_refresh(tokens["refreshToken"]), "USER_NOT_FOUND")


def test_a_rotated_refresh_token_cannot_be_used_again_by_header_or_body(user, tokens, settings):
    settings.JWT_REFRESH_REUSE_GRACE_SECONDS = 0  # past the grace window for concurrent refreshes
    assert _refresh(tokens["refreshToken"]).status_code == 200
    _assert_refused(_refresh(tokens["refreshToken"]))
    header = APIClient().post("/api/auth/refresh", HTTP_AUTHORIZATION=f"Bearer {tokens['refreshToken']}")
    _assert_refused(header)
    assert OutstandingToken.objects.filter(user=user).count() == 2
    assert RevokedTokenFamily.objects.filter(user=user, reason="reuse").count() == 1


def _race(count: int, work) -> list:
    barrier = threading.Barrier(count)
    results: list = []
    lock = threading.Lock()

    def run():
        try:
            barrier.wait(timeout=10)
            outcome = work()
            with lock:
                results.append(outcome)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_refreshes_of_one_token_each_get_a_valid_pair_of_its_family():
    """One app firing its refresh twice (or five times) at once must not sign its user out."""
    user = UserFactory()
    raw = auth_tokens_issue(user=user)["refreshToken"]
    results = _race(5, lambda: (lambda r: (r.status_code, r.json()))(_refresh(raw)))

    assert sorted(status for status, _ in results) == [200] * 5
    family = _claims(raw)["fam"]
    # The old token was blacklisted once; each caller got its own pair, of the same family, that works.
    assert BlacklistedToken.objects.filter(token__jti=_claims(raw)["jti"]).count() == 1
    for _, body in results:
        pair = body["data"]
        assert _claims(pair["refreshToken"])["fam"] == _claims(pair["token"])["fam"] == family
        assert _profile(pair["token"]).status_code == 200
        assert _refresh(pair["refreshToken"]).status_code == 200
    assert not RevokedTokenFamily.objects.exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_reuses_after_the_grace_window_sign_out_that_family_only(settings):
    """Reused after the window: two parties hold the token. Its family (that device) is signed out, once,
    whatever the races; the user's other device keeps its session."""
    settings.JWT_REFRESH_REUSE_GRACE_SECONDS = 0
    user = UserFactory()
    phone = auth_tokens_issue(user=user)
    tablet = auth_tokens_issue(user=user)
    first = _refresh(phone["refreshToken"]).json()["data"]

    results = _race(4, lambda: (lambda r: (r.status_code, r.json()))(_refresh(phone["refreshToken"])))

    assert sorted(status for status, _ in results) == [401] * 4
    assert all(body["error"]["code"] == "INVALID_TOKEN" for _, body in results)
    assert RevokedTokenFamily.objects.filter(family=_claims(phone["refreshToken"])["fam"]).count() == 1
    _assert_refused(_refresh(first["refreshToken"]))
    _assert_refused(_profile(first["token"]))
    assert _profile(tablet["token"]).status_code == 200
    assert _refresh(tablet["refreshToken"]).status_code == 200


# --- Express's tokens (LEGACY_JWT_SECRET) --------------------------------------------------------------

LEGACY_SECRET = "express-jwt-secret-used-before-the-cut-over"


def _express_token(user, *, secret=LEGACY_SECRET, issued=None, **extra) -> str:
    issued = int(time.time()) if issued is None else issued
    payload = {"id": str(user.pk), "email": user.email, "iat": issued, "exp": issued + 7 * 24 * 3600, **extra}
    return jwt.encode(payload, secret, algorithm="HS256")


@pytest.fixture
def legacy_secret(settings):
    settings.LEGACY_JWT_SECRET = LEGACY_SECRET
    return LEGACY_SECRET


def test_express_tokens_are_refused_while_no_legacy_secret_is_set(user, settings):
    settings.LEGACY_JWT_SECRET = ""
    _assert_refused(_profile(_express_token(user)))
    settings.LEGACY_JWT_SECRET = LEGACY_SECRET  # read at request time: no restart needed
    assert _profile(_express_token(user)).status_code == 200


@pytest.mark.filterwarnings("ignore::jwt.InsecureKeyLengthWarning")  # the HS512 forgery's short key
def test_an_express_token_carrying_token_type_or_missing_claims_is_refused(user, legacy_secret):
    _assert_refused(_profile(_express_token(user, token_type="access")))
    issued = int(time.time())
    no_iat = jwt.encode({"id": str(user.pk), "exp": issued + 60}, LEGACY_SECRET, algorithm="HS256")
    _assert_refused(_profile(no_iat))
    other_algorithm = jwt.encode({"id": str(user.pk), "iat": issued, "exp": issued + 60}, LEGACY_SECRET,
                                 algorithm="HS512")
    _assert_refused(_profile(other_algorithm))


@pytest.mark.parametrize("revoke", ["password", "logout everywhere"])
def test_an_express_token_issued_before_the_sessions_were_revoked_is_refused(user, tokens, legacy_secret, revoke):
    old = _express_token(user, issued=int(time.time()) - 3600)
    assert _profile(old).status_code == 200
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['token']}")
    if revoke == "password":
        body = {"currentPassword": DEFAULT_PASSWORD, "newPassword": "N3w-pass-word!", "confirmPassword": "N3w-pass-word!"}
        assert client.put("/api/user/password", body, format="json").status_code == 200
    else:
        assert client.post("/api/auth/logout", {"everywhere": True}, format="json").status_code == 200
    _assert_refused(_profile(old))
    _assert_refused(APIClient().post("/api/auth/refresh", HTTP_AUTHORIZATION=f"Bearer {old}"))
    # One Express issued after the revocation (the DNS switch is not instant) still signs in (`iat` is in
    # whole seconds, and may not lie in the future).
    time.sleep(1.1)
    assert _profile(_express_token(user)).status_code == 200


def test_an_express_token_of_a_deleted_user_is_user_not_found(user, legacy_secret):
    token = _express_token(user)
    account_delete(user=user)
    _assert_refused(_profile(token), "USER_NOT_FOUND")
    _assert_refused(APIClient().post("/api/auth/refresh", HTTP_AUTHORIZATION=f"Bearer {token}"), "USER_NOT_FOUND")


def test_an_express_token_refreshes_into_a_pair_of_a_new_family(user, legacy_secret):
    response = APIClient().post("/api/auth/refresh", HTTP_AUTHORIZATION=f"Bearer {_express_token(user)}")
    assert response.status_code == 200
    data = response.json()["data"]
    assert _claims(data["token"])["fam"] == _claims(data["refreshToken"])["fam"]
    assert _refresh(data["refreshToken"]).status_code == 200


def test_production_refuses_a_legacy_secret_equal_to_jwt_secret():
    from tests.api.test_production_settings import manage, production_env

    shared = secrets.token_urlsafe(40)
    result = manage("check", **production_env(JWT_SECRET=shared, LEGACY_JWT_SECRET=shared))
    assert result.returncode != 0
    assert "LEGACY_JWT_SECRET" in result.stderr
    assert manage("check", **production_env(LEGACY_JWT_SECRET="x" * 20)).returncode == 0
