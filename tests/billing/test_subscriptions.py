"""Plans and subscriptions: activation by a verified payment, credits once per period, cancellation at
period end, renewal and expiry by `manage.py subscriptions_renew`, entitlements on the profile."""

import uuid
from datetime import timedelta

import pytest
import responses
from django.core.management import call_command
from django.test import override_settings
from django.utils import timezone
from responses import matchers

from accounts.models import Profile
from billing.models import Order, Plan, Subscription, SubscriptionStatus
from credits.models import CreditTransaction
from tests.billing.payments import STRIPE_SETTINGS, event, post_stripe

pytestmark = pytest.mark.django_db


def subscribe(client, plan="basic"):
    return client.post("/api/billing/subscription", {"plan": plan}, format="json")


def subscribe_and_pay(client, plan="basic") -> Subscription:
    payment = subscribe(client, plan).json()["data"]["payment"]
    assert client.post(payment["confirmUrl"], {}, format="json").status_code == 200
    return Subscription.objects.get(user=client.user, status=SubscriptionStatus.ACTIVE)


def profile(user) -> Profile:
    return Profile.objects.get(user=user)


def run_renew(now=None):
    if now is None:
        call_command("subscriptions_renew")
        return
    from billing.services import subscriptions_renew

    return subscriptions_renew(now=now)


def test_plans_are_public_with_prices_credits_and_entitlements(api_client):
    plans = api_client.get("/api/billing/plans").json()["data"]["plans"]
    assert [(p["id"], p["price"], p["credits"], p["billing"], p["entitlements"]["maxQuality"]) for p in plans] == [
        ("trial", "7.90", 100, "one_off", "720p"),
        ("basic", "19.90", 300, "month", "720p"),
        ("pro", "49.90", 1500, "month", "1080p"),
    ]


def test_subscription_is_incomplete_until_paid(auth_client):
    response = subscribe(auth_client)
    assert response.status_code == 201
    data = response.json()["data"]
    assert data["subscription"]["status"] == "incomplete"
    assert data["payment"]["provider"] == "sandbox"
    assert profile(auth_client.user).plan_type == "free"
    assert profile(auth_client.user).credits == 20


def test_paying_activates_the_plan_and_grants_the_period_once(auth_client):
    subscription = subscribe_and_pay(auth_client, "pro")
    user_profile = profile(auth_client.user)
    assert (user_profile.plan_type, user_profile.credits) == ("pro", 1520)
    assert subscription.current_period_end > subscription.current_period_start
    state = auth_client.get("/api/billing/subscription").json()["data"]
    assert state["subscription"]["status"] == "active"
    assert state["entitlements"] == {"plan": "pro", "maxQuality": "1080p", "commercialUse": True}
    me = auth_client.get("/api/user/profile").json()["data"]["user"]
    assert me["entitlements"]["maxQuality"] == "1080p"
    order = Order.objects.get(subscription=subscription)
    assert auth_client.post(f"/api/billing/sandbox/confirm/{order.id}", {}, format="json").status_code == 200
    assert profile(auth_client.user).credits == 1520


def test_free_profile_is_limited_to_720p(auth_client):
    me = auth_client.get("/api/user/profile").json()["data"]["user"]
    assert me["entitlements"] == {"plan": "free", "maxQuality": "720p", "commercialUse": False}


def test_a_second_live_subscription_is_refused(auth_client):
    subscribe_and_pay(auth_client)
    response = subscribe(auth_client, "pro")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "SUBSCRIPTION_EXISTS"


def test_an_abandoned_checkout_is_replaced(auth_client):
    subscribe(auth_client)
    assert subscribe(auth_client, "pro").status_code == 201
    assert Subscription.objects.filter(user=auth_client.user, status="cancelled").count() == 1
    assert Subscription.objects.filter(user=auth_client.user, status="incomplete").get().plan.slug == "pro"


def test_unknown_plan(auth_client):
    response = subscribe(auth_client, "platinum")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "INVALID_PLAN"


