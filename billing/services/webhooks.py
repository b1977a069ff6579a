"""Provider webhooks: verify the signature, store each event once by id, process it once, dispatch by
type. The sandbox delivers its own signed events through the very same function."""

import logging
import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, datetime

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from accounts.models import Profile, User
from accounts.services import profile_lock
from aiasmr.api.exceptions import Conflict, NotFound
from aiasmr.api.metrics import PAYMENT_EVENTS
from billing.currencies import from_minor_units, to_minor_units
from billing.models import (
    LIVE_SUBSCRIPTION_STATUSES,
    Order,
    OrderStatus,
    PaymentEvent,
    Plan,
    Subscription,
    SubscriptionStatus,
)
from billing.providers import WebhookSignatureError, get_provider
from billing.services.common import DONE_EVENT_STATUSES, PAYABLE_STATUSES, InvalidSignature, uuid_or_none
from billing.services.orders import (
    order_complete,
    order_fail,
    order_mark_refunded,
    order_payment_ensure,
    order_referral_rewards,
)
from billing.services.periods import subscription_expire, subscription_period_grant

logger = logging.getLogger("aiasmr.billing")


def payment_webhook_receive(
    *, provider_name: str, payload: bytes, headers: Mapping[str, str]
) -> tuple[PaymentEvent, str]:
    """Verifies a provider's signed event, stores it once by id and processes it once.

    Returns (event row, outcome) where outcome is processed, ignored or duplicate. A bad signature
    raises InvalidSignature (400) before anything is written. An unexpected failure marks the
    event failed and propagates (5xx), so the provider delivers it again.
    """
    provider = get_provider(provider_name)
    try:
        event = provider.webhook_verify(payload=payload, headers=headers)
    except WebhookSignatureError as exc:
        logger.warning("webhook signature refused", extra={"event": "webhook_bad_signature", "provider": provider.name,
                                                            "reason": str(exc)})
        raise InvalidSignature()
    try:
        record, outcome = _event_record_process(provider.name, event)
    except Exception:
        PAYMENT_EVENTS.labels(provider.name, str(event.get("type", ""))[:64], "failed").inc()
        raise
    PAYMENT_EVENTS.labels(provider.name, str(event.get("type", ""))[:64], outcome).inc()
    return record, outcome


def _event_record_process(provider_name: str, event: dict) -> tuple[PaymentEvent, str]:
    record, _ = PaymentEvent.objects.get_or_create(
        provider=provider_name,
        event_id=event["id"][:255],
        defaults={"type": event["type"][:128], "payload": event},
    )
    if record.status in DONE_EVENT_STATUSES:
        return record, "duplicate"
    try:
        with transaction.atomic():
            locked = PaymentEvent.objects.select_for_update().get(pk=record.pk)
            if locked.status in DONE_EVENT_STATUSES:
                return locked, "duplicate"
            status, note = _dispatch(provider_name, event)
            locked.status = status
            locked.error = note
            locked.processed_at = timezone.now()
            locked.save(update_fields=["status", "error", "processed_at"])
    except Exception as exc:
        PaymentEvent.objects.filter(pk=record.pk).exclude(status__in=DONE_EVENT_STATUSES).update(
            status=PaymentEvent.Status.FAILED, error=f"{exc.__class__.__name__}: {exc}"[:2000]
        )
        raise
    return locked, status


def sandbox_event_deliver(*, type: str, obj: dict, event_id: str | None = None) -> tuple[PaymentEvent, str]:  # noqa: A002
    """Signs a sandbox event and hands it to the same verified webhook path a real delivery takes."""
    provider = get_provider("sandbox")
    body, headers = provider.event_signed(type=type, obj=obj, event_id=event_id)
    return payment_webhook_receive(provider_name="sandbox", payload=body, headers=headers)


