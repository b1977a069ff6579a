"""Rate limits from settings.RATE_LIMITS, counted by django-ratelimit in the shared cache."""

import functools
import ipaddress
import logging
import time

from django.conf import settings
from django.core.cache import caches
from django.core.signals import setting_changed
from django.dispatch import receiver
from django_ratelimit.core import EXPIRATION_FUDGE, _get_window, _make_cache_key, _split_rate

from aiasmr.api.exceptions import rate_limited
from aiasmr.api.logging import security_log

logger = logging.getLogger("aiasmr.ratelimit")


def client_ip(request) -> str:
    """REMOTE_ADDR, or the entry a configured number of trusted proxies put in X-Forwarded-For."""
    remote = request.META.get("REMOTE_ADDR", "") or "0.0.0.0"  # noqa: S104 - placeholder key only
    proxies = settings.TRUSTED_PROXY_COUNT
    if proxies <= 0:
        return remote
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
    if len(forwarded) < proxies:
        return remote
    candidate = forwarded[-proxies]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return remote


def _key_ip(group, request) -> str:
    return client_ip(request)


def _key_user(group, request) -> str:
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return f"user:{user.pk}"
    return f"ip:{client_ip(request)}"


KEYS = {"ip": _key_ip, "user": _key_user}


@functools.cache
def _counter_cache():
    """One cache client per process for the counters. Django's `caches[...]` is per thread and per
    request context, and under the ASGI server every request has a thread of its own: it would build a
    new Redis client on every request. django-redis's client and the locmem cache are thread-safe."""
    return caches.create_connection(settings.RATELIMIT_USE_CACHE)


@receiver(setting_changed)
def _forget_counter_cache(setting, **kwargs):
    if setting in {"CACHES", "RATELIMIT_USE_CACHE"}:
        _counter_cache.cache_clear()


def count_request(*, scope: str, value: str, rate: str) -> tuple[int, int, int]:
    """Counts one request of `value` (an IP or user key) in `scope`'s current window: (count, limit,
    seconds left in the window). django-ratelimit's windows and cache keys; unlike its `get_usage`
    (an `add`, then an `incr` on every later request) the increment comes first, so counting is one round
    trip to Redis except on a window's first request."""
    limit, period = _split_rate(rate)
    window = _get_window(value, period)
    key = _make_cache_key(f"aiasmr.{scope}", window, rate, value, None)
    cache = _counter_cache()
    try:
        count = cache.incr(key)  # only an existing key: a counter never lives without its expiry
    except ValueError:
        count = 1 if cache.add(key, 1, period + EXPIRATION_FUDGE) else cache.incr(key)
    return count, limit, window - int(time.time())


def enforce_rate_limit(request, scope: str, *, key: str) -> None:
    """Counts this request against `scope` and raises the scope's RateLimited once the limit is passed."""
    if not settings.RATELIMIT_ENABLE:
        return
    rate = settings.RATE_LIMITS[scope]
    try:
        count, limit, time_left = count_request(scope=scope, value=KEYS[key](scope, request), rate=rate)
    except Exception:
        # The shared cache is down: serve the request (fail open, the default) rather than fail every request.
        logger.exception("rate limit cache unavailable", extra={"event": "ratelimit_cache_error", "scope": scope})
        if settings.RATELIMIT_FAIL_OPEN:
            return
        count, limit, time_left = 1, 0, 0
    if count > limit:
        security_log.warning(
            "rate limit hit",
            extra={"event": "rate_limited", "scope": scope, "path": request.path, "ip": client_ip(request)},
        )
        window = _split_rate(rate)[1]
        retry_after = time_left if time_left > 0 else window
        raise rate_limited(scope=scope, retry_after=retry_after, limit=limit, window=window)


def rate_limit(scope: str, *, key: str):
    """Decorates a DRF view method; runs after authentication so `user` keys work."""

    def decorator(method):
        @functools.wraps(method)
        def wrapper(self, request, *args, **kwargs):
            enforce_rate_limit(request, scope, key=key)
            return method(self, request, *args, **kwargs)

        return wrapper

    return decorator
