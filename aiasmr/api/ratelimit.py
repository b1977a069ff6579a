"""Rate limits from settings.RATE_LIMITS, counted by django-ratelimit in the shared cache."""

import functools
import ipaddress
import logging

from django.conf import settings
from django_ratelimit.core import _split_rate, get_usage

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


def enforce_rate_limit(request, scope: str, *, key: str) -> None:
    """Counts this request against `scope` and raises the scope's RateLimited once the limit is passed."""
    rate = settings.RATE_LIMITS[scope]
    try:
        usage = get_usage(request, group=f"aiasmr.{scope}", key=KEYS[key], rate=rate, increment=True)
    except Exception:
        # The shared cache is down: serve the request (fail open) rather than fail every request.
        logger.exception("rate limit cache unavailable", extra={"event": "ratelimit_cache_error", "scope": scope})
        return
    if usage and usage["should_limit"]:
        security_log.warning(
            "rate limit hit",
            extra={"event": "rate_limited", "scope": scope, "path": request.path, "ip": client_ip(request)},
        )
        limit, window = _split_rate(rate)
        retry_after = usage["time_left"] if usage["time_left"] > 0 else window
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