def _dispatch(provider: str, event: dict) -> tuple[str, str]:
    handler = HANDLERS.get(event["type"])
    if handler is None:
        return PaymentEvent.Status.IGNORED, "event type not handled"
    obj = (event.get("data") or {}).get("object") or {}
    if not isinstance(obj, dict):
        return PaymentEvent.Status.IGNORED, "event has no object"
    note = handler(provider, obj)
    return (PaymentEvent.Status.IGNORED, note) if note else (PaymentEvent.Status.PROCESSED, "")


def _order_for_payment(provider: str, obj: dict) -> Order | None:
    payment_id = obj.get("id") if obj.get("object", "payment_intent") == "payment_intent" else None
    order = None
    if payment_id:
        order = Order.objects.select_related("package").filter(provider=provider, provider_payment_id=payment_id).first()
    order_id = (obj.get("metadata") or {}).get("order_id")
    if order is None and order_id:
        # The payment was created but its id was never saved (a crash between the two).
        order = Order.objects.select_related("package").filter(
            pk=uuid_or_none(value=order_id), provider=provider, provider_payment_id__isnull=True
        ).first()
        if order is not None and payment_id:
            Order.objects.filter(pk=order.pk, provider_payment_id__isnull=True).update(provider_payment_id=payment_id)
    return order


def _on_payment_succeeded(provider: str, obj: dict) -> str:
    order = _order_for_payment(provider, obj)
    if order is None:
        return "no order for this payment"
    received = obj.get("amount_received", obj.get("amount"))
    if received != to_minor_units(order.amount, order.currency) or str(obj.get("currency", "")).upper() != order.currency:
        logger.error("payment amount mismatch", extra={"event": "payment_amount_mismatch", "order": str(order.id)})
        return "amount or currency does not match the order"
    if not order_complete(order=order):
        return f"order already {Order.objects.get(pk=order.pk).status}"
    return ""


def _on_payment_failed(provider: str, obj: dict) -> str:
    order = _order_for_payment(provider, obj)
    if order is None:
        return "no order for this payment"
    reason = ((obj.get("last_payment_error") or {}).get("message") or "Payment failed.")
    return "" if order_fail(order=order, reason=str(reason)) else "order not pending"


def _on_charge_refunded(provider: str, obj: dict) -> str:
    payment_id = obj.get("payment_intent")
    order = (
        Order.objects.filter(provider=provider)
        .filter(Q(provider_payment_id=payment_id) | Q(invoice_payment_intent_id=payment_id))
        .first()
        if payment_id
        else None
    )
    if order is None:
        return "no order for this charge"
    if not obj.get("refunded", False):
        return "partial refund: adjust credits by hand if needed"
    refunds = [r for r in ((obj.get("refunds") or {}).get("data") or []) if isinstance(r, dict)]
    refund_id = str(refunds[0].get("id") or "") if refunds else ""
    return "" if order_mark_refunded(order=order, refund_id=refund_id) else "order was not completed"


def _object_id(value) -> str:
    """A Stripe reference: an id, or the expanded object carrying it."""
    return str((value.get("id") if isinstance(value, dict) else value) or "")


def _invoice_payment_link(obj: dict) -> tuple[str, str]:
    """(invoice id, PaymentIntent id) of an invoice_payment object; either may be empty."""
    payment = obj.get("payment") if isinstance(obj.get("payment"), dict) else {}
    intent = payment.get("payment_intent") or obj.get("payment_intent")
    return _object_id(obj.get("invoice")), _object_id(intent)


def _intent_link(*, order: Order, intent_id: str) -> None:
    Order.objects.filter(pk=order.pk, invoice_payment_intent_id__isnull=True).update(
        invoice_payment_intent_id=intent_id[:255], updated_at=timezone.now()
    )


