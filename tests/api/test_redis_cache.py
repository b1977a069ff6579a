"""The shared Redis cache (django-redis): its incr is one atomic step that, like Django's, only increments an
existing key, and a rate-limit count costs one round trip (two on a window's first request) and never leaves a
key without expiry."""

import os
import uuid

import pytest
import redis
from django.core.cache import caches
from django.test import RequestFactory, override_settings
from django_redis.cache import RedisCache

from aiasmr.api.exceptions import RateLimited
from aiasmr.api.ratelimit import enforce_rate_limit
from aiasmr.settings import RATE_LIMITS

REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/15")


@pytest.fixture
def prefix():
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except redis.RedisError:
        pytest.skip(f"needs Redis at {REDIS_URL} (set REDIS_URL); CI starts one")
    return f"test-{uuid.uuid4().hex}"


@pytest.fixture
def cache(prefix):
    return RedisCache(REDIS_URL, {"KEY_PREFIX": prefix})


@pytest.fixture
def round_trips(monkeypatch):
    """The commands sent to Redis from now on, one entry per write to the socket."""
    sent = []
    send = redis.connection.Connection.send_packed_command

    def counting(self, command, check_health=True):
        sent.append(command)
        return send(self, command, check_health)

    monkeypatch.setattr(redis.connection.Connection, "send_packed_command", counting)
    return sent


def test_the_configured_backend_is_django_redis():
    with override_settings(CACHES={"default": {"BACKEND": "django_redis.cache.RedisCache", "LOCATION": REDIS_URL}}):
        assert isinstance(caches["default"], RedisCache)


def test_incr_counts_an_existing_key_and_keeps_its_expiry(cache):
    assert cache.add("hits", 1, 60)
    assert cache.incr("hits") == 2
    assert cache.incr("hits", 5) == 7
    assert cache.get("hits") == 7
    raw = redis.Redis.from_url(REDIS_URL)
    assert 0 < raw.ttl(cache.make_key("hits")) <= 60


def test_incr_of_a_missing_key_raises_and_creates_nothing(cache):
    with pytest.raises(ValueError, match="not found"):
        cache.incr("missing")
    assert cache.get("missing") is None
    assert not redis.Redis.from_url(REDIS_URL).exists(cache.make_key("missing"))


def test_incr_survives_the_script_cache_being_flushed(cache):
    cache.add("hits", 1, 60)
    cache.incr("hits")
    redis.Redis.from_url(REDIS_URL).script_flush()  # what a Redis restart does to loaded scripts
    assert cache.incr("hits") == 3


def test_incr_is_one_round_trip_where_the_stock_backend_took_two(cache, round_trips):
    cache.add("hits", 1, 60)
    cache.incr("hits")  # connects
    round_trips.clear()

    assert cache.incr("hits") == 3
    assert len(round_trips) == 1


def test_a_rate_limit_count_is_one_round_trip_after_the_first_and_its_key_expires(prefix, round_trips):
    backend = {"BACKEND": "django_redis.cache.RedisCache", "LOCATION": REDIS_URL, "KEY_PREFIX": prefix}
    request = RequestFactory().get("/api/user/profile", REMOTE_ADDR="192.0.2.7")
    with override_settings(CACHES={"default": backend}, RATE_LIMITS={**RATE_LIMITS, "api": "3/m"}):
        caches["default"].get("warm-up")  # connects
        counted = []
        for _ in range(3):
            round_trips.clear()
            enforce_rate_limit(request, "api", key="ip")
            counted.append(len(round_trips))
        with pytest.raises(RateLimited):
            enforce_rate_limit(request, "api", key="ip")
    assert counted == [2, 1, 1]  # the window's first incr misses and the add creates it; later ones incr
    raw = redis.Redis.from_url(REDIS_URL)
    keys = raw.keys(f"{prefix}:*")
    assert len(keys) == 1
    assert 0 < raw.ttl(keys[0]) <= 60 + 5  # the window plus django-ratelimit's 5-second margin
    assert int(raw.get(keys[0])) == 4


UNREACHABLE = {"BACKEND": "django_redis.cache.RedisCache", "LOCATION": "redis://127.0.0.1:1/0",
               "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 0.2, "SOCKET_TIMEOUT": 0.2}}


def test_a_cache_outage_lets_requests_through_by_default(caplog):
    request = RequestFactory().get("/api/user/profile", REMOTE_ADDR="192.0.2.8")
    with override_settings(CACHES={"default": UNREACHABLE}, RATE_LIMITS={**RATE_LIMITS, "api": "1/m"}):
        for _ in range(3):
            enforce_rate_limit(request, "api", key="ip")
    assert [r.event for r in caplog.records if hasattr(r, "event")].count("ratelimit_cache_error") == 3


def test_a_cache_outage_refuses_requests_when_told_to_fail_closed():
    request = RequestFactory().get("/api/user/profile", REMOTE_ADDR="192.0.2.9")
    with (
        override_settings(CACHES={"default": UNREACHABLE}, RATELIMIT_FAIL_OPEN=False),
        pytest.raises(RateLimited) as refused,
    ):
        enforce_rate_limit(request, "api", key="ip")
    assert refused.value.status_code == 429
