"""The sandbox provider goes through the same verified webhook path; concurrent duplicate deliveries
grant once; a failed processing is retried; production refuses the sandbox."""

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client, override_settings

from accounts.models import Profile
from billing.models import Order, OrderStatus, PaymentEvent
from billing.providers import get_provider
from billing.services import order_refund, purchase_create
from credits.models import CreditTransaction
from tests.billing.payments import event, payment_intent, sign
from tests.factories import UserFactory


def balance(user) -> int:
    return Profile.objects.get(user=user).credits


def post_sandbox(client, payload, secret=None):
    body = json.dumps(payload)
    return client.post(
        "/api/billing/webhooks/sandbox/",
        data=body,
        content_type="application/json",
        HTTP_SANDBOX_SIGNATURE=sign(body, secret or settings.SANDBOX_WEBHOOK_SECRET),
    )


@pytest.mark.django_db
class TestSandbox:
    def test_sandbox_webhook_endpoint_verifies_like_stripe(self, api_client, user):
        order, _ = purchase_create(user=user, package_slug="basic", amount=100)
        forged = post_sandbox(api_client, event("payment_intent.succeeded", payment_intent(order)), secret="wrong")
        assert forged.status_code == 400
        assert forged.json()["error"]["code"] == "INVALID_SIGNATURE"
        assert balance(user) == 20
        assert post_sandbox(api_client, event("payment_intent.succeeded", payment_intent(order))).status_code == 200
        assert balance(user) == 120

    def test_order_refund_through_the_sandbox_claws_back_at_once(self, auth_client):
        order_id = auth_client.post(
            "/api/credits/purchase", {"package": "basic", "amount": 100}, format="json"
        ).json()["data"]["order"]["id"]
        auth_client.post(f"/api/billing/sandbox/confirm/{order_id}", {}, format="json")
        assert balance(auth_client.user) == 120
        order = order_refund(order=Order.objects.get(pk=order_id), staff_user=UserFactory(is_staff=True))
        assert order.status == OrderStatus.REFUNDED
        assert balance(auth_client.user) == 20
        assert PaymentEvent.objects.filter(type="charge.refunded", status="processed").count() == 1
        assert CreditTransaction.objects.filter(order=order, amount=-100).count() == 1

    def test_a_failed_processing_is_recorded_and_processed_on_redelivery(self, api_client, user, monkeypatch):
        order, _ = purchase_create(user=user, package_slug="basic", amount=100)
        payload = event("payment_intent.succeeded", payment_intent(order), event_id="evt_retry")
        from billing import services

        def broken(provider, obj):
            raise RuntimeError("database hiccup")

        monkeypatch.setitem(services.HANDLERS, "payment_intent.succeeded", broken)
        client = Client(raise_request_exception=False)
        assert post_sandbox(client, payload).status_code == 500
        assert PaymentEvent.objects.get(event_id="evt_retry").status == PaymentEvent.Status.FAILED
        assert balance(user) == 20
        monkeypatch.undo()
        assert post_sandbox(api_client, payload).status_code == 200
        assert PaymentEvent.objects.get(event_id="evt_retry").status == PaymentEvent.Status.PROCESSED
        assert balance(user) == 120

    def test_sandbox_provider_and_webhook_are_refused_in_production_mode(self, api_client):
        with override_settings(SANDBOX_PAYMENTS_ENABLED=False):
            with pytest.raises(Exception) as caught:
                get_provider("sandbox")
            assert getattr(caught.value, "status_code", None) == 404
            response = post_sandbox(api_client, event("payment_intent.succeeded", {"id": "x"}))
            assert response.status_code == 404


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_one_event_delivered_concurrently_grants_once():
    from billing.catalog import catalog_ensure

    catalog_ensure()
    user = UserFactory()
    order, _ = purchase_create(user=user, package_slug="standard", amount=250)
    payload = event("payment_intent.succeeded", payment_intent(order), event_id="evt_concurrent")
    barrier = threading.Barrier(8)
    codes = []

    def deliver():
        try:
            barrier.wait()
            codes.append(post_sandbox(Client(), payload).status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=deliver) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert codes == [200] * 8
    assert balance(user) == 270
    assert CreditTransaction.objects.filter(order=order).count() == 1
    assert PaymentEvent.objects.filter(event_id="evt_concurrent").count() == 1


@pytest.mark.parametrize(
    ("extra", "refused"),
    [
        ({"PAYMENT_PROVIDER": "sandbox"}, True),
        ({"PAYMENT_PROVIDER": "stripe"}, True),  # no Stripe keys
        (
            {
                "PAYMENT_PROVIDER": "stripe",
                "STRIPE_SECRET_KEY": "sk_live_x",
                "STRIPE_PUBLISHABLE_KEY": "pk_live_x",
                "STRIPE_WEBHOOK_SECRET": "whsec_x",
            },
            False,
        ),
    ],
)
def test_production_refuses_the_sandbox_and_needs_stripe_keys(extra, refused):
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("STRIPE_", "PAYMENT_", "SANDBOX_"))},
        "DJANGO_ENV": "production",
        "SECRET_KEY": "s" * 60,
        "JWT_SECRET": "j" * 40,
        "ALLOWED_HOSTS": "api.example.com",
        "DATABASE_URL": "postgres://u:p@127.0.0.1:5432/x",
        "ALLOW_LOCAL_STORAGE": "1",
        **extra,
    }
    script = "import aiasmr.settings as s; print('PAYMENT_PROVIDER ok')"
    result = subprocess.run(  # noqa: S603
        [sys.executable, "-c", script],
        cwd=Path(settings.BASE_DIR),
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    # Only the payment part of the guard is under test here; other settings may add their own needs.
    payment_refused = result.returncode != 0 and ("PAYMENT_PROVIDER" in result.stderr or "STRIPE_" in result.stderr)
    assert payment_refused is refused, result.stderr[-800:]


@pytest.mark.django_db
def test_webhooks_need_no_csrf_token_or_session(user):
    order, _ = purchase_create(user=user, package_slug="basic", amount=100)
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)  # a session cookie must not turn CSRF checks on for a signed webhook
    response = post_sandbox(client, event("payment_intent.succeeded", payment_intent(order)))
    assert response.status_code == 200
    assert balance(user) == 120