def _on_invoice_payment_paid(provider: str, obj: dict) -> str:
    """Names the PaymentIntent that paid a subscription invoice on the invoice's order, so that a refund
    of that payment (charge.refunded carries the PaymentIntent) finds the order. Either event may come
    first: invoice.paid looks this event up once the order it created has committed."""
    invoice_id, intent_id = _invoice_payment_link(obj)
    if not invoice_id or not intent_id:
        return "no invoice or payment intent"
    order = Order.objects.filter(provider=provider, provider_payment_id=invoice_id).first()
    if order is not None:
        _intent_link(order=order, intent_id=intent_id)
        return ""
    if Order.objects.filter(provider=provider, provider_payment_id=intent_id).exists():
        return ""  # the invoice named its PaymentIntent itself (older API versions): nothing to link
    return "no order for this invoice yet; its invoice.paid will link it"


def _intent_link_from_events(provider: str, *, order: Order, invoice_id: str) -> None:
    """Links the PaymentIntent an already stored invoice_payment.paid named for this invoice."""
    events = PaymentEvent.objects.filter(
        Q(payload__data__object__invoice=invoice_id) | Q(payload__data__object__invoice__id=invoice_id),
        provider=provider,
        type="invoice_payment.paid",
    ).order_by("-created_at")
    for payload in events.values_list("payload", flat=True)[:5]:
        _, intent_id = _invoice_payment_link((payload.get("data") or {}).get("object") or {})
        if intent_id:
            _intent_link(order=order, intent_id=intent_id)
            return


def _subscription_for(provider: str, provider_subscription_id) -> Subscription | None:
    if not provider_subscription_id:
        return None
    return (
        Subscription.objects.select_related("plan")
        .filter(provider=provider, provider_subscription_id=provider_subscription_id)
        .first()
    )


def _ts(value) -> datetime | None:
    try:
        return datetime.fromtimestamp(int(value), tz=UTC) if value else None
    except (TypeError, ValueError, OverflowError, OSError):  # not a time a period can have
        return None


def _on_invoice_paid(provider: str, obj: dict) -> str:
    sub_ref = obj.get("subscription") or (
        ((obj.get("parent") or {}).get("subscription_details") or {}).get("subscription")
    )
    subscription = _subscription_for(provider, sub_ref)
    if subscription is None:
        return "no subscription for this invoice"
    lines = (obj.get("lines") or {}).get("data") or [{}]
    period = lines[0].get("period") or {}
    start = _ts(period.get("start") or obj.get("period_start"))
    end = _ts(period.get("end") or obj.get("period_end"))
    if start is None or end is None:
        return "invoice without a period"
    plan = subscription.plan
    payment_ref = obj.get("payment_intent") or obj["id"]
    currency = str(obj.get("currency") or plan.currency).upper()
    paid = from_minor_units(int(obj.get("amount_paid") or 0), currency)
    order, _ = Order.objects.get_or_create(
        provider_payment_id=payment_ref,
        defaults={
            "user_id": subscription.user_id,
            "plan": plan,
            "subscription": subscription,
            "credits": plan.credits_per_period,
            "amount": paid,
            "currency": currency,
            "provider": provider,
            "payment_method": "subscription",
        },
    )
    if payment_ref == obj["id"] and order.invoice_payment_intent_id is None:
        # Looked up once this event has committed: an invoice_payment.paid processed meanwhile either saw
        # this order or was stored before the lookup, so neither event misses the other.
        transaction.on_commit(
            lambda: _intent_link_from_events(provider, order=order, invoice_id=obj["id"]), robust=True
        )
    with transaction.atomic():
        profile_lock(user_id=subscription.user_id)
        now = timezone.now()
        completed = Order.objects.filter(pk=order.pk, status__in=PAYABLE_STATUSES).update(
            status=OrderStatus.COMPLETED, completed_at=now, updated_at=now
        )
        if subscription.user_id is None:
            return "subscription has no user"
        subscription_period_grant(subscription=subscription, order=order, start=start, end=end)
        if completed:
            order_referral_rewards(order=order)
    return ""


