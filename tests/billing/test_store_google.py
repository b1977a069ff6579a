"""Google Play purchases against a fake Play Developer API over HTTP (the real google-api-python-client and
a service account whose token endpoint is the fake), and Pub/Sub pushes with locally signed OIDC tokens."""

import uuid
from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
import responses
from django.core.management import CommandError, call_command
from django.test import override_settings

from accounts.models import Profile
from billing.catalog import catalog_ensure
from billing.models import (
    CreditPackage,
    Order,
    OrderStatus,
    Plan,
    StoreAccount,
    StoreNotification,
    StorePurchase,
    Subscription,
    SubscriptionStatus,
)
from credits.models import CreditTransaction
from tests.billing.stores import (
    CERTS_URL,
    PACKAGE_NAME,
    PUSH_ACCOUNT,
    PUSH_AUDIENCE,
    FakePlay,
    PushSigner,
    at_once,
    balance,
    client_for,
    push_body,
)
from tests.factories import UserFactory

CREDITS_PRODUCT = "credits_standard"
PLAN_PRODUCT = "plan_basic_monthly"


def store_products() -> None:
    CreditPackage.objects.filter(slug="standard").update(play_product_id=CREDITS_PRODUCT)
    Plan.objects.filter(slug="basic").update(play_product_id=PLAN_PRODUCT)


@pytest.fixture(scope="module")
def play():
    fake = FakePlay().start()
    yield fake
    fake.stop()


@pytest.fixture(scope="module")
def signer():
    return PushSigner()


@pytest.fixture
def play_settings(play, tmp_path):
    play.products.clear()
    play.subscriptions.clear()
    play.calls.clear()
    with override_settings(
        GOOGLE_PLAY_PACKAGE_NAME=PACKAGE_NAME,
        GOOGLE_PLAY_SERVICE_ACCOUNT_FILE=play.service_account_file(tmp_path),
        GOOGLE_PLAY_API_ENDPOINT=f"{play.base_url}/",
        GOOGLE_PUBSUB_AUDIENCE=PUSH_AUDIENCE,
        GOOGLE_PUBSUB_SERVICE_ACCOUNT=PUSH_ACCOUNT,
        GOOGLE_PUBSUB_CERTS_URL=CERTS_URL,
    ):
        yield


@pytest.fixture
def shop(db, play_settings):
    store_products()
    yield
    out = StringIO()
    call_command("credits_audit", "--no-progress", stdout=out)
    assert "clean" in out.getvalue()


@pytest.fixture
def certs(signer):
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.get(CERTS_URL, json=signer.certs)
        yield mock


def account_id(client) -> str:
    return client.get("/api/billing/store-account").json()["data"]["obfuscatedAccountId"]


def submit(client, product_id: str, token: str):
    return client.post("/api/billing/google/purchases", {"productId": product_id, "purchaseToken": token},
                       format="json")


def push(client, body: dict, token: str | None):
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}
    return client.post("/api/billing/google/notifications", body, format="json", **headers)


def consumed(play, token: str) -> bool:
    return play.products[(PACKAGE_NAME, CREDITS_PRODUCT, token)]["consumptionState"] == 1


