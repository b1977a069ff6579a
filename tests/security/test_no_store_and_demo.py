"""Authenticated answers and answers carrying a token are never cached; demo_setup refuses production."""

import pytest
from django.core.management import CommandError, call_command

from accounts.models import User

pytestmark = pytest.mark.django_db

PASSWORD = "Str0ng-pass-123!"


def test_authenticated_answers_are_no_store(auth_client):
    for path in ("/api/user/profile", "/api/credits/balance", "/api/videos", "/api/videos/not-a-uuid"):
        response = auth_client.get(path)
        assert response["Cache-Control"] == "no-store", (path, response.status_code)


def test_answers_carrying_tokens_are_no_store(api_client):
    response = api_client.post("/api/auth/register", {"email": "ada@example.com", "password": PASSWORD}, format="json")
    assert response.status_code == 201 and response["Cache-Control"] == "no-store"
    response = api_client.post("/api/auth/login", {"email": "ada@example.com", "password": PASSWORD}, format="json")
    assert response.status_code == 200 and response["Cache-Control"] == "no-store"
    refresh = response.json()["data"]["refreshToken"]
    response = api_client.post("/api/auth/refresh", {"refreshToken": refresh}, format="json")
    assert response.status_code == 200 and response["Cache-Control"] == "no-store"


def test_a_bad_token_answer_is_no_store_too(api_client):
    response = api_client.get("/api/user/profile", HTTP_AUTHORIZATION="Bearer nope")
    assert response.status_code == 401 and response["Cache-Control"] == "no-store"


def test_anonymous_public_answers_are_left_alone(api_client):
    assert "no-store" not in api_client.get("/api/health").get("Cache-Control", "")


def test_the_admin_keeps_its_own_never_cache(client, django_user_model):
    staff = django_user_model.objects.create_superuser(email="staff@example.com", password=PASSWORD)
    client.force_login(staff)
    response = client.get("/admin/")
    assert response.status_code == 200 and "no-store" in response["Cache-Control"]


def test_demo_setup_refuses_production(settings):
    settings.IS_PRODUCTION = True
    with pytest.raises(CommandError, match="production"):
        call_command("demo_setup")
    assert not User.objects.exists()


def test_demo_setup_still_creates_the_demo_staff_outside_production(settings):
    settings.IS_PRODUCTION = False
    call_command("demo_setup")
    assert User.objects.get(email="admin@aiasmr.local").is_superuser
