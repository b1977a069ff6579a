"""Express routers are not strict: one trailing slash is optional on every API route, with no redirect (a POST
keeps its body), whichever way the route is registered; the admin keeps Django's own slash rules."""

import logging

import pytest

from aiasmr.api.trailing_slash import registered_spelling, slashed_routes

pytestmark = pytest.mark.django_db

URLCONF = "aiasmr.urls"


def test_routes_registered_with_a_slash_are_known():
    paths = {route.pattern for route in slashed_routes(URLCONF)}
    assert any("billing/webhooks/stripe/" in path for path in paths)
    assert not any(path.startswith("admin") for path in paths)


@pytest.mark.parametrize(
    ("path", "spelling"),
    [
        ("/api/videos", "/api/videos"),
        ("/api/videos/", "/api/videos"),
        ("/api/generate/status/abc/", "/api/generate/status/abc"),
        ("/health/", "/health"),
        ("/api/billing/webhooks/stripe/", "/api/billing/webhooks/stripe/"),
        ("/api/billing/webhooks/stripe", "/api/billing/webhooks/stripe/"),
        ("/api/schema", "/api/schema/"),
        ("/api/no-such-route/", "/api/no-such-route"),
        ("/admin/login/", "/admin/login/"),
        ("/admin/login", "/admin/login"),
        ("/api/", "/api/"),
    ],
)
def test_the_path_takes_the_spelling_its_route_is_registered_with(path, spelling):
    assert registered_spelling(path, urlconf=URLCONF) == spelling


def test_a_post_with_a_trailing_slash_keeps_its_body(api_client):
    body = {"email": "nobody@example.com", "password": "Wrong-pass-1!"}
    plain = api_client.post("/api/auth/login", body, format="json")
    slashed = api_client.post("/api/auth/login/", body, format="json")
    assert plain.status_code == slashed.status_code == 401
    assert slashed.json()["error"]["code"] == "LOGIN_FAILED"


def test_the_webhook_answers_with_and_without_its_slash(api_client):
    for path in ("/api/billing/webhooks/sandbox/", "/api/billing/webhooks/sandbox"):
        response = api_client.post(path, "{}", content_type="application/json")
        assert response.status_code not in (301, 302, 404, 405), path


def test_the_access_log_line_carries_the_error_code(api_client, caplog):
    with caplog.at_level(logging.INFO, logger="aiasmr.access"):
        api_client.get("/api/user/profile/")
        api_client.get("/api/no-such-route")
        api_client.get("/api/health/")
    lines = [(r.path, r.status, r.code) for r in caplog.records if r.name == "aiasmr.access"]
    assert lines == [
        ("/api/user/profile", 401, "NO_TOKEN"),
        ("/api/no-such-route", 404, "NOT_FOUND"),
        ("/api/health", 200, None),
    ]
