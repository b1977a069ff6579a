import pytest
from rest_framework.test import APIClient

from accounts.models import RevokedTokenFamily, User
from credits.models import CreditTransaction

pytestmark = pytest.mark.django_db

PASSWORD = "Str0ng-pass!"


def register(client, email="new@example.com", password=PASSWORD):
    return client.post("/api/auth/register", {"email": email, "password": password}, format="json")


def test_register_returns_user_tokens_and_grants_bonus_through_ledger(api_client):
    response = register(api_client)
    assert response.status_code == 201
    body = response.json()
    assert body["success"] is True
    assert body["data"]["user"]["email"] == "new@example.com"
    assert body["data"]["user"]["credits"] == 20
    assert body["data"]["token"] and body["data"]["refreshToken"]
    entries = CreditTransaction.objects.filter(user__email="new@example.com")
    assert [(e.type, e.amount, e.balance_after) for e in entries] == [("bonus", 20, 20)]


def test_register_same_email_any_case_is_registration_failed(api_client):
    # Express's answer (routes/auth.js): 400 REGISTRATION_FAILED; still one account
    register(api_client)
    response = register(api_client, email="NEW@Example.com")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "REGISTRATION_FAILED"
    assert User.objects.filter(email__iexact="new@example.com").count() == 1


@pytest.mark.parametrize(
    "password",
    ["short1!", "alllower123!", "ALLUPPER123!", "NoDigits!!", "NoSpecial123", "A1!a" * 40],
)
def test_register_weak_password_is_validation_error(api_client, password):
    response = register(api_client, password=password)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "VALIDATION_ERROR"
    assert error["details"][0]["field"] == "password"


def test_register_bad_email_lists_field(api_client):
    response = register(api_client, email="not-an-email")
    assert response.status_code == 400
    assert response.json()["error"]["details"] == [
        {"field": "email", "message": "Enter a valid email address."}
    ]


def test_login_is_case_insensitive_and_returns_same_shape(api_client):
    register(api_client)
    response = api_client.post("/api/auth/login", {"email": "New@Example.COM", "password": PASSWORD}, format="json")
    assert response.status_code == 200
    data = response.json()["data"]
    assert set(data) == {"user", "token", "refreshToken"}
    assert data["user"]["credits"] == 20


@pytest.mark.parametrize("email", ["new@example.com", "nobody@example.com"])
def test_login_failure_gives_no_hint(api_client, email):
    register(api_client)
    response = api_client.post("/api/auth/login", {"email": email, "password": "Wrong-pass1!"}, format="json")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "LOGIN_FAILED"


def test_refresh_rotates_and_old_token_is_refused(api_client, settings):
    settings.JWT_REFRESH_REUSE_GRACE_SECONDS = 0  # past the grace window for concurrent refreshes
    tokens = register(api_client).json()["data"]
    first = api_client.post("/api/auth/refresh", HTTP_AUTHORIZATION=f"Bearer {tokens['refreshToken']}")
    assert first.status_code == 200
    rotated = first.json()["data"]
    assert rotated["refreshToken"] != tokens["refreshToken"]
    body_form = api_client.post("/api/auth/refresh", {"refreshToken": rotated["refreshToken"]}, format="json")
    assert body_form.status_code == 200
    access = api_client.get("/api/user/profile", HTTP_AUTHORIZATION=f"Bearer {body_form.json()['data']['token']}")
    assert access.status_code == 200
    again = api_client.post("/api/auth/refresh", HTTP_AUTHORIZATION=f"Bearer {tokens['refreshToken']}")
    assert again.status_code == 401
    assert again.json()["error"]["code"] == "INVALID_TOKEN"


def _refresh(client, refresh_token):
    return client.post("/api/auth/refresh", {"refreshToken": refresh_token}, format="json")


def test_a_reuse_within_the_grace_window_gets_a_valid_pair_of_the_same_family(api_client):
    # Two refreshes of one token fired at once by one app: the second is not a theft.
    tokens = register(api_client).json()["data"]
    first = _refresh(api_client, tokens["refreshToken"]).json()["data"]
    second = _refresh(api_client, tokens["refreshToken"])
    assert second.status_code == 200
    for pair in (first, second.json()["data"]):
        assert _refresh(api_client, pair["refreshToken"]).status_code == 200
        assert api_client.get("/api/user/profile", HTTP_AUTHORIZATION=f"Bearer {pair['token']}").status_code == 200
    assert not RevokedTokenFamily.objects.exists()