def test_cancel_keeps_the_plan_until_period_end_then_drops_to_free(auth_client):
    subscription = subscribe_and_pay(auth_client)
    response = auth_client.post("/api/billing/subscription/cancel")
    assert response.status_code == 200
    assert response.json()["data"]["cancelAtPeriodEnd"] is True
    run_renew()
    assert profile(auth_client.user).plan_type == "basic"
    after_end = subscription.current_period_end + timedelta(minutes=1)
    run_renew(now=after_end)
    subscription.refresh_from_db()
    assert subscription.status == SubscriptionStatus.EXPIRED
    assert profile(auth_client.user).plan_type == "free"
    assert profile(auth_client.user).credits == 320  # credits already granted stay
    assert run_renew(now=after_end) == {"renewed": 0, "expired": 0, "abandoned": 0}


def test_cancel_without_a_subscription(auth_client):
    response = auth_client.post("/api/billing/subscription/cancel")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "SUBSCRIPTION_NOT_FOUND"


def test_renewal_grants_each_period_once_however_often_it_runs(auth_client):
    subscription = subscribe_and_pay(auth_client)
    first_end = subscription.current_period_end
    later = first_end + timedelta(minutes=5)
    assert run_renew(now=later)["renewed"] == 1
    assert run_renew(now=later)["renewed"] == 0
    subscription.refresh_from_db()
    assert subscription.current_period_start == first_end
    assert subscription.status == SubscriptionStatus.ACTIVE
    assert profile(auth_client.user).credits == 620
    grants = CreditTransaction.objects.filter(subscription=subscription, type="subscription")
    assert grants.count() == 2
    run_renew(now=subscription.current_period_end + timedelta(minutes=1))
    assert profile(auth_client.user).credits == 920


def test_trial_is_one_off_and_lapses_to_free(auth_client, settings):
    subscription = subscribe_and_pay(auth_client, "trial")
    assert profile(auth_client.user).credits == 120
    assert subscription.current_period_end - subscription.current_period_start == timedelta(
        days=settings.TRIAL_PERIOD_DAYS
    )
    counts = run_renew(now=subscription.current_period_end + timedelta(seconds=1))
    assert counts == {"renewed": 0, "expired": 1, "abandoned": 0}
    assert profile(auth_client.user).plan_type == "free"
    assert profile(auth_client.user).credits == 120
    response = subscribe(auth_client, "trial")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "TRIAL_ALREADY_USED"


def test_abandoned_checkouts_are_closed(auth_client):
    subscribe(auth_client)
    counts = run_renew(now=timezone.now() + timedelta(days=2))
    assert counts["abandoned"] == 1
    assert Subscription.objects.get().status == SubscriptionStatus.CANCELLED
    assert Order.objects.get().status == "cancelled"


