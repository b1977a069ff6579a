"""Staff refunds through the payment provider. Above the webhooks in the module order: the sandbox answers
a refund with a signed `charge.refunded` that goes through the webhook path."""

import logging

from django.utils import timezone

from accounts.models import User
from aiasmr.api.exceptions import Conflict
from billing.models import Order, OrderStatus
from billing.providers import PaymentProviderError, get_provider
from billing.services.common import payment_provider_error
from billing.services.webhooks import sandbox_event_deliver

logger = logging.getLogger("aiasmr.billing")


def order_refund(*, order: Order, staff_user: User | None = None) -> Order:
    """Refunds a completed order through its provider. The sandbox answers at once with a signed
    `charge.refunded` through the webhook path; Stripe's `charge.refunded` webhook does the clawback."""
    order.refresh_from_db()
    if order.status != OrderStatus.COMPLETED or not order.provider_payment_id:
        raise Conflict("Only a completed, paid order can be refunded.", code="ORDER_NOT_REFUNDABLE")
    provider = get_provider(order.provider)
    try:
        refund_id = provider.refund_create(order=order)
    except PaymentProviderError as exc:
        raise payment_provider_error(exc=exc)
    Order.objects.filter(pk=order.pk).update(provider_refund_id=refund_id, updated_at=timezone.now())
    logger.info(
        "order refund requested",
        extra={
            "event": "order_refund_requested",
            "order": str(order.id),
            "staff_user": str(staff_user.pk) if staff_user else None,
        },
    )
    if provider.name == "sandbox":
        sandbox_event_deliver(type="charge.refunded", obj=provider.charge_refunded_object(order=order))
    order.refresh_from_db()
    return order
