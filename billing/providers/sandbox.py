"""The sandbox provider: no money moves. It exists for development and tests, is refused in production,
and confirms payments with webhooks signed like Stripe's (header `Sandbox-Signature`) so a sandbox
payment goes through the same verification and completion path as a real one."""

import json
import time
import uuid

from django.conf import settings

from billing.currencies import to_minor_units
from billing.providers.base import (
    PaymentSession,
    SubscriptionSession,
    signature_header,
    signature_verify,
)

SIGNATURE_HEADER = "Sandbox-Signature"


class SandboxProvider:
    name = "sandbox"

    def __init__(self, *, secret: str):
        self.secret = secret

    def payment_create(self, *, order) -> PaymentSession:
        return PaymentSession(payment_id=f"sbx_pi_{uuid.uuid4().hex}", client_secret=None)

    def refund_create(self, *, order) -> str:
        return f"sbx_re_{uuid.uuid4().hex}"

    def subscription_create(self, *, subscription, email: str) -> SubscriptionSession:
        return SubscriptionSession(
            subscription_id=f"sbx_sub_{uuid.uuid4().hex}", customer_id=f"sbx_cus_{uuid.uuid4().hex}", client_secret=None
        )

    def subscription_cancel(self, *, subscription) -> None:
        return None

    def webhook_verify(self, *, payload: bytes, headers) -> dict:
        return signature_verify(
            payload=payload,
            header=headers.get(SIGNATURE_HEADER),
            secret=self.secret,
            tolerance=settings.PAYMENT_WEBHOOK_TOLERANCE_SECONDS,
        )

    def client_payment_info(self, *, order) -> dict:
        return {
            "provider": self.name,
            "paymentId": order.provider_payment_id,
            "clientSecret": None,
            "publishableKey": None,
            "confirmUrl": f"/api/billing/sandbox/confirm/{order.id}",
            "instructions": (
                "Development sandbox: no card is charged. POST the confirmUrl (with the same bearer token) "
                'to simulate the payment; {"outcome": "failed"} simulates a declined payment.'
            ),
        }

    # --- events (what a real provider would send to the webhook) -----------------------------------

    def event_signed(self, *, type: str, obj: dict, event_id: str | None = None) -> tuple[bytes, dict]:  # noqa: A002
        """A signed event body and the headers to deliver it with."""
        event = {
            "id": event_id or f"evt_sbx_{uuid.uuid4().hex}",
            "object": "event",
            "type": type,
            "created": int(time.time()),
            "data": {"object": obj},
        }
        body = json.dumps(event, separators=(",", ":")).encode()
        return body, {SIGNATURE_HEADER: signature_header(body, self.secret)}

    @staticmethod
    def payment_intent_object(*, order, failure: str | None = None) -> dict:
        minor = to_minor_units(order.amount, order.currency)
        obj = {
            "id": order.provider_payment_id,
            "object": "payment_intent",
            "amount": minor,
            "amount_received": 0 if failure else minor,
            "currency": order.currency.lower(),
            "metadata": {"order_id": str(order.id)},
            "status": "requires_payment_method" if failure else "succeeded",
        }
        if failure:
            obj["last_payment_error"] = {"code": "card_declined", "message": failure}
        return obj

    @staticmethod
    def charge_refunded_object(*, order) -> dict:
        minor = to_minor_units(order.amount, order.currency)
        return {
            "id": f"sbx_ch_{order.id.hex}",
            "object": "charge",
            "payment_intent": order.provider_payment_id,
            "amount": minor,
            "amount_refunded": minor,
            "currency": order.currency.lower(),
            "refunded": True,
        }

    @staticmethod
    def invoice_paid_object(*, subscription, period_start: int, period_end: int) -> dict:
        plan = subscription.plan
        return {
            "id": f"sbx_in_{subscription.id.hex}_{period_start}",
            "object": "invoice",
            "subscription": subscription.provider_subscription_id,
            "amount_paid": to_minor_units(plan.price, plan.currency),
            "currency": plan.currency.lower(),
            "period_start": period_start,
            "period_end": period_end,
            "lines": {"data": [{"period": {"start": period_start, "end": period_end}}]},
        }
