"""Payment providers behind one small interface: `get_provider("stripe" | "sandbox")`.

A provider creates payments (and subscriptions), refunds them, and verifies its own signed webhooks.
It never touches the database: billing.services turns what it returns into orders and credits.
"""

from django.conf import settings

from aiasmr.api.exceptions import NotFound, ServiceUnavailable
from billing.currencies import to_minor_units
from billing.providers.base import (
    PaymentProvider,
    PaymentProviderError,
    PaymentSession,
    SubscriptionSession,
    WebhookSignatureError,
    signature_header,
)
from billing.providers.sandbox import SandboxProvider
from billing.providers.stripe import StripeProvider

PROVIDER_NAMES = ("stripe", "sandbox")


def get_provider(name: str | None = None) -> PaymentProvider:
    """The named provider (default: settings.PAYMENT_PROVIDER). The sandbox does not exist in production."""
    name = (name or settings.PAYMENT_PROVIDER).lower()
    if name == "sandbox":
        if not settings.SANDBOX_PAYMENTS_ENABLED:
            raise NotFound("The sandbox payment provider is not available here.", code="PROVIDER_NOT_FOUND")
        return SandboxProvider(secret=settings.SANDBOX_WEBHOOK_SECRET)
    if name == "stripe":
        if not settings.STRIPE_SECRET_KEY:
            raise ServiceUnavailable("Payments are not configured.", code="PAYMENTS_NOT_CONFIGURED")
        return StripeProvider(
            secret_key=settings.STRIPE_SECRET_KEY,
            publishable_key=settings.STRIPE_PUBLISHABLE_KEY,
            webhook_secret=settings.STRIPE_WEBHOOK_SECRET,
        )
    raise NotFound(f"Unknown payment provider {name!r}.", code="PROVIDER_NOT_FOUND")


__all__ = [
    "PROVIDER_NAMES",
    "PaymentProvider",
    "PaymentProviderError",
    "PaymentSession",
    "SubscriptionSession",
    "WebhookSignatureError",
    "get_provider",
    "signature_header",
    "to_minor_units",
]
