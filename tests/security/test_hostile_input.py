"""Oversized, deeply nested and hostile bodies: 413/400 in the envelope, never a 500, never a charge;
unicode and markup are stored as plain text and escaped wherever staff see them."""

import json

import pytest
from django.test import override_settings
from django.urls import reverse

from accounts.models import Profile
from billing.models import Order
from tests.videos.conftest import GOOD_BODY, balance, run_tasks
from videos.models import Video

pytestmark = pytest.mark.django_db

XSS = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def _raw(client, method, path, body: str, **extra):
    return client.generic(method, path, body, content_type="application/json", **extra)


def _assert_error(response, status: int, code: str):
    assert response.status_code == status, response.content[:300]
    body = response.json()
    assert body["success"] is False and body["error"]["code"] == code
    return body["error"]


@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=4096)
@pytest.mark.parametrize(
    ("method", "path", "authenticated"),
    [
        ("POST", "/api/generate", True),
        ("PUT", "/api/user/profile", True),
        ("PUT", "/api/user/preferences", True),
        ("POST", "/api/credits/purchase", True),
        ("POST", "/api/auth/register", False),
        ("POST", "/api/kie-callback?secret=x", False),
        ("POST", "/api/billing/webhooks/stripe/", False),
        ("POST", "/api/billing/webhooks/sandbox/", False),
    ],
)
def test_oversized_bodies_are_413_in_the_envelope_on_every_write(auth_client, api_client, method, path, authenticated):
    client = auth_client if authenticated else api_client
    body = json.dumps({**GOOD_BODY, "package": "basic", "amount": 100, "padding": "x" * 5000})

    error = _assert_error(_raw(client, method, path, body), 413, "PAYLOAD_TOO_LARGE")

    assert error["details"]["maxBytes"] == 4096
    assert not Video.objects.exists() and not Order.objects.exists()


@pytest.mark.parametrize(
    "body",
    [
        "{" + '"a":{' * 30 + "}" * 31,  # objects nested past MAX_JSON_DEPTH
        json.dumps({**GOOD_BODY, "triggers": [[[[[[[[[[[[[[[[[[[[[["soap"]]]]]]]]]]]]]]]]]]]]]]}),
        '{"prompt": ' + "[" * 100_000 + "]" * 100_000 + "}",  # deeper than the recursion limit
    ],
)
def test_deeply_nested_bodies_are_400_and_charge_nothing(auth_client, body):
    _assert_error(_raw(auth_client, "POST", "/api/generate", body), 400, "INVALID_JSON")
    assert not Video.objects.exists() and balance(auth_client.user) == 20


@pytest.mark.parametrize(
    ("method", "path", "body", "field"),
    [
        ("POST", "/api/generate", {**GOOD_BODY, "prompt": "soap " * 150_000}, "prompt"),
        ("POST", "/api/generate", {**GOOD_BODY, "waterMark": "w" * 500_000}, "waterMark"),
        ("POST", "/api/generate", {**GOOD_BODY, "imageUrl": "https://cdn.example.com/" + "a" * 500_000}, "imageUrl"),
        ("POST", "/api/generate", {**GOOD_BODY, "triggers": ["soap"] * 50_000}, "triggers"),
        ("POST", "/api/generate", {**GOOD_BODY, "triggers": ["s" * 500_000]}, "triggers"),
        ("PUT", "/api/user/profile", {"bio": "b" * 900_000}, "bio"),
        ("PUT", "/api/user/profile", {"avatar_url": "https://cdn.example.com/" + "a" * 900_000}, "avatar_url"),
        ("PUT", "/api/user/preferences", {"language": "l" * 900_000}, "language"),
        ("POST", "/api/credits/purchase", {"package": "p" * 900_000, "amount": 100}, "package"),
        ("PUT", "/api/user/password", {"currentPassword": "c" * 400_000, "newPassword": "N" * 400_000,
                                       "confirmPassword": "x"}, "currentPassword"),
    ],
)
def test_huge_strings_in_fields_are_validation_errors(fake_kie, auth_client, method, path, body, field):
    error = _assert_error(_raw(auth_client, method, path, json.dumps(body)), 400, "VALIDATION_ERROR")

    assert field in {item["field"].split(".")[0].split("[")[0] for item in error["details"]}
    assert not Video.objects.exists() and not Order.objects.exists()
    profile = Profile.objects.get(user=auth_client.user)
    assert (profile.bio, profile.avatar_url, profile.language, profile.credits) == ("", "", "en", 20)


def test_huge_strings_on_the_anonymous_endpoints(api_client):
    for path, body in [
        ("/api/auth/login", {"email": "a" * 900_000, "password": "x"}),
        ("/api/auth/login", {"email": "a@example.com", "password": "p" * 900_000}),
        ("/api/auth/register", {"email": "a" * 900_000 + "@example.com", "password": "Str0ng-pass!"}),
        ("/api/auth/refresh", {"refreshToken": "r" * 900_000}),
    ]:
        _assert_error(_raw(api_client, "POST", path, json.dumps(body)), 400, "VALIDATION_ERROR")


