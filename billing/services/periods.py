"""Subscription periods: activating a paid period (its credits granted once) and ending a subscription.
Both run with the profile locked first, inside the caller's transaction or their own."""

import calendar
import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts.models import FREE_PLAN_FIELDS, Profile
from accounts.services import profile_lock
from billing.models import (
    LIVE_SUBSCRIPTION_STATUSES,
    PAID_SUBSCRIPTION_STATUSES,
    Order,
    Plan,
    Subscription,
    SubscriptionStatus,
)
from credits.models import TransactionType
from credits.services import credits_grant

logger = logging.getLogger("aiasmr.billing")


def add_months(*, moment: datetime, months: int = 1) -> datetime:
    """The same day `months` later (the month's last day when it is shorter)."""
    month_index = moment.month - 1 + months
    year, month = moment.year + month_index // 12, month_index % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def period_end(*, plan: Plan, start: datetime) -> datetime:
    """When a period of `plan` starting at `start` ends: a month, or the trial's days for a one-off plan."""
    if plan.interval == Plan.Interval.ONE_OFF:
        return start + timedelta(days=settings.TRIAL_PERIOD_DAYS)
    return add_months(moment=start)


def subscription_period_grant(
    *, subscription: Subscription, order: Order | None, start: datetime, end: datetime
) -> None:
    """Activates (or extends) a subscription for a paid period and grants its credits once per period.
    Runs inside the caller's transaction with the profile locked."""
    now = timezone.now()
    Subscription.objects.filter(pk=subscription.pk, status__in=LIVE_SUBSCRIPTION_STATUSES).update(
        status=SubscriptionStatus.ACTIVE
    )
    # Out-of-order invoices never move a period backwards.
    Subscription.objects.filter(pk=subscription.pk).exclude(current_period_end__gte=end).update(
        current_period_start=start, current_period_end=end, updated_at=now
    )
    subscription.refresh_from_db()
    if subscription.status != SubscriptionStatus.ACTIVE:
        return  # a paid period for a subscription that already ended: staff look at it (event kept)
    plan = subscription.plan
    credits_grant(
        user=subscription.user,
        amount=plan.credits_per_period,
        type=TransactionType.SUBSCRIPTION,
        description=f"{plan.name} plan: credits for the period from {start:%Y-%m-%d}",
        order=order,
        subscription=subscription,
        idempotency_key=f"subscription:{subscription.id}:{int(start.timestamp())}",
    )
    Profile.objects.filter(user_id=subscription.user_id).update(**plan.profile_fields(), updated_at=now)


def subscription_expire(*, subscription: Subscription) -> bool:
    """Ends a live subscription (once) and drops its user back to the free plan."""
    with transaction.atomic():
        profile_lock(user_id=subscription.user_id)
        moved = Subscription.objects.filter(pk=subscription.pk, status__in=LIVE_SUBSCRIPTION_STATUSES).update(
            status=SubscriptionStatus.EXPIRED, updated_at=timezone.now()
        )
        if moved and subscription.user_id is not None:
            still_live = Subscription.objects.filter(
                user_id=subscription.user_id, status__in=PAID_SUBSCRIPTION_STATUSES
            ).exists()
            if not still_live:
                Profile.objects.filter(user_id=subscription.user_id).update(**FREE_PLAN_FIELDS)
    if moved:
        logger.info("subscription expired", extra={"event": "subscription_expired", "subscription": str(subscription.pk)})
    return bool(moved)
