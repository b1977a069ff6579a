"""Orders: created `pending`, paid through the provider, completed (credits granted once) only by a
verified provider event, refunded through the provider (credits clawed back once)."""

import logging

from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import User
from accounts.services import profile_lock
from aiasmr.api.exceptions import ApiError, Conflict
from billing.models import CreditPackage, Order, OrderStatus, Subscription
from billing.providers import PaymentProviderError, get_provider
from billing.services.common import PAYABLE_STATUSES, payment_provider_error
from billing.services.periods import period_end, subscription_period_grant
from credits.models import TransactionType
from credits.services import credits_clawback, credits_grant
from rewards.referrals import referral_payment_clawback, referral_payment_rewards

logger = logging.getLogger("aiasmr.billing")


def purchase_create(
    *, user: User, package_slug: str, amount: int, payment_method: str = "", idempotency_key: str | None = None
) -> tuple[Order, bool]:
    """Creates a pending order for a package and its provider payment. Returns (order, created).

    The same Idempotency-Key returns the same order (its payment created if an earlier attempt
    stopped before that). Credits are granted later, by the provider's verified confirmation.
    """
    package = CreditPackage.objects.filter(slug=package_slug, active=True).first()
    if package is None:
        raise ApiError("This package does not exist.", code="INVALID_PACKAGE", details={"package": package_slug})
    if amount != package.credits:
        raise ApiError(
            "The amount does not match the package.",
            code="AMOUNT_MISMATCH",
            details={"expected": package.credits, "received": amount},
        )
    provider = get_provider()
    if idempotency_key:
        existing = Order.objects.filter(user=user, idempotency_key=idempotency_key).first()
        if existing is not None:
            return _replayed(existing, package), False
    try:
        with transaction.atomic():
            order = Order.objects.create(
                user=user,
                package=package,
                credits=package.credits,
                amount=package.price,
                currency=package.currency,
                provider=provider.name,
                payment_method=payment_method,
                idempotency_key=idempotency_key or None,
            )
    except IntegrityError:
        # A concurrent request with the same key won the insert.
        existing = Order.objects.get(user=user, idempotency_key=idempotency_key)
        return _replayed(existing, package), False
    logger.info("order created", extra={"event": "order_created", "order": str(order.id), "package": package.slug})
    return order_payment_ensure(order=order), True


def _replayed(order: Order, package: CreditPackage) -> Order:
    if order.package_id != package.pk:
        raise Conflict("This Idempotency-Key was used for another purchase.", code="IDEMPOTENCY_KEY_REUSED")
    return order_payment_ensure(order=order)


def order_payment_ensure(*, order: Order) -> Order:
    """Creates the provider payment of a pending order that has none yet (outside any transaction)."""
    if order.provider_payment_id or order.status != OrderStatus.PENDING:
        return order
    try:
        session = get_provider(order.provider).payment_create(order=order)
    except PaymentProviderError as exc:
        Order.objects.filter(pk=order.pk, status=OrderStatus.PENDING, provider_payment_id__isnull=True).update(
            status=OrderStatus.FAILED, failure_reason=str(exc)[:255], updated_at=timezone.now()
        )
        raise payment_provider_error(exc=exc)
    Order.objects.filter(pk=order.pk, provider_payment_id__isnull=True).update(
        provider_payment_id=session.payment_id, client_secret=session.client_secret or "", updated_at=timezone.now()
    )
    order.refresh_from_db()
    return order


def order_payment_info(*, order: Order) -> dict:
    """What the client needs to pay (provider, client secret or the sandbox confirm URL)."""
    return get_provider(order.provider).client_payment_info(order=order)


def order_complete(*, order: Order) -> bool:
    """Marks a payable order completed and grants its credits, once. False when it was not payable."""
    with transaction.atomic():
        profile_lock(user_id=order.user_id)
        now = timezone.now()
        moved = Order.objects.filter(pk=order.pk, status__in=PAYABLE_STATUSES).update(
            status=OrderStatus.COMPLETED, completed_at=now, failure_reason="", updated_at=now
        )
        if not moved or order.user_id is None:
            return bool(moved)
        if order.subscription_id:
            subscription = Subscription.objects.select_related("plan").get(pk=order.subscription_id)
            start = now.replace(microsecond=0)  # periods are whole seconds, as providers send them
            end = period_end(plan=subscription.plan, start=start)
            subscription_period_grant(subscription=subscription, order=order, start=start, end=end)
        else:
            credits_grant(
                user=order.user,
                amount=order.credits,
                type=TransactionType.PURCHASE,
                description=f"Purchase: {order.package.name if order.package_id else 'credits'}",
                order=order,
                idempotency_key=f"order:{order.id}",
            )
        order_referral_rewards(order=order)
    logger.info("order completed", extra={"event": "order_completed", "order": str(order.id)})
    return True


def order_referral_rewards(*, order: Order) -> None:
    """The referrer's rewards for a verified completed payment (provider webhook or store): first payment,
    subscription. Called in the completing transaction by every completion path; granted once each."""
    if order.user_id is None:
        return
    earlier_payment = (
        Order.objects.filter(user_id=order.user_id, status__in=(OrderStatus.COMPLETED, OrderStatus.REFUNDED))
        .exclude(pk=order.pk)
        .exists()
    )
    referral_payment_rewards(
        user=order.user, order_id=order.id, first_payment=not earlier_payment, subscription=bool(order.subscription_id)
    )


def order_fail(*, order: Order, reason: str) -> bool:
    """A payable order's payment failed (it stays payable: the client may try again)."""
    now = timezone.now()
    return bool(
        Order.objects.filter(pk=order.pk, status__in=(OrderStatus.PENDING, OrderStatus.PROCESSING)).update(
            status=OrderStatus.FAILED, failure_reason=reason[:255], updated_at=now
        )
    )


def order_mark_refunded(*, order: Order, refund_id: str = "") -> bool:
    """The provider refunded the payment: claw the credits back (down to zero) once. True if it did.

    A refund seen before the success (events out of order) closes the order so the late success
    grants nothing.
    """
    with transaction.atomic():
        profile_lock(user_id=order.user_id)
        now = timezone.now()
        fields = {"status": OrderStatus.REFUNDED, "refunded_at": now, "updated_at": now}
        if refund_id:
            fields["provider_refund_id"] = refund_id
        moved = Order.objects.filter(pk=order.pk, status=OrderStatus.COMPLETED).update(**fields)
        if not moved:
            Order.objects.filter(pk=order.pk, status__in=PAYABLE_STATUSES).update(**fields)
            return False
        if order.user_id is not None:
            credits_clawback(
                user=order.user, amount=order.credits, description=f"Payment refunded (order {order.id})", order=order
            )
            referral_payment_clawback(user=order.user, order_id=order.id)
    logger.info("order refunded", extra={"event": "order_refunded", "order": str(order.id)})
    return True
