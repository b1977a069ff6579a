"""Shared pieces of the billing services: status sets, the webhook signature error, provider error mapping."""

import uuid
from datetime import timedelta

from aiasmr.api.exceptions import ApiError, ProviderError
from billing.models import OrderStatus, PaymentEvent

PAYABLE_STATUSES = (OrderStatus.PENDING, OrderStatus.PROCESSING, OrderStatus.FAILED)


DONE_EVENT_STATUSES = (PaymentEvent.Status.PROCESSED, PaymentEvent.Status.IGNORED)


STALE_INCOMPLETE_AFTER = timedelta(days=1)


class InvalidSignature(ApiError):
    code = "INVALID_SIGNATURE"  # 400, its message from the registry


def payment_provider_error(*, exc: Exception) -> ProviderError:
    """The API error for a provider call that failed (the cause stays in the logs, not in the answer)."""
    return ProviderError("The payment provider is unavailable; try again later.", code="PAYMENT_PROVIDER_ERROR")


def uuid_or_none(*, value: object) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None