class TestPurchases:
    def test_a_purchase_grants_once_and_is_consumed(self, auth_client, play, shop):
        user = auth_client.user
        before = balance(user)
        token = f"token-{uuid.uuid4().hex}"
        play.add_product(product_id=CREDITS_PRODUCT, token=token, account_id=account_id(auth_client))
        first = submit(auth_client, CREDITS_PRODUCT, token)
        assert first.status_code == 200, first.json()
        data = first.json()["data"]
        assert (data["store"], data["status"], data["credits"], data["balance"]) == ("google", "completed", 250,
                                                                                    before + 250)
        assert consumed(play, token)
        assert StorePurchase.objects.get(transaction_id=token).consumed_at is not None
        for client in (auth_client, client_for(user)):  # again, and from another device
            again = submit(client, CREDITS_PRODUCT, token)
            assert (again.status_code, again.json()["data"]["orderId"]) == (200, data["orderId"])
        assert balance(user) == before + 250
        assert CreditTransaction.objects.filter(order__provider="google").count() == 1
        assert ("POST", "/token") in play.calls  # the service account's OAuth exchange happened

    def test_another_users_purchase_is_refused(self, auth_client, make_auth_client, play, shop):
        owner = make_auth_client()
        token = f"token-{uuid.uuid4().hex}"
        play.add_product(product_id=CREDITS_PRODUCT, token=token, account_id=account_id(owner))
        before = balance(auth_client.user)
        response = submit(auth_client, CREDITS_PRODUCT, token)
        assert (response.status_code, response.json()["error"]["code"]) == (403, "STORE_ACCOUNT_MISMATCH")
        assert balance(auth_client.user) == before
        assert not consumed(play, token)
        assert submit(owner, CREDITS_PRODUCT, token).json()["data"]["status"] == "completed"
        assert submit(auth_client, CREDITS_PRODUCT, token).json()["error"]["code"] == "STORE_ACCOUNT_MISMATCH"

    @pytest.mark.parametrize(
        ("state", "consumed_state", "code"),
        [(2, 0, "STORE_PURCHASE_NOT_COMPLETED"), (1, 0, "STORE_PURCHASE_NOT_COMPLETED"),
         (0, 1, "STORE_PURCHASE_CONSUMED")],
    )
    def test_a_pending_cancelled_or_consumed_purchase_is_refused(self, auth_client, play, shop, state,
                                                                  consumed_state, code):
        token = f"token-{uuid.uuid4().hex}"
        play.add_product(product_id=CREDITS_PRODUCT, token=token, account_id=account_id(auth_client), state=state,
                         consumed=consumed_state)
        before = balance(auth_client.user)
        response = submit(auth_client, CREDITS_PRODUCT, token)
        assert (response.status_code, response.json()["error"]["code"]) == (409, code)
        assert balance(auth_client.user) == before
        assert not StorePurchase.objects.exists()

    def test_a_token_of_another_app_or_unknown_to_play_is_refused(self, auth_client, play, shop):
        token = f"token-{uuid.uuid4().hex}"
        play.add_product(product_id=CREDITS_PRODUCT, token=token, account_id=account_id(auth_client),
                         package="com.someone.else")
        response = submit(auth_client, CREDITS_PRODUCT, token)
        assert (response.status_code, response.json()["error"]["code"]) == (400, "STORE_PURCHASE_NOT_FOUND")

    def test_an_unknown_product_is_refused_without_asking_play(self, auth_client, play, shop):
        response = submit(auth_client, "not_sold_here", "token-x")
        assert response.json()["error"]["code"] == "STORE_PRODUCT_UNKNOWN"
        assert play.calls == []

    def test_play_unreachable_is_a_502_and_changes_nothing(self, auth_client, shop):
        with override_settings(GOOGLE_PLAY_API_ENDPOINT="http://127.0.0.1:9/", GOOGLE_PLAY_TIMEOUT_SECONDS=2):
            response = submit(auth_client, CREDITS_PRODUCT, "token-y")
        assert (response.status_code, response.json()["error"]["code"]) == (502, "STORE_UNAVAILABLE")
        assert not StorePurchase.objects.exists()

    def test_a_subscription_is_checked_with_subscriptionsv2_and_granted_once_per_period(self, auth_client, play,
                                                                                        shop):
        user = auth_client.user
        before = balance(user)
        token = f"sub-{uuid.uuid4().hex}"
        expiry = datetime.now(UTC) + timedelta(days=29)
        play.add_subscription(product_id=PLAN_PRODUCT, token=token, account_id=account_id(auth_client),
                              order_id="GPA.1111-2222-3333-44444", expiry=expiry)
        for _ in range(2):
            response = submit(auth_client, PLAN_PRODUCT, token)
            assert response.status_code == 200, response.json()
        assert balance(user) == before + 300
        subscription = Subscription.objects.get(user=user)
        assert (subscription.status, subscription.provider) == (SubscriptionStatus.ACTIVE, "google")
        assert Profile.objects.get(user=user).plan_type == "basic"
        assert play.subscriptions[(PACKAGE_NAME, token)]["acknowledgementState"] == "ACKNOWLEDGEMENT_STATE_ACKNOWLEDGED"