def test_a_reuse_after_the_grace_window_signs_out_that_device_only(api_client, settings):
    settings.JWT_REFRESH_REUSE_GRACE_SECONDS = 0
    phone = register(api_client).json()["data"]
    login = {"email": "new@example.com", "password": PASSWORD}
    tablet = api_client.post("/api/auth/login", login, format="json").json()["data"]
    rotated = _refresh(api_client, phone["refreshToken"]).json()["data"]

    reuse = _refresh(api_client, phone["refreshToken"])
    assert reuse.status_code == 401
    assert reuse.json()["error"]["code"] == "INVALID_TOKEN"
    # The phone's family is signed out: the newer pair too (one of the two holders is not the user).
    assert _refresh(api_client, rotated["refreshToken"]).status_code == 401
    assert api_client.get("/api/user/profile", HTTP_AUTHORIZATION=f"Bearer {rotated['token']}").status_code == 401
    # The tablet's session is another family: it keeps working, token and refresh.
    assert api_client.get("/api/user/profile", HTTP_AUTHORIZATION=f"Bearer {tablet['token']}").status_code == 200
    assert _refresh(api_client, tablet["refreshToken"]).status_code == 200
    assert RevokedTokenFamily.objects.get().reason == "reuse"


def test_refresh_with_an_access_token_keeps_the_session_family(api_client):
    # The Express way: Bearer <current access token>; repeatable, and the new pair stays in the family.
    tokens = register(api_client).json()["data"]
    first = api_client.post("/api/auth/refresh", HTTP_AUTHORIZATION=f"Bearer {tokens['token']}")
    again = api_client.post("/api/auth/refresh", HTTP_AUTHORIZATION=f"Bearer {tokens['token']}")
    assert first.status_code == again.status_code == 200
    assert first.json()["data"]["user"]["email"] == "new@example.com"
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['token']}")
    api_client.post("/api/auth/logout", {"refreshToken": tokens["refreshToken"]}, format="json")
    api_client.credentials()
    # Logging out the device signs out every token of its family, including the refreshed ones.
    for data in (first.json()["data"], again.json()["data"]):
        assert api_client.get("/api/user/profile", HTTP_AUTHORIZATION=f"Bearer {data['token']}").status_code == 401
        assert _refresh(api_client, data["refreshToken"]).status_code == 401


def test_refresh_refuses_an_access_token_in_the_body_and_a_missing_token(api_client):
    tokens = register(api_client).json()["data"]
    wrong_type = _refresh(api_client, tokens["token"])
    assert wrong_type.status_code == 401
    assert wrong_type.json()["error"]["code"] == "INVALID_TOKEN"
    missing = api_client.post("/api/auth/refresh")
    assert missing.status_code == 401
    assert missing.json()["error"]["code"] == "NO_TOKEN"


def test_logout_revokes_refresh_token(api_client):
    tokens = register(api_client).json()["data"]
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['token']}")
    response = api_client.post("/api/auth/logout", {"refreshToken": tokens["refreshToken"]}, format="json")
    assert response.status_code == 200
    api_client.credentials()
    reuse = api_client.post("/api/auth/refresh", {"refreshToken": tokens["refreshToken"]}, format="json")
    assert reuse.status_code == 401


def _signed_in_twice(api_client):
    phone = register(api_client).json()["data"]
    tablet = api_client.post(
        "/api/auth/login", {"email": "new@example.com", "password": "Str0ng-pass!"}, format="json"
    ).json()["data"]
    return phone, tablet


def _session_works(tokens) -> bool:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['token']}")
    return client.get("/api/user/profile").status_code == 200


def test_logout_with_the_access_token_alone_signs_out_that_session_only(api_client):
    # What an Express-era app sends: its token, no body. The user's other phone stays signed in.
    phone, tablet = _signed_in_twice(api_client)
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {phone['token']}")
    assert api_client.post("/api/auth/logout").status_code == 200
    assert api_client.get("/api/user/profile").json()["error"]["code"] == "INVALID_TOKEN"
    api_client.credentials()
    assert api_client.post("/api/auth/refresh", {"refreshToken": phone["refreshToken"]}, format="json").status_code == 401
    assert _session_works(tablet)
    assert api_client.post("/api/auth/refresh", {"refreshToken": tablet["refreshToken"]}, format="json").status_code == 200


def test_logout_everywhere_signs_out_every_session(api_client):
    phone, tablet = _signed_in_twice(api_client)
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {phone['token']}")
    assert api_client.post("/api/auth/logout", {"everywhere": True}, format="json").status_code == 200
    assert not _session_works(phone) and not _session_works(tablet)
    api_client.credentials()
    assert api_client.post("/api/auth/refresh", {"refreshToken": tablet["refreshToken"]}, format="json").status_code == 401


@pytest.mark.parametrize("header", [None, "Bearer not.a.token"])
def test_logout_is_public_and_revokes_nothing_without_a_valid_token(api_client, header):
    # routes/auth.js POST /logout: public, always 200
    tokens = register(api_client).json()["data"]
    extra = {"HTTP_AUTHORIZATION": header} if header else {}
    response = api_client.post("/api/auth/logout", {"refreshToken": tokens["refreshToken"]}, format="json", **extra)
    assert response.status_code == 200
    assert response.json().get("data") is None
    assert _refresh(api_client, tokens["refreshToken"]).status_code == 200


def test_tampered_token_is_invalid(api_client):
    tokens = register(api_client).json()["data"]
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['token'][:-3]}abc")
    response = api_client.get("/api/user/profile")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "INVALID_TOKEN"
