"""The shared Redis cache's incr: one atomic step that, like Django's, only increments an existing key."""

import os
import uuid

import pytest
import redis

from aiasmr.api.cache import SharedRedisCache

REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/15")


@pytest.fixture
def cache():
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except redis.RedisError:
        pytest.skip(f"needs Redis at {REDIS_URL} (set REDIS_URL); CI starts one")
    return SharedRedisCache(REDIS_URL, {"KEY_PREFIX": f"test-{uuid.uuid4().hex}"})


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


def test_incr_survives_the_script_cache_being_flushed(cache):
    cache.add("hits", 1, 60)
    cache.incr("hits")
    redis.Redis.from_url(REDIS_URL).script_flush()  # what a Redis restart does to loaded scripts
    assert cache.incr("hits") == 3


def test_incr_is_one_round_trip_where_the_stock_backend_took_two(cache, monkeypatch):
    cache.add("hits", 1, 60)
    cache.incr("hits")  # loads the script
    sent = []
    send = redis.connection.Connection.send_packed_command

    def counting(self, command, check_health=True):
        sent.append(command)
        return send(self, command, check_health)

    monkeypatch.setattr(redis.connection.Connection, "send_packed_command", counting)

    assert cache.incr("hits") == 3
    assert len(sent) == 1