class TestNotifications:
    def test_a_push_with_a_bad_oidc_token_is_refused(self, api_client, signer, certs, shop):
        body = push_body({"packageName": PACKAGE_NAME, "testNotification": {"version": "1.0"}})
        forged = PushSigner("push-key-1").token()  # the right key id, another key
        cases = [
            (None, 401),
            ("not-a-jwt", 401),
            (forged, 401),
            (signer.token(audience="https://elsewhere.example/push"), 401),
            (signer.token(email="someone@else.iam.gserviceaccount.com"), 401),
            (signer.token(issuer="https://evil.example"), 401),
            (signer.token(expires_in=-600), 401),
        ]
        for token, status in cases:
            response = push(api_client, body, token)
            assert (response.status_code, response.json()["error"]["code"]) == (status, "STORE_PUSH_UNAUTHORIZED")
        assert not StoreNotification.objects.exists()
        accepted = push(api_client, body, signer.token())
        assert accepted.json()["data"] == {"received": True, "outcome": "ignored"}

    def test_a_voided_purchase_claws_back_once(self, auth_client, api_client, play, signer, certs, shop):
        user = auth_client.user
        before = balance(user)
        token = f"token-{uuid.uuid4().hex}"
        purchase = play.add_product(product_id=CREDITS_PRODUCT, token=token, account_id=account_id(auth_client))
        submit(auth_client, CREDITS_PRODUCT, token)
        assert balance(user) == before + 250
        body = push_body({
            "version": "1.0", "packageName": PACKAGE_NAME, "eventTimeMillis": "1",
            "voidedPurchaseNotification": {"purchaseToken": token, "orderId": purchase["orderId"], "productType": 2,
                                           "refundType": 1},
        })
        assert push(api_client, body, signer.token()).json()["data"]["outcome"] == "processed"
        assert push(api_client, body, signer.token()).json()["data"]["outcome"] == "duplicate"
        assert balance(user) == before
        order = Order.objects.get(provider="google")
        assert order.status == OrderStatus.REFUNDED
        assert StoreNotification.objects.get(store="google").purchase.order == order
        # Presented again after the refund: refused.
        assert submit(auth_client, CREDITS_PRODUCT, token).json()["error"]["code"] == "STORE_PURCHASE_REVOKED"

    def test_a_purchase_notification_credits_even_if_the_app_never_reported_it(self, auth_client, api_client, play,
                                                                              signer, certs, shop):
        user = auth_client.user
        before = balance(user)
        token = f"token-{uuid.uuid4().hex}"
        play.add_product(product_id=CREDITS_PRODUCT, token=token, account_id=account_id(auth_client))
        body = push_body({
            "version": "1.0", "packageName": PACKAGE_NAME,
            "oneTimeProductNotification": {"version": "1.0", "notificationType": 1, "purchaseToken": token,
                                           "sku": CREDITS_PRODUCT},
        })
        assert push(api_client, body, signer.token()).json()["data"]["outcome"] == "processed"
        assert balance(user) == before + 250
        assert consumed(play, token)
        assert submit(auth_client, CREDITS_PRODUCT, token).json()["data"]["balance"] == before + 250

    def test_renewals_grant_once_per_period_and_expiry_ends_the_plan(self, auth_client, api_client, play, signer,
                                                                     certs, shop):
        user = auth_client.user
        before = balance(user)
        token = f"sub-{uuid.uuid4().hex}"
        expiry = datetime(2031, 1, 15, tzinfo=UTC)
        play.add_subscription(product_id=PLAN_PRODUCT, token=token, account_id=account_id(auth_client),
                              order_id="GPA.5555-0000-0000-00000", expiry=expiry)

        def notify(kind: int):
            return push(api_client, push_body({
                "version": "1.0", "packageName": PACKAGE_NAME,
                "subscriptionNotification": {"version": "1.0", "notificationType": kind, "purchaseToken": token,
                                             "subscriptionId": PLAN_PRODUCT},
            }), signer.token())

        assert notify(4).json()["data"]["outcome"] == "processed"  # PURCHASED
        renewed = play.subscriptions[(PACKAGE_NAME, token)]
        renewed["latestOrderId"] = "GPA.5555-0000-0000-00000..0"
        renewed["lineItems"][0]["expiryTime"] = "2031-02-15T00:00:00Z"
        notify(2)  # RENEWED
        notify(2)  # the same renewal again
        assert balance(user) == before + 600
        subscription = Subscription.objects.get(user=user)
        assert CreditTransaction.objects.filter(subscription=subscription).count() == 2
        renewed["subscriptionState"] = "SUBSCRIPTION_STATE_EXPIRED"
        notify(13)  # EXPIRED
        subscription.refresh_from_db()
        assert subscription.status == SubscriptionStatus.EXPIRED
        assert Profile.objects.get(user=user).plan_type == "free"


