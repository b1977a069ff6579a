"""Subscriptions: start (activated by the verified first payment), cancel at period end, and the
renewal/expiry sweep behind `manage.py subscriptions_renew`."""

from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import User
from accounts.services import profile_lock
from aiasmr.api.exceptions import ApiError, Conflict, NotFound
from billing.models import (
    LIVE_SUBSCRIPTION_STATUSES,
    PAID_SUBSCRIPTION_STATUSES,
    Order,
    OrderStatus,
    PaymentEvent,
    Plan,
    Subscription,
    SubscriptionStatus,
)
from billing.providers import PaymentProviderError, get_provider
from billing.services.common import STALE_INCOMPLETE_AFTER, payment_provider_error
from billing.services.orders import order_payment_ensure
from billing.services.periods import add_months, subscription_expire
from billing.services.webhooks import sandbox_event_deliver


def subscription_create(*, user: User, plan_slug: str, payment_method: str = "") -> tuple[Subscription, dict]:
    """Starts a subscription `incomplete` and creates its first payment; the verified payment activates
    it and grants the first period's credits. Returns (subscription, payment info for the client)."""
    plan = Plan.objects.filter(slug=plan_slug, active=True).first()
    if plan is None:
        raise ApiError("This plan does not exist.", code="INVALID_PLAN", details={"plan": plan_slug})
    provider = get_provider()
    recurring_at_stripe = provider.name == "stripe" and plan.interval == Plan.Interval.MONTH
    if recurring_at_stripe and not plan.stripe_price_id:
        raise ApiError("This plan cannot be bought yet.", code="PLAN_NOT_AVAILABLE")
    if plan.interval == Plan.Interval.ONE_OFF and Subscription.objects.filter(
        user=user,
        plan=plan,
        status__in=(*PAID_SUBSCRIPTION_STATUSES, SubscriptionStatus.EXPIRED),
    ).exists():
        raise Conflict("The trial can be bought once.", code="TRIAL_ALREADY_USED")
    try:
        with transaction.atomic():
            profile_lock(user_id=user.pk)
            stale = list(Subscription.objects.filter(user=user, status=SubscriptionStatus.INCOMPLETE))
            for old in stale:  # an abandoned checkout is replaced by the new one
                Subscription.objects.filter(pk=old.pk, status=SubscriptionStatus.INCOMPLETE).update(
                    status=SubscriptionStatus.CANCELLED
                )
                Order.objects.filter(subscription=old, status=OrderStatus.PENDING).update(status=OrderStatus.CANCELLED)
            subscription = Subscription.objects.create(user=user, plan=plan, provider=provider.name)
            order = None
            if not recurring_at_stripe:
                order = Order.objects.create(
                    user=user,
                    plan=plan,
                    subscription=subscription,
                    credits=plan.credits_per_period,
                    amount=plan.price,
                    currency=plan.currency,
                    provider=provider.name,
                    payment_method=payment_method,
                )
    except IntegrityError:
        raise Conflict("You already have an active subscription.", code="SUBSCRIPTION_EXISTS")
    if order is not None:
        order = order_payment_ensure(order=order)
        if provider.name == "sandbox":
            Subscription.objects.filter(pk=subscription.pk).update(
                provider_subscription_id=f"sbx_sub_{subscription.id.hex}"
            )
        subscription.refresh_from_db()
        return subscription, {**provider.client_payment_info(order=order), "orderId": str(order.id)}
    try:
        session = provider.subscription_create(subscription=subscription, email=user.email)
    except PaymentProviderError as exc:
        Subscription.objects.filter(pk=subscription.pk).update(status=SubscriptionStatus.CANCELLED)
        raise payment_provider_error(exc=exc)
    Subscription.objects.filter(pk=subscription.pk).update(
        provider_subscription_id=session.subscription_id, provider_customer_id=session.customer_id
    )
    subscription.refresh_from_db()
    return subscription, {
        "provider": provider.name,
        "paymentId": None,
        "clientSecret": session.client_secret,
        "publishableKey": getattr(provider, "publishable_key", None) or None,
        "confirmUrl": None,
        "instructions": "Confirm the first invoice with the Stripe SDK using clientSecret.",
        "orderId": None,
    }