def test_huge_and_nul_ids_in_paths_and_headers_are_refused_not_500(auth_client):
    for path in ("/api/generate/status/" + "a" * 20_000, "/api/generate/status/abc%00def",
                 "/api/generate/cancel/abc%00def", "/api/generate/status/%ED%A0%80"):
        method = auth_client.post if "cancel" in path else auth_client.get
        _assert_error(method(path), 404, "TASK_NOT_FOUND")
    for key in ("k" * 10_000, "a\x00b", "a\nb"):
        response = auth_client.post("/api/generate", GOOD_BODY, format="json", HTTP_IDEMPOTENCY_KEY=key)
        _assert_error(response, 400, "VALIDATION_ERROR")
        response = auth_client.post("/api/credits/purchase", {"package": "basic", "amount": 100}, format="json",
                                    HTTP_IDEMPOTENCY_KEY=key)
        _assert_error(response, 400, "VALIDATION_ERROR")
    for query in ("page=%00", "page=99999999999999999999999", "limit=-1", "limit=1e9", "page=1&page=" + "9" * 5000):
        _assert_error(auth_client.get(f"/api/videos?{query}"), 400, "VALIDATION_ERROR")
    assert not Video.objects.exists()


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/api/generate", '{"prompt": "soap cutting \\ud800 on a board"}'),
        ("PUT", "/api/user/profile", '{"first_name": "a\\udfff"}'),
        ("PUT", "/api/user/preferences", '{"timezone": "\\ud800"}'),  # a choice field echoes bad input back
        ("PUT", "/api/user/preferences", '{"language": "en", "\\ud800": 1}'),  # in a key
        ("POST", "/api/credits/purchase", '{"package": "\\udc00", "amount": 100}'),
        ("POST", "/api/auth/login", '{"email": "a\\ud800@example.com", "password": "x"}'),
    ],
)
def test_lone_surrogates_are_400_not_500(auth_client, method, path, body):
    _assert_error(_raw(auth_client, method, path, body), 400, "INVALID_JSON")
    assert Profile.objects.get(user=auth_client.user).first_name == ""


def test_a_valid_surrogate_pair_is_an_ordinary_character(fake_kie, auth_client):
    response = _raw(auth_client, "POST", "/api/generate", '{"prompt": "soap cutting \\ud83e\\uddfc on a board"}')
    assert response.status_code == 200
    assert Video.objects.get().prompt == "soap cutting \U0001f9fc on a board"


@pytest.mark.parametrize(
    "extra",
    [
        {"prompt": "soap cutting on a\u200b board"},  # zero-width space
        {"prompt": "soap cutting \u202eon a board"},  # right-to-left override
        {"prompt": "soap cutting \ufeffon a board"},  # byte order mark
        {"prompt": "soap cutting on a board\x1b[2J"},  # terminal escape
        {"prompt": "soap cutting\x85 on a board"},  # C1 control
        {"prompt": "soap cutting on a board\r\nX-Injected: 1"},
        {"triggers": ["so\u200bap"]},
        {"triggers": ["s\u00e0pone"]},
        {"triggers": ["soap\x00"]},
        {"triggers": ["javascript:alert(1)"]},
        {"triggers": ["'; drop table videos;--"]},
        {"triggers": ["<img src=x>"]},
        {"triggers": "soap"},
        {"triggers": [{"name": "soap"}]},
        {"triggers": [None]},
        {"prompt": ["soap cutting on a board"]},
        {"prompt": {"text": "soap cutting on a board"}},
        {"waterMark": "brand\x1b[31m"},
        {"waterMark": "brand\u202e"},
        {"duration": "5; drop table"},
        {"duration": True},
    ],
)
def test_control_characters_markup_and_wrong_types_are_refused(fake_kie, auth_client, extra):
    response = auth_client.post("/api/generate", {**GOOD_BODY, **extra}, format="json")
    _assert_error(response, 400, "VALIDATION_ERROR")
    assert not Video.objects.exists() and balance(auth_client.user) == 20


def test_unicode_and_markup_in_a_prompt_are_kept_as_plain_text(fake_kie, auth_client):
    prompt = f"ASMR \U0001f9fc мыло 石鹸 صابون {XSS} soap cutting"
    response = auth_client.post("/api/generate", {**GOOD_BODY, "prompt": prompt}, format="json")

    assert response.status_code == 200 and response["Content-Type"].startswith("application/json")
    video = Video.objects.get()
    assert video.prompt == prompt
    assert auth_client.get(f"/api/videos/{video.pk}").json()["data"]["video"]["original_prompt"] == prompt
    run_tasks()
    [job] = fake_kie.state()["jobs"].values()
    assert job["body"]["prompt"].startswith(f"ASMR video: {prompt}")


def test_markup_from_users_is_escaped_in_the_back_office(fake_kie, auth_client, admin_client):
    profile_body = {"first_name": XSS, "last_name": XSS, "bio": XSS}
    assert auth_client.put("/api/user/profile", profile_body, format="json").status_code == 200
    auth_client.post("/api/generate", {**GOOD_BODY, "prompt": f"{XSS} soap cutting"}, format="json")
    video = Video.objects.get()
    user_pk = auth_client.user.pk

    pages = [
        reverse("admin:videos_video_changelist"),
        reverse("admin:videos_video_changelist") + "?q=script",
        reverse("admin:videos_video_change", args=[video.pk]),
        reverse("admin:accounts_user_changelist"),
        reverse("admin:accounts_user_change", args=[user_pk]),
        reverse("admin:dashboard"),
    ]
    for url in pages:
        response = admin_client.get(url)
        assert response.status_code == 200, url
        html = response.content.decode()
        assert "<script>alert" not in html and "<img src=x onerror" not in html, url
    assert "&lt;script&gt;alert" in admin_client.get(pages[2]).content.decode()