class TestReconcile:
    def test_reconcile_reports_and_repairs_a_void_and_a_missed_consume(self, auth_client, play, shop):
        user = auth_client.user
        before = balance(user)
        voided, unconsumed = f"token-{uuid.uuid4().hex}", f"token-{uuid.uuid4().hex}"
        for token in (voided, unconsumed):
            play.add_product(product_id=CREDITS_PRODUCT, token=token, account_id=account_id(auth_client))
            submit(auth_client, CREDITS_PRODUCT, token)
        play.products[(PACKAGE_NAME, CREDITS_PRODUCT, voided)]["purchaseState"] = 1  # refunded in the console
        play.products[(PACKAGE_NAME, CREDITS_PRODUCT, unconsumed)]["consumptionState"] = 0  # the consume was lost
        out = StringIO()
        with pytest.raises(CommandError, match="2 store purchase"):
            call_command("store_reconcile", stdout=out)
        assert "cancelled at Google Play" in out.getvalue() and "not consumed" in out.getvalue()
        assert balance(user) == before + 500
        call_command("store_reconcile", "--repair", stdout=StringIO())
        assert balance(user) == before + 250
        assert consumed(play, unconsumed)
        call_command("store_reconcile", stdout=StringIO())  # clean now: no CommandError


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_same_purchase_token_twenty_times_at_once_grants_once(play, play_settings):
    catalog_ensure()
    store_products()
    user = UserFactory()
    before = balance(user)
    token = f"token-{uuid.uuid4().hex}"
    play.add_product(product_id=CREDITS_PRODUCT, token=token, account_id=StoreAccount.objects.create(user=user).token)
    answers = at_once(user=user, times=20, send=lambda client: submit(client, CREDITS_PRODUCT, token))
    assert answers == [200] * 20
    assert balance(user) == before + 250
    assert StorePurchase.objects.count() == 1
    assert CreditTransaction.objects.filter(order__provider="google").count() == 1
    call_command("credits_audit", "--no-progress", stdout=StringIO())


class TestBackOffice:
    def test_staff_see_the_purchase_on_its_order_and_the_refund_it_caused(self, auth_client, api_client, play, signer,
                                                                          certs, shop):
        from django.test import Client
        from django.urls import reverse

        from tests.admin.builders import staff_make

        token = f"token-{uuid.uuid4().hex}"
        purchase = play.add_product(product_id=CREDITS_PRODUCT, token=token, account_id=account_id(auth_client))
        submit(auth_client, CREDITS_PRODUCT, token)
        push(api_client, push_body({
            "version": "1.0", "packageName": PACKAGE_NAME,
            "voidedPurchaseNotification": {"purchaseToken": token, "orderId": purchase["orderId"], "productType": 2},
        }), signer.token())
        boss = staff_make(email="boss@example.com")
        boss.is_superuser = True
        boss.save(update_fields=["is_superuser"])
        staff = Client()
        staff.force_login(boss)
        stored = StorePurchase.objects.get(transaction_id=token)
        order_page = staff.get(reverse("admin:billing_order_change", args=[stored.order_id])).content.decode()
        assert token[:24] in order_page and "Payment refunded" in order_page
        purchase_page = staff.get(reverse("admin:billing_storepurchase_change", args=[stored.pk])).content.decode()
        assert "voidedPurchase" in purchase_page and auth_client.user.email in purchase_page
        by_user = staff.get(reverse("admin:billing_storepurchase_changelist"), {"q": auth_client.user.email})
        assert by_user.status_code == 200 and CREDITS_PRODUCT in by_user.content.decode()
        for name in ("storenotification", "storeaccount"):
            assert staff.get(reverse(f"admin:billing_{name}_changelist")).status_code == 200


