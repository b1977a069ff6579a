"""Stripe: PaymentIntents for purchases (faked at the HTTP layer), webhooks with real signatures,
credits granted exactly once, refunds clawed back."""

import json
import time
import uuid
from decimal import Decimal

import pytest
import responses
from django.test import override_settings
from responses import matchers

from accounts.models import Profile
from billing.models import CreditPackage, Order, OrderStatus, PaymentEvent
from billing.services import order_refund
from credits.models import CreditTransaction
from tests.billing.payments import (
    STRIPE_SECRET,
    STRIPE_SETTINGS,
    charge_refunded,
    event,
    payment_intent,
    post_stripe,
    sign,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("stripe_settings")]
PI_URL = "https://api.stripe.com/v1/payment_intents"


@pytest.fixture
def stripe_settings():
    with override_settings(**STRIPE_SETTINGS):
        yield


def balance(user) -> int:
    return Profile.objects.get(user=user).credits


@pytest.fixture
def order(user):
    package = CreditPackage.objects.get(slug="standard")
    return Order.objects.create(
        user=user,
        package=package,
        credits=package.credits,
        amount=package.price,
        currency="USD",
        provider="stripe",
        provider_payment_id=f"pi_{uuid.uuid4().hex[:16]}",
    )


def buy(client, key=None, package="standard", amount=250):
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key else {}
    return client.post(
        "/api/credits/purchase", {"package": package, "paymentMethod": "card", "amount": amount}, format="json", **headers
    )


class TestPurchase:
    @responses.activate
    def test_purchase_creates_a_payment_intent_and_returns_its_client_secret(self, auth_client):
        responses.post(
            PI_URL,
            json={"id": "pi_abc", "object": "payment_intent", "client_secret": "pi_abc_secret_x", "status": "requires_payment_method"},
            match=[
                matchers.urlencoded_params_matcher(
                    {"amount": "1999", "currency": "usd", "automatic_payment_methods[enabled]": "true"},
                    strict_match=False,
                )
            ],
        )
        response = buy(auth_client)
        assert response.status_code == 200, response.json()
        data = response.json()["data"]
        assert (data["transaction"]["creditsAdded"], data["transaction"]["newBalance"]) == (0, 20)
        assert data["payment"]["provider"] == "stripe"
        assert data["payment"]["clientSecret"] == "pi_abc_secret_x"
        assert data["payment"]["publishableKey"] == "pk_test_123"
        assert data["order"]["status"] == "pending"
        order = Order.objects.get()
        assert (order.provider_payment_id, order.amount, order.credits) == ("pi_abc", Decimal("19.99"), 250)
        assert responses.calls[0].request.headers["Idempotency-Key"] == f"order-{order.id}"
        assert balance(auth_client.user) == 20  # nothing granted on the client's word

    @responses.activate
    def test_same_idempotency_key_twice_creates_one_order_and_one_payment_intent(self, auth_client):
        responses.post(PI_URL, json={"id": "pi_one", "object": "payment_intent", "client_secret": "pi_one_secret"})
        first = buy(auth_client, key="buy-1")
        second = buy(auth_client, key="buy-1")
        assert (first.status_code, second.status_code) == (200, 200)
        assert first.json()["data"]["order"]["id"] == second.json()["data"]["order"]["id"]
        assert second.json()["data"]["payment"]["clientSecret"] == "pi_one_secret"
        assert Order.objects.count() == 1
        assert len(responses.calls) == 1

    @responses.activate
    def test_the_same_key_for_another_package_is_a_conflict(self, auth_client):
        responses.post(PI_URL, json={"id": "pi_two", "object": "payment_intent", "client_secret": "s"})
        buy(auth_client, key="buy-2")
        response = buy(auth_client, key="buy-2", package="basic", amount=100)
        assert response.status_code == 409
        assert response.json()["error"]["code"] == "IDEMPOTENCY_KEY_REUSED"

    @responses.activate
    def test_stripe_down_answers_502_and_the_order_fails(self, auth_client):
        responses.post(PI_URL, json={"error": {"type": "api_error", "message": "boom"}}, status=500)
        response = buy(auth_client)
        assert response.status_code == 502
        assert response.json()["error"]["code"] == "PAYMENT_PROVIDER_ERROR"
        assert Order.objects.get().status == OrderStatus.FAILED
        assert balance(auth_client.user) == 20


