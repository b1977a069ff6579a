"""Shared pieces of the billing services: status sets, the lock order, error mapping."""

import logging
import uuid
from datetime import timedelta

from accounts.models import Profile
from aiasmr.api.exceptions import ApiError, ProviderError
from billing.models import OrderStatus, PaymentEvent, SubscriptionStatus

logger = logging.getLogger("aiasmr.billing")


PAYABLE_STATUSES = (OrderStatus.PENDING, OrderStatus.PROCESSING, OrderStatus.FAILED)


LIVE_SUBSCRIPTION_STATUSES = (SubscriptionStatus.INCOMPLETE, SubscriptionStatus.ACTIVE, SubscriptionStatus.PAST_DUE)


DONE_EVENT_STATUSES = (PaymentEvent.Status.PROCESSED, PaymentEvent.Status.IGNORED)


STALE_INCOMPLETE_AFTER = timedelta(days=1)


class InvalidSignature(ApiError):
    status_code = 400
    code = "INVALID_SIGNATURE"
    default_message = "The webhook signature is missing, invalid or expired."


def _provider_failed(exc: Exception) -> ProviderError:
    return ProviderError("The payment provider is unavailable; try again later.", code="PAYMENT_PROVIDER_ERROR")


def _lock_profile(user_id) -> None:
    """Profile first: the one lock order for every money path (credits.services locks it again, re-entrantly)."""
    if user_id is not None:
        Profile.objects.select_for_update().filter(user_id=user_id).first()


def _uuid_or_none(value):
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None