STRIPE_STATUS = {
    "active": SubscriptionStatus.ACTIVE,
    "trialing": SubscriptionStatus.ACTIVE,
    "past_due": SubscriptionStatus.PAST_DUE,
    "unpaid": SubscriptionStatus.PAST_DUE,
    "incomplete": SubscriptionStatus.INCOMPLETE,
    "incomplete_expired": SubscriptionStatus.EXPIRED,
    "canceled": SubscriptionStatus.EXPIRED,
}


def _on_subscription_updated(provider: str, obj: dict) -> str:
    subscription = _subscription_for(provider, obj.get("id"))
    if subscription is None:
        return "no such subscription"
    status = STRIPE_STATUS.get(obj.get("status"))
    if status == SubscriptionStatus.EXPIRED:
        subscription_expire(subscription=subscription)
        return ""
    items = (obj.get("items") or {}).get("data") or [{}]
    fields = {"cancel_at_period_end": bool(obj.get("cancel_at_period_end")), "updated_at": timezone.now()}
    price_id = (items[0].get("price") or {}).get("id")
    plan = Plan.objects.filter(stripe_price_id=price_id).first() if price_id else None
    if plan is not None:
        fields["plan"] = plan
    # Only the status between live states moves here; a paid period is activated by invoice.paid.
    if status in (SubscriptionStatus.PAST_DUE,) or (
        status == SubscriptionStatus.ACTIVE and subscription.status == SubscriptionStatus.PAST_DUE
    ):
        fields["status"] = status
    with transaction.atomic():
        profile_lock(user_id=subscription.user_id)
        Subscription.objects.filter(pk=subscription.pk, status__in=LIVE_SUBSCRIPTION_STATUSES).update(**fields)
        if plan is not None and subscription.status == SubscriptionStatus.ACTIVE and subscription.user_id:
            Profile.objects.filter(user_id=subscription.user_id).update(**plan.profile_fields())
    return ""


def _on_subscription_deleted(provider: str, obj: dict) -> str:
    subscription = _subscription_for(provider, obj.get("id"))
    if subscription is None:
        return "no such subscription"
    return "" if subscription_expire(subscription=subscription) else "subscription already ended"


HANDLERS: dict[str, Callable[[str, dict], str]] = {
    "payment_intent.succeeded": _on_payment_succeeded,
    "payment_intent.payment_failed": _on_payment_failed,
    "charge.refunded": _on_charge_refunded,
    "invoice.paid": _on_invoice_paid,
    "invoice_payment.paid": _on_invoice_payment_paid,
    "customer.subscription.updated": _on_subscription_updated,
    "customer.subscription.deleted": _on_subscription_deleted,
}


def sandbox_payment_confirm(*, user: User, order_id: uuid.UUID | str, outcome: str = "succeeded") -> Order:
    """Development only: the sandbox 'pays' (or declines) one of the user's orders by sending its
    signed webhook through the same verified path as a real provider. Not routed in production."""
    if not settings.SANDBOX_PAYMENTS_ENABLED:
        raise NotFound("Not available.", code="NOT_FOUND")
    order = Order.objects.filter(pk=uuid_or_none(value=order_id), user=user, provider="sandbox").first()
    if order is None:
        raise NotFound("The order was not found.", code="ORDER_NOT_FOUND")
    order = order_payment_ensure(order=order)
    if not order.provider_payment_id:
        raise Conflict("This order cannot be paid.", code="ORDER_NOT_PAYABLE")
    provider = get_provider("sandbox")
    if outcome == "failed":
        obj = provider.payment_intent_object(order=order, failure="Your card was declined (sandbox).")
        sandbox_event_deliver(type="payment_intent.payment_failed", obj=obj)
    else:
        sandbox_event_deliver(type="payment_intent.succeeded", obj=provider.payment_intent_object(order=order))
    order.refresh_from_db()
    return order
