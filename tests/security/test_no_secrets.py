"""No secret in any response or log line across a full flow: passwords, other sessions' refresh tokens,
the KIE key and callback secret, the Stripe secret key and webhook secrets, the signing keys."""

import json
import logging

import pytest
import responses
from django.conf import settings as django_settings
from django.test import override_settings
from rest_framework.test import APIClient

from billing.models import Order
from tests.billing.payments import event, payment_intent, sign
from tests.security.helpers import leaked
from tests.videos.conftest import GOOD_BODY, deliver, run_tasks
from videos.models import Video

PASSWORD = "First-Pa55word!"
NEW_PASSWORD = "Second-Pa55word!"
KIE_CALLBACK_SECRET = "kie-callback-secret-7f3a9d2c41"
STRIPE = {
    "PAYMENT_PROVIDER": "stripe",
    "STRIPE_SECRET_KEY": "sk_test_supersecret_51Hx9QkL",
    "STRIPE_PUBLISHABLE_KEY": "pk_test_public_51Hx9QkL",
    "STRIPE_WEBHOOK_SECRET": "whsec_topsecret_8c1e6b5a",
    "STRIPE_API_BASE": "https://api.stripe.com",
}
PI_URL = "https://api.stripe.com/v1/payment_intents"


class Flow:
    """An API client that keeps every response it got."""

    def __init__(self):
        self.client = APIClient()
        self.responses = []

    def bearer(self, token):
        self.client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")

    def __getattr__(self, method):
        def call(path, body=None, **extra):
            response = getattr(self.client, method)(path, body, format="json", **extra)
            self.responses.append(response)
            return response

        return call

    def text(self) -> str:
        return "\n".join(
            f"{dict(r.items())}\n{r.content.decode()}" for r in self.responses
        )


@pytest.mark.django_db
def test_a_full_flow_leaks_no_secret_in_responses_or_logs(fake_kie, settings, caplog):
    settings.KIE_CALLBACK_SECRET = KIE_CALLBACK_SECRET
    settings.JWT_REFRESH_REUSE_GRACE_SECONDS = 0  # the reuse below is past the grace window
    caplog.set_level(logging.DEBUG)
    app, other_device = Flow(), Flow()

    # Accounts: register, a failed and two good logins (two sessions), password change, refresh reuse.
    registered = app.post("/api/auth/register", {"email": "flow@example.com", "password": PASSWORD})
    assert registered.status_code == 201
    assert app.post("/api/auth/login", {"email": "flow@example.com", "password": "Wrong-Pa55word!"}).status_code == 401
    first = app.post("/api/auth/login", {"email": "flow@example.com", "password": PASSWORD}).json()["data"]
    second = other_device.post("/api/auth/login", {"email": "flow@example.com", "password": PASSWORD}).json()["data"]
    app.bearer(first["token"])
    change = {"currentPassword": PASSWORD, "newPassword": NEW_PASSWORD, "confirmPassword": NEW_PASSWORD}
    fresh = app.put("/api/user/password", change).json()["data"]
    app.bearer(fresh["token"])
    assert other_device.post("/api/auth/refresh", {"refreshToken": second["refreshToken"]}).status_code == 401
    rotated = app.post("/api/auth/refresh", {"refreshToken": fresh["refreshToken"]}).json()["data"]
    assert app.post("/api/auth/refresh", {"refreshToken": fresh["refreshToken"]}).status_code == 401  # reuse
    # The reuse signed out that session (its family), the rotated token included: log in again.
    assert app.post("/api/auth/refresh", {"refreshToken": rotated["refreshToken"]}).status_code == 401
    relogged = app.post("/api/auth/login", {"email": "flow@example.com", "password": NEW_PASSWORD}).json()["data"]
    app.bearer(relogged["token"])

    # A generation through the fake KIE, its callback (secret in the URL) and the copy.
    task_id = app.post("/api/generate", GOOD_BODY).json()["data"]["taskId"]
    run_tasks()
    [callback] = fake_kie.wait_callbacks(1)
    assert KIE_CALLBACK_SECRET in callback["url"]  # KIE got it, as it must
    assert deliver(APIClient(), callback).status_code == 200
    assert APIClient().post("/api/kie-callback?secret=wrong", callback["body"], format="json").status_code == 401
    run_tasks()
    assert app.get(f"/api/generate/status/{task_id}").json()["data"]["status"] == "completed"
    app.get(f"/api/videos/{task_id}")
    app.get("/api/videos")

    # A sandbox purchase, then a Stripe purchase, a Stripe outage, a forged and a genuine webhook.
    order_id = app.post("/api/credits/purchase", {"package": "basic", "amount": 100}).json()["data"]["order"]["id"]
    app.post(f"/api/billing/sandbox/confirm/{order_id}", {})
    with override_settings(**STRIPE), responses.RequestsMock(assert_all_requests_are_fired=False) as stripe_api:
        stripe_api.add_passthru(fake_kie.url)
        stripe_api.post(PI_URL, json={"id": "pi_flow", "object": "payment_intent", "client_secret": "pi_flow_secret_abc"})
        bought = app.post("/api/credits/purchase", {"package": "standard", "amount": 250})
        assert bought.json()["data"]["payment"]["clientSecret"] == "pi_flow_secret_abc"
        stripe_api.replace("POST", PI_URL, json={"error": {"type": "api_error", "message": "down"}}, status=500)
        assert app.post("/api/credits/purchase", {"package": "basic", "amount": 100}).status_code == 502
        order = Order.objects.get(provider_payment_id="pi_flow")
        body = json.dumps(event("payment_intent.succeeded", payment_intent(order)))
        forged = app.client.post("/api/billing/webhooks/stripe/", body, content_type="application/json",
                                 HTTP_STRIPE_SIGNATURE=sign(body, "whsec_guess"))
        genuine = app.client.post("/api/billing/webhooks/stripe/", body, content_type="application/json",
                                  HTTP_STRIPE_SIGNATURE=sign(body, STRIPE["STRIPE_WEBHOOK_SECRET"]))
        app.responses += [forged, genuine]
        assert (forged.status_code, genuine.status_code) == (400, 200)
    assert app.get("/api/credits/balance").json()["data"]["balance"] == 20 - 20 + 100 + 250
    app.delete("/api/user/account", {"confirmDeletion": True})
    assert Video.objects.count() == 0

    secrets = [
        PASSWORD, NEW_PASSWORD, "Wrong-Pa55word!", KIE_CALLBACK_SECRET, django_settings.KIE_API_KEY,
        STRIPE["STRIPE_SECRET_KEY"], STRIPE["STRIPE_WEBHOOK_SECRET"], django_settings.SANDBOX_WEBHOOK_SECRET,
        django_settings.SECRET_KEY, django_settings.SIMPLE_JWT["SIGNING_KEY"],
    ]
    texts = {"app": app.text(), "other device": other_device.text()}
    for name, text in texts.items():
        assert [secret for secret in secrets if secret in text] == [], name
    # One session never sees another session's refresh token.
    assert second["refreshToken"] not in texts["app"]
    assert first["refreshToken"] not in texts["other device"]

    service_logs = [r for r in caplog.records if r.name != "aiasmr.fake_kie"]
    assert len(service_logs) > 30  # the flow was logged
    tokens = [first["refreshToken"], second["refreshToken"], fresh["refreshToken"], rotated["refreshToken"],
              first["token"], fresh["token"], rotated["token"]]
    assert leaked(service_logs, [*secrets, *tokens, "pi_flow_secret_abc"]) == []
