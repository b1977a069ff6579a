import pytest

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


def test_register_same_email_any_case_is_conflict(api_client):
    register(api_client)
    response = register(api_client, email="NEW@Example.com")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "EMAIL_ALREADY_REGISTERED"


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


def test_refresh_rotates_and_old_token_is_refused(api_client):
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


def test_reusing_a_rotated_refresh_token_signs_out_every_session(api_client):
    tokens = register(api_client).json()["data"]
    rotated = api_client.post("/api/auth/refresh", {"refreshToken": tokens["refreshToken"]}, format="json").json()["data"]
    reuse = api_client.post("/api/auth/refresh", {"refreshToken": tokens["refreshToken"]}, format="json")
    assert reuse.json()["error"]["code"] == "INVALID_TOKEN"
    # The party holding the newer tokens is signed out too: one of the two holders is not the user.
    assert api_client.post("/api/auth/refresh", {"refreshToken": rotated["refreshToken"]}, format="json").status_code == 401
    assert api_client.get("/api/user/profile", HTTP_AUTHORIZATION=f"Bearer {rotated['token']}").status_code == 401


def test_refresh_refuses_access_token_and_missing_token(api_client):
    tokens = register(api_client).json()["data"]
    wrong_type = api_client.post("/api/auth/refresh", HTTP_AUTHORIZATION=f"Bearer {tokens['token']}")
    assert wrong_type.status_code == 401
    assert wrong_type.json()["error"]["code"] == "INVALID_TOKEN"
    missing = api_client.post("/api/auth/refresh")
    assert missing.status_code == 401
    assert missing.json()["error"]["code"] == "NOT_AUTHENTICATED"


def test_logout_revokes_refresh_token(api_client):
    tokens = register(api_client).json()["data"]
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['token']}")
    response = api_client.post("/api/auth/logout", {"refreshToken": tokens["refreshToken"]}, format="json")
    assert response.status_code == 200
    api_client.credentials()
    reuse = api_client.post("/api/auth/refresh", {"refreshToken": tokens["refreshToken"]}, format="json")
    assert reuse.status_code == 401


def test_logout_without_token_logs_out_everywhere(api_client):
    tokens = register(api_client).json()["data"]
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['token']}")
    assert api_client.post("/api/auth/logout").status_code == 200
    assert api_client.get("/api/user/profile").json()["error"]["code"] == "INVALID_TOKEN"
    api_client.credentials()
    assert api_client.post("/api/auth/refresh", {"refreshToken": tokens["refreshToken"]}, format="json").status_code == 401


def test_logout_needs_authentication(api_client):
    response = api_client.post("/api/auth/logout")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "NOT_AUTHENTICATED"


def test_tampered_token_is_invalid(api_client):
    tokens = register(api_client).json()["data"]
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['token'][:-3]}abc")
    response = api_client.get("/api/user/profile")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "INVALID_TOKEN"
