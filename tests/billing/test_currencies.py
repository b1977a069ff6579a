"""Amounts in minor units with the one zero-decimal table: prices sent to Stripe, and paid amounts read from
its webhooks, in JPY, KRW, CLP and VND (zero-decimal) as in USD (two decimals)."""

import uuid
from decimal import Decimal

import pytest
import responses
from django.test import override_settings
from django.utils import timezone
from responses import matchers

from billing.currencies import ZERO_DECIMAL_CURRENCIES, from_minor_units, to_minor_units
from billing.models import CreditPackage, Order, OrderStatus, Plan, Subscription
from tests.billing.payments import STRIPE_SETTINGS, event, payment_intent, post_stripe

# Stripe's list (docs.stripe.com/currencies#zero-decimal).
STRIPE_ZERO_DECIMAL = {
    "BIF", "CLP", "DJF", "GNF", "JPY", "KMF", "KRW", "MGA", "PYG", "RWF", "UGX", "VND", "VUV", "XAF", "XOF", "XPF",
}


def test_the_table_is_stripes_whole_list():
    assert ZERO_DECIMAL_CURRENCIES == STRIPE_ZERO_DECIMAL


@pytest.mark.parametrize(
    ("price", "currency", "minor"),
    [
        (Decimal("500"), "JPY", 500),
        (Decimal("5900"), "KRW", 5900),
        (Decimal("4990"), "CLP", 4990),
        (Decimal("125000"), "VND", 125000),
        (Decimal("19.99"), "USD", 1999),
        (Decimal("19.99"), "eur", 1999),
        (Decimal("1490.50"), "HUF", 149050),  # zero-decimal for payouts only: charges are two-decimal
        (Decimal("150"), "TWD", 15000),
        (Decimal("5"), "ISK", 500),  # whole kronur written with two decimals
    ],
)
def test_prices_convert_to_minor_units_and_back(price, currency, minor):
    assert to_minor_units(price, currency) == minor
    assert from_minor_units(minor, currency) == price


def test_a_fractional_isk_price_is_refused_rather_than_sent():
    with pytest.raises(ValueError, match="whole units"):
        to_minor_units(Decimal("5.50"), "ISK")


@pytest.fixture
def stripe_mode():
    with override_settings(**STRIPE_SETTINGS):
        yield


@pytest.mark.django_db
@pytest.mark.usefixtures("stripe_mode")
@pytest.mark.parametrize(("currency", "price", "minor"), [("JPY", "3000", "3000"), ("VND", "125000", "125000")])
@responses.activate
def test_a_zero_decimal_price_is_sent_to_stripe_unmultiplied(auth_client, currency, price, minor):
    CreditPackage.objects.filter(slug="standard").update(currency=currency, price=Decimal(price))
    responses.post(
        "https://api.stripe.com/v1/payment_intents",
        json={"id": "pi_zero", "object": "payment_intent", "client_secret": "pi_zero_secret"},
        match=[
            matchers.urlencoded_params_matcher(
                {"amount": minor, "currency": currency.lower()}, strict_match=False
            )
        ],
    )
    response = auth_client.post(
        "/api/credits/purchase", {"package": "standard", "paymentMethod": "card", "amount": 250}, format="json"
    )
    assert response.status_code == 200, response.json()
    assert len(responses.calls) == 1


@pytest.mark.django_db
@pytest.mark.usefixtures("stripe_mode")
@pytest.mark.parametrize("currency", ["CLP", "VND", "XOF"])
def test_a_zero_decimal_payment_matches_its_order_and_completes_it(api_client, user, currency):
    package = CreditPackage.objects.get(slug="standard")
    order = Order.objects.create(
        user=user, package=package, credits=package.credits, amount=Decimal("9900"), currency=currency,
        provider="stripe", provider_payment_id=f"pi_{uuid.uuid4().hex[:16]}",
    )
    paid = payment_intent(order, amount=9900, currency=currency.lower())
    assert post_stripe(api_client, event("payment_intent.succeeded", paid)).json()["data"]["outcome"] == "processed"
    order.refresh_from_db()
    assert order.status == OrderStatus.COMPLETED


@pytest.mark.django_db
@pytest.mark.usefixtures("stripe_mode")
@pytest.mark.parametrize(("currency", "amount_paid", "expected"), [
    ("CLP", 4990, Decimal("4990")),
    ("VND", 125000, Decimal("125000")),
    ("KRW", 5900, Decimal("5900")),
    ("USD", 4990, Decimal("49.90")),
])
def test_an_invoice_paid_in_a_zero_decimal_currency_records_its_whole_amount(api_client, user, currency, amount_paid,
                                                                            expected):
    """invoice.paid once divided every currency but JPY and KRW by 100: a CLP invoice of 4990 became 49.90."""
    subscription = Subscription.objects.create(
        user=user, plan=Plan.objects.get(slug="pro"), provider="stripe",
        provider_subscription_id=f"sub_{uuid.uuid4().hex[:10]}",
    )
    start = int(timezone.now().timestamp())
    invoice = {
        "id": f"in_{uuid.uuid4().hex[:10]}",
        "object": "invoice",
        "amount_paid": amount_paid,
        "currency": currency.lower(),
        "subscription": subscription.provider_subscription_id,
        "lines": {"data": [{"period": {"start": start, "end": start + 30 * 86400}}]},
    }
    assert post_stripe(api_client, event("invoice.paid", invoice)).json()["data"]["outcome"] == "processed"
    order = Order.objects.get(subscription=subscription)
    assert (order.amount, order.currency, order.status) == (expected, currency, OrderStatus.COMPLETED)


@pytest.mark.django_db
@pytest.mark.usefixtures("stripe_mode")
@responses.activate
def test_a_fractional_isk_price_fails_the_order_without_calling_stripe(auth_client):
    CreditPackage.objects.filter(slug="standard").update(currency="ISK", price=Decimal("2490.50"))
    response = auth_client.post(
        "/api/credits/purchase", {"package": "standard", "paymentMethod": "card", "amount": 250}, format="json"
    )
    assert (response.status_code, response.json()["error"]["code"]) == (502, "PAYMENT_PROVIDER_ERROR")
    assert Order.objects.get().status == OrderStatus.FAILED
    assert len(responses.calls) == 0
