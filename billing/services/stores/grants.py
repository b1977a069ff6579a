"""What a store payment grants and what a refund takes back: the clawback of a refunded or revoked purchase,
the user's subscription for a store subscription, its periods granted once, and its lapse."""

import logging
from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import FREE_PLAN_FIELDS, Profile, User
from accounts.services import profile_lock
from billing.models import (
    LIVE_SUBSCRIPTION_STATUSES,
    Order,
    OrderStatus,
    Plan,
    StorePurchase,
    Subscription,
    SubscriptionStatus,
)
from billing.services.common import PAYABLE_STATUSES
from billing.services.orders import order_mark_refunded, order_referral_rewards
from billing.services.periods import subscription_expire, subscription_period_grant
from billing.services.stores.shared import store_order_ref

logger = logging.getLogger("aiasmr.billing")


def store_purchase_refund(
    *, purchase: StorePurchase, order: Order | None = None, revoked_at: datetime | None = None
) -> bool:
    """The store refunded or revoked a payment: its credits are clawed back once (down to zero)."""
    now = timezone.now()
    StorePurchase.objects.filter(pk=purchase.pk, revoked_at__isnull=True).update(
        revoked_at=revoked_at or now, updated_at=now
    )
    order = order or purchase.order
    if order is None:
        return False
    clawed = order_mark_refunded(order=order, refund_id=f"{purchase.store}_refund")
    if purchase.subscription_id and (purchase.expires_at is None or purchase.expires_at > now):
        # A refunded current period ends the subscription (the store ends the entitlement too).
        subscription_expire(subscription=purchase.subscription)
    return clawed


def store_subscription_ensure(*, store: str, external_id: str, user: User, plan: Plan) -> Subscription | None:
    """The user's subscription for a store subscription id, created (or revived on a resubscribe) live.
    None when the user already has another live subscription (staff reconcile that by hand)."""
    provider_id = store_order_ref(store=store, reference=external_id)
    try:
        with transaction.atomic():
            profile_lock(user_id=user.pk)
            subscription = Subscription.objects.filter(provider=store, provider_subscription_id=provider_id).first()
            if subscription is None:
                for stale in Subscription.objects.filter(user=user, status=SubscriptionStatus.INCOMPLETE):
                    Subscription.objects.filter(pk=stale.pk, status=SubscriptionStatus.INCOMPLETE).update(
                        status=SubscriptionStatus.CANCELLED
                    )
                return Subscription.objects.create(
                    user=user, plan=plan, provider=store, provider_subscription_id=provider_id
                )
            fields = {"updated_at": timezone.now()}
            if subscription.plan_id != plan.pk:
                fields["plan"] = plan  # an upgrade or crossgrade in the store
            if subscription.status not in LIVE_SUBSCRIPTION_STATUSES:
                fields["status"] = SubscriptionStatus.INCOMPLETE  # activated by the period grant below
            Subscription.objects.filter(pk=subscription.pk).update(**fields)
    except IntegrityError:
        twin = Subscription.objects.filter(
            provider=store, provider_subscription_id=provider_id, user=user, status__in=LIVE_SUBSCRIPTION_STATUSES
        ).first()
        if twin is not None:
            return twin  # a concurrent notification or app call created it first
        logger.error(
            "store subscription conflicts with a live one",
            extra={"event": "store_subscription_conflict", "user": str(user.pk), "store": store},
        )
        return None
    subscription.refresh_from_db()
    return subscription


def store_period_grant(
    *, purchase: StorePurchase, order: Order, subscription: Subscription, start: datetime, end: datetime
) -> bool:
    """Completes a period's order and grants the period's credits once. False when the order was refunded."""
    with transaction.atomic():
        profile_lock(user_id=subscription.user_id)
        now = timezone.now()
        completed = Order.objects.filter(pk=order.pk, status__in=PAYABLE_STATUSES).update(
            status=OrderStatus.COMPLETED, completed_at=now, updated_at=now
        )
        if Order.objects.filter(pk=order.pk).values_list("status", flat=True).first() != OrderStatus.COMPLETED:
            return False
        subscription_period_grant(subscription=subscription, order=order, start=start, end=end)
        if completed:
            order_referral_rewards(order=order)
    return True


def store_subscription_lapse(*, subscription: Subscription, keep_entitlements: bool) -> bool:
    """A renewal failed: the subscription is past due; without a grace period the plan's perks stop now."""
    with transaction.atomic():
        profile_lock(user_id=subscription.user_id)
        moved = Subscription.objects.filter(
            pk=subscription.pk, status__in=(SubscriptionStatus.ACTIVE, SubscriptionStatus.PAST_DUE)
        ).update(status=SubscriptionStatus.PAST_DUE, updated_at=timezone.now())
        if moved and not keep_entitlements and subscription.user_id is not None:
            Profile.objects.filter(user_id=subscription.user_id).update(**FREE_PLAN_FIELDS)
    return bool(moved)


def store_subscription_get(*, store: str, external_id: str) -> Subscription | None:
    """Our subscription for a store subscription id (App Store originalTransactionId, Play purchase token)."""
    return (
        Subscription.objects.select_related("plan")
        .filter(provider=store, provider_subscription_id=store_order_ref(store=store, reference=external_id))
        .first()
    )
