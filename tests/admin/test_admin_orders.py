"""Orders in the back office: read-only, refunded only through the provider (sandbox here) by order_refund."""

import pytest
from django.contrib import messages
from django.contrib.admin.models import LogEntry
from django.urls import reverse

from accounts.models import Profile
from billing.models import Order, OrderStatus
from credits.models import CreditTransaction, TransactionType
from credits.services import credits_grant
from tests.admin.builders import billing_make
from tests.factories import UserFactory


@pytest.fixture
def paid_order(db):
    customer = UserFactory()
    order = billing_make(user=customer)["order"]
    credits_grant(user=customer, amount=order.credits, type=TransactionType.PURCHASE, description="Purchase", order=order)
    return order


def _levels(response) -> list[int]:
    return [message.level for message in messages.get_messages(response.wsgi_request)]


@pytest.mark.django_db
def test_a_provider_refund_claws_the_credits_back_once(su_client, paid_order):
    customer = paid_order.user
    assert Profile.objects.get(user=customer).credits == 20 + paid_order.credits
    changelist = reverse("admin:billing_order_changelist")
    first = su_client.post(changelist, {"action": "refund_through_provider", "_selected_action": [paid_order.pk]})
    assert first.status_code == 302
    paid_order.refresh_from_db()
    assert paid_order.status == OrderStatus.REFUNDED and paid_order.provider_refund_id
    assert Profile.objects.get(user=customer).credits == 20
    assert CreditTransaction.objects.filter(order=paid_order, type=TransactionType.ADJUSTMENT).count() == 1
    assert LogEntry.objects.filter(object_id=str(paid_order.pk)).count() == 1

    second = su_client.post(reverse("admin:billing_order_refund", args=[paid_order.pk]))
    assert messages.ERROR in _levels(second)
    assert Profile.objects.get(user=customer).credits == 20
    assert CreditTransaction.objects.filter(order=paid_order, type=TransactionType.ADJUSTMENT).count() == 1
    assert LogEntry.objects.count() == 1


@pytest.mark.django_db
def test_orders_are_read_only_and_refunds_need_their_permission(su_client, staff_client, paid_order):
    assert su_client.get(reverse("admin:billing_order_add")).status_code == 403
    assert su_client.post(reverse("admin:billing_order_delete", args=[paid_order.pk]), {"post": "yes"}).status_code == 403
    viewer = staff_client("billing.view_order")
    assert viewer.get(reverse("admin:billing_order_change", args=[paid_order.pk])).status_code == 200
    assert viewer.post(reverse("admin:billing_order_refund", args=[paid_order.pk])).status_code == 403
    viewer.post(
        reverse("admin:billing_order_changelist"), {"action": "refund_through_provider", "_selected_action": [paid_order.pk]}
    )
    assert Order.objects.get(pk=paid_order.pk).status == OrderStatus.COMPLETED
    assert Profile.objects.get(user=paid_order.user).credits == 20 + paid_order.credits


@pytest.mark.django_db
def test_packages_and_plans_are_editable(su_client, paid_order):
    package = paid_order.package
    response = su_client.post(
        reverse("admin:billing_creditpackage_change", args=[package.pk]),
        {
            "slug": package.slug, "name": "Renamed", "credits": package.credits, "price": "8.88", "currency": "USD",
            "savings_percent": 0, "sort_order": 0, "active": "on",
        },
    )
    assert response.status_code == 302
    package.refresh_from_db()
    assert (package.name, str(package.price)) == ("Renamed", "8.88")
