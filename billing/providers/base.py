"""The provider interface, its typed results and errors, and the shared webhook signature scheme."""

import hashlib
import hmac
import time
from dataclasses import dataclass
from typing import Protocol

from aiasmr.api.parsers import json_loads_strict


class PaymentProviderError(Exception):
    """The provider could not be reached or refused the call; billing.services maps it to a 502."""


class WebhookSignatureError(Exception):
    """A webhook's signature is missing, forged, for another body, or too old."""


@dataclass(frozen=True)
class PaymentSession:
    """A payment the client completes with the provider's SDK."""

    payment_id: str
    client_secret: str | None


@dataclass(frozen=True)
class SubscriptionSession:
    subscription_id: str
    customer_id: str
    client_secret: str | None
    period_start: int | None = None
    period_end: int | None = None


class PaymentProvider(Protocol):
    name: str

    def payment_create(self, *, order) -> PaymentSession: ...

    def refund_create(self, *, order) -> str: ...

    def subscription_create(self, *, subscription, email: str) -> SubscriptionSession: ...

    def subscription_cancel(self, *, subscription) -> None: ...

    def webhook_verify(self, *, payload: bytes, headers) -> dict: ...

    def client_payment_info(self, *, order) -> dict: ...


def _signature(secret: str, timestamp: int, payload: str) -> str:
    return hmac.new(secret.encode(), f"{timestamp}.{payload}".encode(), hashlib.sha256).hexdigest()


def signature_header(payload: bytes | str, secret: str, timestamp: int | None = None) -> str:
    """Stripe's scheme: `t=<unix time>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`."""
    text = payload.decode() if isinstance(payload, bytes) else payload
    timestamp = int(time.time()) if timestamp is None else timestamp
    return f"t={timestamp},v1={_signature(secret, timestamp, text)}"


def signature_verify(*, payload: bytes, header: str | None, secret: str, tolerance: int) -> dict:
    """Checks the header (constant-time, any of several v1 signatures, timestamp within tolerance)
    and returns the parsed event; raises WebhookSignatureError otherwise."""
    if not header or not secret:
        raise WebhookSignatureError("missing signature or secret")
    try:
        text = payload.decode("utf-8")
        parts = [item.split("=", 1) for item in header.split(",")]
        timestamp = int(next(value for key, value in parts if key.strip() == "t"))
        signatures = [value.strip() for key, value in parts if key.strip() == "v1"]
    except (UnicodeDecodeError, ValueError, StopIteration):
        raise WebhookSignatureError("malformed signature header")
    expected = _signature(secret, timestamp, text)
    if not any(hmac.compare_digest(expected, candidate) for candidate in signatures):
        raise WebhookSignatureError("signature mismatch")
    if abs(time.time() - timestamp) > tolerance:
        raise WebhookSignatureError("timestamp outside the tolerance")
    return event_parse(text)


def event_parse(text: str) -> dict:
    """The verified body as an event dict with a string id and type."""
    try:
        event = json_loads_strict(text)
    except (ValueError, RecursionError):
        raise WebhookSignatureError("signed body is not JSON")
    if not isinstance(event, dict) or not isinstance(event.get("id"), str) or not isinstance(event.get("type"), str):
        raise WebhookSignatureError("signed body is not an event")
    return event