def subscription_cancel(*, user: User) -> Subscription:
    """Cancels at period end (credits and entitlements stay until then); an unpaid checkout ends now."""
    subscription = (
        Subscription.objects.select_related("plan")
        .filter(user=user, status__in=LIVE_SUBSCRIPTION_STATUSES)
        .first()
    )
    if subscription is None:
        raise NotFound("You have no active subscription.", code="SUBSCRIPTION_NOT_FOUND")
    if subscription.status == SubscriptionStatus.INCOMPLETE:
        Subscription.objects.filter(pk=subscription.pk, status=SubscriptionStatus.INCOMPLETE).update(
            status=SubscriptionStatus.CANCELLED, updated_at=timezone.now()
        )
        Order.objects.filter(subscription=subscription, status=OrderStatus.PENDING).update(
            status=OrderStatus.CANCELLED
        )
    elif not subscription.cancel_at_period_end:
        if subscription.provider_subscription_id and subscription.plan.interval == Plan.Interval.MONTH:
            try:
                get_provider(subscription.provider).subscription_cancel(subscription=subscription)
            except PaymentProviderError as exc:
                raise payment_provider_error(exc=exc)
        Subscription.objects.filter(pk=subscription.pk).update(cancel_at_period_end=True, updated_at=timezone.now())
    subscription.refresh_from_db()
    return subscription


def subscriptions_renew(*, now: datetime | None = None) -> dict:
    """Renews due sandbox subscriptions (through a signed invoice.paid, one per period), expires lapsed
    ones, and closes abandoned checkouts. Idempotent: every step is keyed or conditional."""
    now = now or timezone.now()
    counts = {"renewed": 0, "expired": 0, "abandoned": 0}
    due = Subscription.objects.select_related("plan").filter(
        status=SubscriptionStatus.ACTIVE, current_period_end__lte=now
    )
    grace = timedelta(hours=settings.SUBSCRIPTION_GRACE_HOURS)
    for subscription in due.iterator(chunk_size=500):
        renewable = (
            subscription.provider == "sandbox"
            and settings.SANDBOX_PAYMENTS_ENABLED
            and subscription.plan.interval == Plan.Interval.MONTH
            and subscription.plan.active
            and not subscription.cancel_at_period_end
        )
        if renewable:
            start = subscription.current_period_end
            end = add_months(moment=start)
            provider = get_provider("sandbox")
            obj = provider.invoice_paid_object(
                subscription=subscription, period_start=int(start.timestamp()), period_end=int(end.timestamp())
            )
            _, outcome = sandbox_event_deliver(
                type="invoice.paid", obj=obj, event_id=f"evt_sbx_renewal_{subscription.id.hex}_{int(start.timestamp())}"
            )
            counts["renewed"] += outcome == PaymentEvent.Status.PROCESSED
            continue
        ends_now = subscription.cancel_at_period_end or subscription.plan.interval == Plan.Interval.ONE_OFF
        if ends_now or subscription.current_period_end + grace <= now:
            counts["expired"] += subscription_expire(subscription=subscription)
    lapsed = Subscription.objects.filter(status=SubscriptionStatus.PAST_DUE, current_period_end__lte=now - grace)
    for subscription in lapsed.iterator(chunk_size=500):
        counts["expired"] += subscription_expire(subscription=subscription)
    abandoned = Subscription.objects.filter(
        status=SubscriptionStatus.INCOMPLETE, created_at__lte=now - STALE_INCOMPLETE_AFTER
    )
    for subscription in abandoned.iterator(chunk_size=500):
        with transaction.atomic():
            moved = Subscription.objects.filter(pk=subscription.pk, status=SubscriptionStatus.INCOMPLETE).update(
                status=SubscriptionStatus.CANCELLED, updated_at=now
            )
            Order.objects.filter(subscription=subscription, status=OrderStatus.PENDING).update(
                status=OrderStatus.CANCELLED, updated_at=now
            )
        counts["abandoned"] += moved
    return counts