@pytest.mark.usefixtures("stripe_mode")
class TestStripeSubscriptionEvents:
    @pytest.fixture
    def stripe_mode(self):
        with override_settings(**STRIPE_SETTINGS):
            yield

    @pytest.fixture
    def subscription(self, user):
        return Subscription.objects.create(
            user=user,
            plan=Plan.objects.get(slug="pro"),
            provider="stripe",
            provider_subscription_id=f"sub_{uuid.uuid4().hex[:10]}",
        )

    def invoice(self, subscription, start, *, invoice_id=None):
        end = start + 30 * 86400
        return {
            "id": invoice_id or f"in_{uuid.uuid4().hex[:10]}",
            "object": "invoice",
            "amount_paid": 4990,
            "currency": "usd",
            "parent": {"subscription_details": {"subscription": subscription.provider_subscription_id}},
            "lines": {"data": [{"period": {"start": start, "end": end}}]},
        }

    def test_invoice_paid_repeated_and_out_of_order_grants_each_period_once(self, api_client, subscription):
        now = int(timezone.now().timestamp())
        first = event("invoice.paid", self.invoice(subscription, now))
        second = event("invoice.paid", self.invoice(subscription, now + 30 * 86400))
        for payload in (second, first, first, second, first):
            assert post_stripe(api_client, payload).status_code == 200
        subscription.refresh_from_db()
        assert subscription.status == SubscriptionStatus.ACTIVE
        assert int(subscription.current_period_start.timestamp()) == now + 30 * 86400  # never moved backwards
        assert profile(subscription.user).credits == 20 + 2 * 1500
        assert profile(subscription.user).plan_type == "pro"
        assert Order.objects.filter(subscription=subscription, status="completed").count() == 2

    def test_cancel_at_period_end_and_deletion(self, api_client, subscription):
        post_stripe(api_client, event("invoice.paid", self.invoice(subscription, int(timezone.now().timestamp()))))
        post_stripe(
            api_client,
            event(
                "customer.subscription.updated",
                {"id": subscription.provider_subscription_id, "status": "active", "cancel_at_period_end": True},
            ),
        )
        subscription.refresh_from_db()
        assert subscription.cancel_at_period_end is True
        assert profile(subscription.user).plan_type == "pro"
        deleted = event("customer.subscription.deleted", {"id": subscription.provider_subscription_id, "status": "canceled"})
        post_stripe(api_client, deleted)
        post_stripe(api_client, deleted)
        subscription.refresh_from_db()
        assert subscription.status == SubscriptionStatus.EXPIRED
        assert profile(subscription.user).plan_type == "free"

    # Stripe API versions from 2025-03-31 name no PaymentIntent on the invoice; invoice_payment.paid does.
    def invoice_payment(self, invoice_id, intent_id, *, nested=True):
        payment = {"payment": {"type": "payment_intent", "payment_intent": intent_id}} if nested else {
            "payment_intent": intent_id
        }
        return {"id": f"inpay_{uuid.uuid4().hex[:10]}", "object": "invoice_payment", "invoice": invoice_id,
                "status": "paid", **payment}

    def refund_of(self, intent_id):
        return {"id": f"ch_{uuid.uuid4().hex[:10]}", "object": "charge", "payment_intent": intent_id,
                "amount": 4990, "amount_refunded": 4990, "refunded": True, "currency": "usd",
                "refunds": {"data": [{"id": "re_sub"}]}}

    @pytest.mark.parametrize("invoice_payment_first", [False, True])
    def test_a_refunded_subscription_payment_is_clawed_back_in_either_event_order(
        self, api_client, subscription, invoice_payment_first, django_capture_on_commit_callbacks
    ):
        invoice = self.invoice(subscription, int(timezone.now().timestamp()))
        paid = event("invoice.paid", invoice)
        linked = event("invoice_payment.paid", self.invoice_payment(invoice["id"], "pi_sub_1", nested=True))
        for payload in ((linked, paid) if invoice_payment_first else (paid, linked)):
            with django_capture_on_commit_callbacks(execute=True):
                assert post_stripe(api_client, payload).status_code == 200
        order = Order.objects.get(subscription=subscription)
        assert (order.provider_payment_id, order.invoice_payment_intent_id) == (invoice["id"], "pi_sub_1")
        assert profile(subscription.user).credits == 20 + 1500

        refund = event("charge.refunded", self.refund_of("pi_sub_1"))
        for _ in range(2):
            assert post_stripe(api_client, refund).status_code == 200

        order.refresh_from_db()
        assert order.status == "refunded" and order.provider_refund_id == "re_sub"
        assert profile(subscription.user).credits == 20
        assert CreditTransaction.objects.filter(order=order, type="adjustment").count() == 1

    def test_an_invoice_payment_for_an_unknown_invoice_changes_nothing(self, api_client):
        response = post_stripe(api_client, event("invoice_payment.paid", self.invoice_payment("in_other", "pi_x")))
        assert response.status_code == 200 and response.json()["data"]["outcome"] == "ignored"
        assert not Order.objects.exists()

    @responses.activate
    def test_staff_refund_of_an_invoice_keyed_order_names_its_payment_intent(self, api_client, subscription):
        from billing.services import order_refund

        invoice = self.invoice(subscription, int(timezone.now().timestamp()))
        post_stripe(api_client, event("invoice.paid", invoice))
        post_stripe(api_client, event("invoice_payment.paid", self.invoice_payment(invoice["id"], "pi_sub_2", nested=False)))
        responses.post(
            "https://api.stripe.com/v1/refunds",
            json={"id": "re_staff", "object": "refund"},
            match=[matchers.urlencoded_params_matcher({"payment_intent": "pi_sub_2"}, strict_match=False)],
        )

        order_refund(order=Order.objects.get(subscription=subscription))

        assert Order.objects.get(subscription=subscription).provider_refund_id == "re_staff"