class TestWebhookDelivery:
    def test_success_delivered_five_times_grants_once(self, api_client, order):
        payload = event("payment_intent.succeeded", payment_intent(order), event_id="evt_five")
        answers = [post_stripe(api_client, payload) for _ in range(5)]
        assert [a.status_code for a in answers] == [200] * 5
        assert [a.json()["data"]["outcome"] for a in answers] == ["processed"] + ["duplicate"] * 4
        order.refresh_from_db()
        assert order.status == OrderStatus.COMPLETED
        assert balance(order.user) == 270
        assert CreditTransaction.objects.filter(order=order, type="purchase").count() == 1
        assert PaymentEvent.objects.filter(event_id="evt_five").count() == 1

    def test_two_different_success_events_for_one_order_grant_once(self, api_client, order):
        post_stripe(api_client, event("payment_intent.succeeded", payment_intent(order)))
        second = post_stripe(api_client, event("payment_intent.succeeded", payment_intent(order)))
        assert second.json()["data"]["outcome"] == "ignored"
        assert balance(order.user) == 270

    def test_failure_after_success_does_not_undo_it(self, api_client, order):
        post_stripe(api_client, event("payment_intent.succeeded", payment_intent(order)))
        post_stripe(api_client, event("payment_intent.payment_failed", payment_intent(order)))
        order.refresh_from_db()
        assert order.status == OrderStatus.COMPLETED
        assert balance(order.user) == 270

    def test_a_declined_card_then_success_completes(self, api_client, order):
        post_stripe(api_client, event("payment_intent.payment_failed", payment_intent(order)))
        order.refresh_from_db()
        assert order.status == OrderStatus.FAILED
        post_stripe(api_client, event("payment_intent.succeeded", payment_intent(order)))
        assert balance(order.user) == 270

    def test_refund_arriving_before_success_means_no_credits(self, api_client, order):
        post_stripe(api_client, event("charge.refunded", charge_refunded(order)))
        post_stripe(api_client, event("payment_intent.succeeded", payment_intent(order)))
        order.refresh_from_db()
        assert order.status == OrderStatus.REFUNDED
        assert balance(order.user) == 20
        assert not CreditTransaction.objects.filter(order=order).exists()

    def test_a_payment_for_another_amount_grants_nothing(self, api_client, order):
        response = post_stripe(api_client, event("payment_intent.succeeded", payment_intent(order, amount=100)))
        assert response.status_code == 200
        assert response.json()["data"]["outcome"] == "ignored"
        order.refresh_from_db()
        assert order.status == OrderStatus.PENDING
        assert balance(order.user) == 20

    def test_an_unknown_event_type_is_acknowledged_and_ignored(self, api_client):
        response = post_stripe(api_client, event("customer.created", {"id": "cus_1"}))
        assert response.status_code == 200
        assert PaymentEvent.objects.get().status == PaymentEvent.Status.IGNORED


