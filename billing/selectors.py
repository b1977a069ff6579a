"""Reads for billing: packages, plans, the user's subscription and orders."""

import uuid

from django.db.models import QuerySet

from accounts.models import User
from aiasmr.api.exceptions import NotFound
from billing.models import LIVE_SUBSCRIPTION_STATUSES, CreditPackage, Order, Plan, Subscription


def plans_list() -> QuerySet[Plan]:
    return Plan.objects.filter(active=True).order_by("sort_order", "price")


def packages_list() -> QuerySet[CreditPackage]:
    return CreditPackage.objects.filter(active=True).order_by("sort_order", "credits")


def subscription_current(*, user: User) -> Subscription | None:
    """The user's live subscription, else the most recent one (None when they never had one)."""
    subscriptions = Subscription.objects.select_related("plan").filter(user=user)
    return subscriptions.filter(status__in=LIVE_SUBSCRIPTION_STATUSES).first() or subscriptions.first()


def orders_for_user(*, user: User) -> QuerySet[Order]:
    """The user's orders, newest first (order history)."""
    return Order.objects.select_related("package", "plan").filter(user=user).order_by("-created_at", "-id")


def order_get(*, user: User, order_id: uuid.UUID | str) -> Order:
    order = Order.objects.select_related("package", "plan").filter(pk=order_id, user=user).first()
    if order is None:
        raise NotFound("The order was not found.", code="ORDER_NOT_FOUND")
    return order