class TestSubscriptionChanges:
    def test_an_upgrade_to_a_new_token_ends_the_replaced_subscription(self, auth_client, play, shop):
        user = auth_client.user
        Plan.objects.filter(slug="pro").update(play_product_id="plan_pro_monthly")
        old, new = f"sub-{uuid.uuid4().hex}", f"sub-{uuid.uuid4().hex}"
        expiry = datetime.now(UTC) + timedelta(days=20)
        play.add_subscription(product_id=PLAN_PRODUCT, token=old, account_id=account_id(auth_client),
                              order_id="GPA.7777-0000-0000-00001", expiry=expiry)
        submit(auth_client, PLAN_PRODUCT, old)
        upgraded = play.add_subscription(product_id="plan_pro_monthly", token=new, account_id=account_id(auth_client),
                                         order_id="GPA.7777-0000-0000-00002", expiry=expiry + timedelta(days=10))
        upgraded["linkedPurchaseToken"] = old
        assert submit(auth_client, "plan_pro_monthly", new).status_code == 200
        statuses = dict(Subscription.objects.filter(user=user).values_list("plan__slug", "status"))
        assert statuses == {"basic": SubscriptionStatus.EXPIRED, "pro": SubscriptionStatus.ACTIVE}
        assert Profile.objects.get(user=user).plan_type == "pro"

    def test_a_push_for_another_package_changes_nothing(self, api_client, play, signer, certs, shop):
        body = push_body({"version": "1.0", "packageName": "com.someone.else",
                          "voidedPurchaseNotification": {"purchaseToken": "t", "productType": 2}})
        assert push(api_client, body, signer.token()).json()["data"]["outcome"] == "ignored"
        assert StoreNotification.objects.get().error == "notification for another package"


def test_certificates_out_of_reach_are_a_502_and_a_new_key_id_is_fetched(api_client, signer, shop):
    body = push_body({"packageName": PACKAGE_NAME, "testNotification": {"version": "1.0"}})
    with responses.RequestsMock() as mock:
        mock.get(CERTS_URL, status=503)
        with override_settings(GOOGLE_PUBSUB_CERTS_URL=CERTS_URL + "?unreachable"):
            response = push(api_client, body, signer.token())
        assert (response.status_code, response.json()["error"]["code"]) == (502, "STORE_UNAVAILABLE")
    rotated = PushSigner("push-key-rotated")
    with responses.RequestsMock() as mock:
        mock.get(CERTS_URL, json={**signer.certs, **rotated.certs})
        for _ in range(2):
            fresh = push_body({"packageName": PACKAGE_NAME, "testNotification": {"version": "1.0"}})
            assert push(api_client, fresh, rotated.token()).json()["data"]["outcome"] == "ignored"
        assert len(mock.calls) == 1  # fetched for the new key id, then kept


def test_a_voided_subscription_period_claws_that_period_back(auth_client, api_client, play, signer, certs, shop):
    user = auth_client.user
    before = balance(user)
    token = f"sub-{uuid.uuid4().hex}"
    play.add_subscription(product_id=PLAN_PRODUCT, token=token, account_id=account_id(auth_client),
                          order_id="GPA.9999-0000-0000-00000", expiry=datetime.now(UTC) + timedelta(days=25))
    submit(auth_client, PLAN_PRODUCT, token)
    assert balance(user) == before + 300
    body = push_body({"version": "1.0", "packageName": PACKAGE_NAME, "voidedPurchaseNotification": {
        "purchaseToken": token, "orderId": "GPA.9999-0000-0000-00000", "productType": 1, "refundType": 1}})
    assert push(api_client, body, signer.token()).json()["data"]["outcome"] == "processed"
    assert balance(user) == before
    assert Order.objects.get(provider_payment_id="google:GPA.9999-0000-0000-00000").status == OrderStatus.REFUNDED
    assert Subscription.objects.get(user=user).status == SubscriptionStatus.EXPIRED
    assert Profile.objects.get(user=user).plan_type == "free"
