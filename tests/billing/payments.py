"""Test helpers: Stripe-style signed events, built the way Stripe signs them (no code under test used)."""

import hashlib
import hmac
import json
import time
import uuid

STRIPE_SECRET = "whsec_test_stripe_secret"
STRIPE_SETTINGS = {
    "PAYMENT_PROVIDER": "stripe",
    "STRIPE_SECRET_KEY": "sk_test_123",
    "STRIPE_PUBLISHABLE_KEY": "pk_test_123",
    "STRIPE_WEBHOOK_SECRET": STRIPE_SECRET,
    "STRIPE_API_BASE": "https://api.stripe.com",
}


def sign(body: str, secret: str, timestamp: int | None = None) -> str:
    timestamp = int(time.time()) if timestamp is None else timestamp
    mac = hmac.new(secret.encode(), f"{timestamp}.{body}".encode(), hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def event(type_: str, obj: dict, event_id: str | None = None) -> dict:
    return {
        "id": event_id or f"evt_{uuid.uuid4().hex}",
        "object": "event",
        "type": type_,
        "created": int(time.time()),
        "data": {"object": obj},
    }


def post_stripe(client, payload: dict, *, secret: str = STRIPE_SECRET, timestamp: int | None = None, body=None):
    body = body if body is not None else json.dumps(payload)
    return client.post(
        "/api/billing/webhooks/stripe/",
        data=body,
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE=sign(json.dumps(payload) if body is None else body, secret, timestamp),
    )


def payment_intent(order, *, amount=None, currency="usd", pi_id=None) -> dict:
    minor = int(order.amount * 100) if amount is None else amount
    return {
        "id": pi_id or order.provider_payment_id,
        "object": "payment_intent",
        "amount": minor,
        "amount_received": minor,
        "currency": currency,
        "metadata": {"order_id": str(order.id)},
        "status": "succeeded",
    }


def charge_refunded(order, *, refunded=True) -> dict:
    minor = int(order.amount * 100)
    return {
        "id": f"ch_{uuid.uuid4().hex[:12]}",
        "object": "charge",
        "payment_intent": order.provider_payment_id,
        "amount": minor,
        "amount_refunded": minor if refunded else minor // 2,
        "refunded": refunded,
        "currency": "usd",
        "refunds": {"data": [{"id": "re_123"}]},
    }