class TestSignatures:
    def assert_refused(self, response, order):
        assert response.status_code == 400
        assert response.json()["error"]["code"] == "INVALID_SIGNATURE"
        order.refresh_from_db()
        assert order.status == OrderStatus.PENDING
        assert balance(order.user) == 20
        assert not PaymentEvent.objects.exists()

    def test_forged_signature(self, api_client, order):
        payload = event("payment_intent.succeeded", payment_intent(order))
        self.assert_refused(post_stripe(api_client, payload, secret="whsec_attacker"), order)

    def test_altered_body(self, api_client, order):
        payload = event("payment_intent.succeeded", payment_intent(order, amount=1))
        signed_for = json.dumps(payload)
        altered = signed_for.replace('"amount_received": 1', '"amount_received": 1999').replace(
            '"amount": 1', '"amount": 1999'
        )
        assert altered != signed_for
        response = api_client.post(
            "/api/billing/webhooks/stripe/",
            data=altered,
            content_type="application/json",
            HTTP_STRIPE_SIGNATURE=sign(signed_for, STRIPE_SECRET),
        )
        self.assert_refused(response, order)

    def test_expired_signature(self, api_client, order):
        payload = event("payment_intent.succeeded", payment_intent(order))
        self.assert_refused(post_stripe(api_client, payload, timestamp=int(time.time()) - 3600), order)

    def test_missing_signature(self, api_client, order):
        payload = event("payment_intent.succeeded", payment_intent(order))
        response = api_client.post("/api/billing/webhooks/stripe/", data=json.dumps(payload), content_type="application/json")
        self.assert_refused(response, order)

    def test_a_sandbox_signed_event_is_not_a_stripe_event(self, api_client, order, settings):
        payload = event("payment_intent.succeeded", payment_intent(order))
        self.assert_refused(post_stripe(api_client, payload, secret=settings.SANDBOX_WEBHOOK_SECRET), order)


class TestRefunds:
    def complete(self, api_client, order):
        post_stripe(api_client, event("payment_intent.succeeded", payment_intent(order)))
        order.refresh_from_db()
        assert order.status == OrderStatus.COMPLETED

    def test_charge_refunded_claws_back_once(self, api_client, order):
        self.complete(api_client, order)
        refunded = event("charge.refunded", charge_refunded(order))
        post_stripe(api_client, refunded)
        post_stripe(api_client, refunded)
        post_stripe(api_client, event("charge.refunded", charge_refunded(order)))  # a second, distinct event
        order.refresh_from_db()
        assert order.status == OrderStatus.REFUNDED
        assert balance(order.user) == 20
        clawbacks = CreditTransaction.objects.filter(order=order, amount__lt=0)
        assert [c.amount for c in clawbacks] == [-250]

    def test_clawback_stops_at_zero_when_credits_were_spent(self, api_client, order):
        from credits.services import credits_spend

        self.complete(api_client, order)
        credits_spend(user=order.user, amount=200, description="videos")
        post_stripe(api_client, event("charge.refunded", charge_refunded(order)))
        assert balance(order.user) == 0
        assert CreditTransaction.objects.get(order=order, amount__lt=0).amount == -70

    def test_partial_refund_is_left_to_staff(self, api_client, order):
        self.complete(api_client, order)
        response = post_stripe(api_client, event("charge.refunded", charge_refunded(order, refunded=False)))
        assert response.json()["data"]["outcome"] == "ignored"
        order.refresh_from_db()
        assert order.status == OrderStatus.COMPLETED
        assert balance(order.user) == 270

    @responses.activate
    def test_order_refund_asks_stripe_and_the_webhook_claws_back(self, api_client, order):
        self.complete(api_client, order)
        responses.post(
            "https://api.stripe.com/v1/refunds",
            json={"id": "re_777", "object": "refund", "status": "succeeded"},
            match=[matchers.urlencoded_params_matcher({"payment_intent": order.provider_payment_id}, strict_match=False)],
        )
        refunded = order_refund(order=order)
        assert refunded.provider_refund_id == "re_777"
        assert refunded.status == OrderStatus.COMPLETED  # until Stripe confirms
        assert balance(order.user) == 270
        post_stripe(api_client, event("charge.refunded", charge_refunded(order)))
        order.refresh_from_db()
        assert order.status == OrderStatus.REFUNDED
        assert balance(order.user) == 20

    def test_a_pending_order_cannot_be_refunded(self, order):
        from aiasmr.api.exceptions import Conflict

        with pytest.raises(Conflict) as caught:
            order_refund(order=order)
        assert caught.value.code == "ORDER_NOT_REFUNDABLE"
