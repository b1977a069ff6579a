"""Password guessing against /auth/login: stopped by the auth limit per client IP, logged without secrets."""

import logging

import pytest
from django.test import override_settings

from aiasmr.settings import RATE_LIMITS
from tests.factories import DEFAULT_PASSWORD, UserFactory
from tests.security.conftest import error_code
from tests.security.helpers import leaked

pytestmark = pytest.mark.django_db

ATTACKER_IP = "203.0.113.66"
GUESSES = [f"Guess-{n}-Pa55!" for n in range(5)]


def _login(client, email, password, ip=ATTACKER_IP, **extra):
    return client.post("/api/auth/login", {"email": email, "password": password}, format="json", REMOTE_ADDR=ip, **extra)


@override_settings(RATE_LIMITS={**RATE_LIMITS, "auth": "5/h"})
def test_a_guessing_loop_is_stopped_per_ip_and_logged_without_the_password(api_client, caplog):
    victim = UserFactory(email="victim@example.com")
    caplog.set_level(logging.DEBUG)

    answers = [_login(api_client, victim.email, guess) for guess in GUESSES]
    assert [(r.status_code, error_code(r)) for r in answers] == [(401, "LOGIN_FAILED")] * 5

    # The limit holds even for the right password, for other emails, and with a forged X-Forwarded-For.
    for response in (
        _login(api_client, victim.email, DEFAULT_PASSWORD),
        _login(api_client, "someone-else@example.com", "Other-pass-1!"),
        _login(api_client, victim.email, DEFAULT_PASSWORD, HTTP_X_FORWARDED_FOR="198.51.100.7"),
        api_client.post("/api/auth/register", {"email": "x@example.com", "password": "Str0ng-pass!"},
                        format="json", REMOTE_ADDR=ATTACKER_IP),
    ):
        assert response.status_code == 429 and error_code(response) == "AUTH_RATE_LIMIT_EXCEEDED"
        assert int(response["Retry-After"]) >= 1
        assert response.json()["error"]["retryAfter"] == "1 hour"

    # Another client IP keeps its own budget: the real user still logs in.
    assert _login(api_client, victim.email, DEFAULT_PASSWORD, ip="192.0.2.10").status_code == 200

    security = [r for r in caplog.records if r.name == "aiasmr.security"]
    assert [getattr(r, "event", None) for r in security].count("login_failed") == 5
    assert any(getattr(r, "event", None) == "rate_limited" and getattr(r, "ip", None) == ATTACKER_IP for r in security)
    assert leaked(caplog.records, [*GUESSES, DEFAULT_PASSWORD, "Other-pass-1!", "Str0ng-pass!"]) == []
    assert leaked(security, ["victim@example.com"]) == []  # the domain at most, never the address


@override_settings(RATE_LIMITS={**RATE_LIMITS, "auth": "3/h"}, TRUSTED_PROXY_COUNT=1)
def test_behind_a_trusted_proxy_the_limit_follows_the_forwarded_client(api_client):
    UserFactory(email="victim@example.com")
    for guess in GUESSES[:3]:
        assert _login(api_client, "victim@example.com", guess, HTTP_X_FORWARDED_FOR=ATTACKER_IP).status_code == 401
    blocked = _login(api_client, "victim@example.com", DEFAULT_PASSWORD, HTTP_X_FORWARDED_FOR=ATTACKER_IP)
    assert blocked.status_code == 429
    # Prepending a fake hop does not help: the proxy appends the real address last.
    spoofed = _login(api_client, "victim@example.com", DEFAULT_PASSWORD,
                     HTTP_X_FORWARDED_FOR=f"192.0.2.99, {ATTACKER_IP}")
    assert spoofed.status_code == 429
    assert _login(api_client, "victim@example.com", DEFAULT_PASSWORD, HTTP_X_FORWARDED_FOR="192.0.2.10").status_code == 200
