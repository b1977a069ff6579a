"""Stripe through the official library: PaymentIntents for the mobile SDK, refunds, subscriptions,
and webhook verification (Stripe-Signature, with a timestamp tolerance).

Every call has an explicit timeout, no automatic retries (the caller decides) and an idempotency key
derived from our own row, so a retried request never creates a second charge.
"""

import logging

import stripe
from django.conf import settings

from billing.currencies import to_minor_units
from billing.providers.base import (
    PaymentProviderError,
    PaymentSession,
    SubscriptionSession,
    WebhookSignatureError,
    event_parse,
)

logger = logging.getLogger("aiasmr.billing.stripe")
SIGNATURE_HEADER = "Stripe-Signature"


class StripeProvider:
    name = "stripe"

    def __init__(self, *, secret_key: str, publishable_key: str, webhook_secret: str):
        self.publishable_key = publishable_key
        self.webhook_secret = webhook_secret
        self.client = stripe.StripeClient(
            secret_key,
            http_client=stripe.RequestsClient(timeout=settings.STRIPE_API_TIMEOUT_SECONDS),
            max_network_retries=0,
            base_addresses={"api": settings.STRIPE_API_BASE},
        )

    def _call(self, what: str, fn, *args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except stripe.StripeError as exc:
            logger.warning(
                "stripe call failed",
                extra={"event": "stripe_error", "call": what, "stripe_code": getattr(exc, "code", None)},
            )
            raise PaymentProviderError(f"Stripe {what} failed: {exc.__class__.__name__}") from exc

    def payment_create(self, *, order) -> PaymentSession:
        try:
            amount = to_minor_units(order.amount, order.currency)
        except ValueError as exc:  # a price Stripe would refuse (fractional ISK): fail the order, not the request
            raise PaymentProviderError(str(exc)) from exc
        intent = self._call(
            "payment_intents.create",
            self.client.v1.payment_intents.create,
            params={
                "amount": amount,
                "currency": order.currency.lower(),
                "automatic_payment_methods": {"enabled": True},
                "metadata": {"order_id": str(order.id), "user_id": str(order.user_id)},
            },
            options={"idempotency_key": f"order-{order.id}"},
        )
        return PaymentSession(payment_id=intent["id"], client_secret=intent["client_secret"])

    def refund_create(self, *, order) -> str:
        refund = self._call(
            "refunds.create",
            self.client.v1.refunds.create,
            params={
                # A subscription order keyed by its invoice was paid by the PaymentIntent recorded beside it.
                "payment_intent": order.invoice_payment_intent_id or order.provider_payment_id,
                "metadata": {"order_id": str(order.id)},
            },
            options={"idempotency_key": f"refund-{order.id}"},
        )
        return refund["id"]

    def subscription_create(self, *, subscription, email: str) -> SubscriptionSession:
        customer = self._call(
            "customers.create",
            self.client.v1.customers.create,
            params={"email": email, "metadata": {"user_id": str(subscription.user_id)}},
            options={"idempotency_key": f"customer-{subscription.id}"},
        )
        created = self._call(
            "subscriptions.create",
            self.client.v1.subscriptions.create,
            params={
                "customer": customer["id"],
                "items": [{"price": subscription.plan.stripe_price_id}],
                "payment_behavior": "default_incomplete",
                "payment_settings": {"save_default_payment_method": "on_subscription"},
                "metadata": {"subscription_id": str(subscription.id), "user_id": str(subscription.user_id)},
                "expand": ["latest_invoice.confirmation_secret"],
            },
            options={"idempotency_key": f"subscription-{subscription.id}"},
        )
        invoice = created.get("latest_invoice") or {}
        secret = (invoice.get("confirmation_secret") or {}).get("client_secret") if isinstance(invoice, dict) else None
        return SubscriptionSession(
            subscription_id=created["id"], customer_id=customer["id"], client_secret=secret
        )

    def subscription_cancel(self, *, subscription) -> None:
        self._call(
            "subscriptions.update",
            self.client.v1.subscriptions.update,
            subscription.provider_subscription_id,
            params={"cancel_at_period_end": True},
        )

    def webhook_verify(self, *, payload: bytes, headers) -> dict:
        try:
            stripe.WebhookSignature.verify_header(
                payload,
                headers.get(SIGNATURE_HEADER),
                self.webhook_secret,
                tolerance=settings.PAYMENT_WEBHOOK_TOLERANCE_SECONDS,
            )
        except (stripe.SignatureVerificationError, UnicodeDecodeError) as exc:  # a non-UTF-8 body is not Stripe's
            raise WebhookSignatureError(str(exc)) from exc
        return event_parse(payload.decode("utf-8"))

    def client_payment_info(self, *, order) -> dict:
        return {
            "provider": self.name,
            "paymentId": order.provider_payment_id,
            "clientSecret": order.client_secret or None,
            "publishableKey": self.publishable_key or None,
            "confirmUrl": None,
            "instructions": "Confirm the PaymentIntent with the Stripe SDK using clientSecret.",
        }
