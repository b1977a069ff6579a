"""App Store purchases: StoreKit 2 signed transactions and App Store Server Notifications V2, signed by a
certificate chain generated here and verified by Apple's own library; credited once, clawed back on refund."""

import uuid
from datetime import timedelta
from io import StringIO

import pytest
import responses
from django.core.management import CommandError, call_command
from django.test import override_settings
from django.utils import timezone

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
from credits.services import credits_spend
from tests.billing.stores import (
    BUNDLE_ID,
    AppleChain,
    apple_notification,
    apple_transaction,
    at_once,
    balance,
    client_for,
    now_ms,
)
from tests.factories import UserFactory

CREDITS_PRODUCT = "com.aiasmr.credits.standard"
PLAN_PRODUCT = "com.aiasmr.plan.basic.monthly"
DAY_MS = 86_400_000


def store_products() -> None:
    CreditPackage.objects.filter(slug="standard").update(app_store_product_id=CREDITS_PRODUCT)
    Plan.objects.filter(slug="basic").update(app_store_product_id=PLAN_PRODUCT)


@pytest.fixture(scope="module")
def chain():
    return AppleChain()


@pytest.fixture
def apple_settings(chain, tmp_path):
    root = tmp_path / "AppleRootCA-test.cer"
    root.write_bytes(chain.root_der())
    with override_settings(
        APPLE_BUNDLE_ID=BUNDLE_ID, APPLE_ENVIRONMENT="Sandbox", APPLE_ROOT_CERTIFICATES=[str(root)],
        APPLE_ONLINE_CHECKS=False,
    ):
        yield


@pytest.fixture
def shop(db, apple_settings):
    store_products()
    yield
    out = StringIO()
    call_command("credits_audit", "--no-progress", stdout=out)  # raises CommandError on any mismatch
    assert "clean" in out.getvalue()


def account_token(client) -> str:
    response = client.get("/api/billing/store-account")
    assert response.status_code == 200
    return response.json()["data"]["appAccountToken"]


def submit(client, signed: str):
    return client.post("/api/billing/apple/transactions", {"signedTransaction": signed}, format="json")


def notify(client, signed_payload: str):
    return client.post("/api/billing/apple/notifications", {"signedPayload": signed_payload}, format="json")


class TestStoreAccount:
    def test_the_token_is_stable_and_the_same_for_both_stores(self, auth_client):
        first = auth_client.get("/api/billing/store-account").json()["data"]
        second = auth_client.get("/api/billing/store-account").json()["data"]
        assert first == second
        assert uuid.UUID(first["appAccountToken"]) == StoreAccount.objects.get(user=auth_client.user).token
        assert first["obfuscatedAccountId"] == first["appAccountToken"]

    def test_the_packages_and_plans_name_their_store_products(self, api_client, shop):
        packages = {p["id"]: p for p in api_client.get("/api/credits/packages").json()["data"]["packages"]}
        assert packages["standard"]["storeProducts"] == {"apple": CREDITS_PRODUCT, "google": None}
        assert packages["basic"]["storeProducts"] == {"apple": None, "google": None}
        plans = {p["id"]: p for p in api_client.get("/api/billing/plans").json()["data"]["plans"]}
        assert plans["basic"]["storeProducts"]["apple"] == PLAN_PRODUCT


class TestTransactions:
    def test_a_signed_consumable_grants_once_whoever_presents_it_again(self, auth_client, chain, shop):
        user = auth_client.user
        before = balance(user)
        signed = chain.sign(apple_transaction(product_id=CREDITS_PRODUCT, app_account_token=account_token(auth_client)))
        first = submit(auth_client, signed)
        assert first.status_code == 200, first.json()
        data = first.json()["data"]
        assert (data["status"], data["credits"], data["balance"]) == ("completed", 250, before + 250)
        other_device = client_for(user)
        for client in (auth_client, other_device):
            again = submit(client, signed)
            assert again.status_code == 200
            assert again.json()["data"]["orderId"] == data["orderId"]
        assert balance(user) == before + 250
        order = Order.objects.get(pk=data["orderId"])
        assert (order.provider, order.status) == ("apple", OrderStatus.COMPLETED)
        assert CreditTransaction.objects.filter(order=order).count() == 1
        assert StorePurchase.objects.filter(store="apple").count() == 1

    @pytest.mark.parametrize(
        ("tamper", "code", "status"),
        [
            ({"bundle_id": "com.someone.else"}, "STORE_APP_MISMATCH", 400),
            ({"environment": "Production"}, "STORE_ENVIRONMENT_MISMATCH", 400),
        ],
    )
    def test_a_transaction_for_another_app_or_environment_is_refused(self, auth_client, chain, shop, tamper, code,
                                                                       status):
        before = balance(auth_client.user)
        signed = chain.sign(
            apple_transaction(product_id=CREDITS_PRODUCT, app_account_token=account_token(auth_client), **tamper)
        )
        response = submit(auth_client, signed)
        assert (response.status_code, response.json()["error"]["code"]) == (status, code)
        assert balance(auth_client.user) == before
        assert not StorePurchase.objects.exists() and not Order.objects.exists()

    def test_a_transaction_signed_by_another_chain_is_refused(self, auth_client, shop):
        forged = AppleChain("Forger").sign(
            apple_transaction(product_id=CREDITS_PRODUCT, app_account_token=account_token(auth_client))
        )
        response = submit(auth_client, forged)
        assert (response.status_code, response.json()["error"]["code"]) == (400, "STORE_SIGNATURE_INVALID")
        assert not StorePurchase.objects.exists()

    def test_a_tampered_payload_is_refused(self, auth_client, chain, shop):
        signed = chain.sign(apple_transaction(product_id=CREDITS_PRODUCT, app_account_token=account_token(auth_client)))
        header, payload, signature = signed.split(".")
        other = chain.sign(apple_transaction(product_id=CREDITS_PRODUCT, app_account_token=account_token(auth_client)))
        response = submit(auth_client, f"{header}.{other.split('.')[1]}.{signature}")
        assert response.json()["error"]["code"] == "STORE_SIGNATURE_INVALID"

    def test_another_users_transaction_is_refused(self, auth_client, make_auth_client, chain, shop):
        owner = make_auth_client()
        signed = chain.sign(apple_transaction(product_id=CREDITS_PRODUCT, app_account_token=account_token(owner)))
        before = balance(auth_client.user)
        response = submit(auth_client, signed)
        assert (response.status_code, response.json()["error"]["code"]) == (403, "STORE_ACCOUNT_MISMATCH")
        assert balance(auth_client.user) == before
        assert not StorePurchase.objects.exists()
        # The owner still can.
        assert submit(owner, signed).json()["data"]["status"] == "completed"

    def test_a_transaction_without_an_account_token_is_refused(self, auth_client, chain, shop):
        signed = chain.sign(apple_transaction(product_id=CREDITS_PRODUCT, app_account_token=None))
        assert submit(auth_client, signed).json()["error"]["code"] == "STORE_ACCOUNT_MISMATCH"

    def test_an_unknown_product_is_refused(self, auth_client, chain, shop):
        signed = chain.sign(apple_transaction(product_id="com.other.product", app_account_token=account_token(auth_client)))
        response = submit(auth_client, signed)
        assert (response.status_code, response.json()["error"]["code"]) == (400, "STORE_PRODUCT_UNKNOWN")

    def test_a_revoked_transaction_grants_nothing(self, auth_client, chain, shop):
        before = balance(auth_client.user)
        signed = chain.sign(apple_transaction(
            product_id=CREDITS_PRODUCT, app_account_token=account_token(auth_client), revocation_ms=now_ms()
        ))
        response = submit(auth_client, signed)
        assert (response.status_code, response.json()["error"]["code"]) == (409, "STORE_PURCHASE_REVOKED")
        assert balance(auth_client.user) == before

    def test_an_unconfigured_server_answers_503(self, auth_client, chain, db):
        with override_settings(APPLE_BUNDLE_ID="", APPLE_ROOT_CERTIFICATES=[]):
            response = submit(auth_client, "x.y.z")
        assert (response.status_code, response.json()["error"]["code"]) == (503, "STORE_NOT_CONFIGURED")


class TestNotifications:
    def buy(self, client, chain) -> dict:
        tx = apple_transaction(product_id=CREDITS_PRODUCT, app_account_token=account_token(client))
        assert submit(client, chain.sign(tx)).status_code == 200
        return tx

    def test_a_refund_claws_the_credits_back_once(self, auth_client, api_client, chain, shop):
        user = auth_client.user
        before = balance(user)
        tx = self.buy(auth_client, chain)
        refunded = {**tx, "revocationDate": now_ms(), "revocationReason": 0, "signedDate": now_ms()}
        payload = apple_notification(chain, "REFUND", refunded)
        first = notify(api_client, payload)
        assert first.json()["data"] == {"received": True, "outcome": "processed"}
        assert notify(api_client, payload).json()["data"]["outcome"] == "duplicate"
        # Another notification about the same refund takes nothing more.
        assert notify(api_client, apple_notification(chain, "REFUND", refunded)).json()["data"]["outcome"] == "processed"
        assert balance(user) == before
        order = Order.objects.get(provider_payment_id=f"apple:{tx['transactionId']}")
        assert order.status == OrderStatus.REFUNDED
        assert StoreNotification.objects.filter(store="apple", type="REFUND").count() == 2
        assert StoreNotification.objects.filter(purchase__order=order, user=user).count() == 2
        # The app presenting the refunded transaction again gets nothing.
        assert submit(auth_client, chain.sign(tx)).json()["error"]["code"] == "STORE_PURCHASE_REVOKED"

    def test_a_refund_after_the_credits_were_spent_takes_them_down_to_zero(self, auth_client, api_client, chain, shop):
        user = auth_client.user
        tx = self.buy(auth_client, chain)
        credits_spend(user=user, amount=balance(user) - 30, description="spent")
        notify(api_client, apple_notification(chain, "REVOKE", {**tx, "revocationDate": now_ms()}))
        assert balance(user) == 0

    def test_a_refund_seen_before_the_app_presents_the_transaction_closes_it(self, auth_client, api_client, chain,
                                                                              shop):
        before = balance(auth_client.user)
        tx = apple_transaction(product_id=CREDITS_PRODUCT, app_account_token=account_token(auth_client))
        assert notify(api_client, apple_notification(chain, "REFUND", {**tx, "revocationDate": now_ms()})).json()["data"][
            "outcome"] == "processed"
        assert submit(auth_client, chain.sign(tx)).json()["error"]["code"] == "STORE_PURCHASE_REVOKED"
        assert balance(auth_client.user) == before

    def test_a_notification_signed_by_another_chain_is_refused(self, api_client, chain, shop):
        tx = apple_transaction(product_id=CREDITS_PRODUCT, app_account_token=uuid.uuid4())
        response = notify(api_client, apple_notification(AppleChain("Forger"), "REFUND", tx))
        assert (response.status_code, response.json()["error"]["code"]) == (400, "STORE_SIGNATURE_INVALID")
        assert not StoreNotification.objects.exists()

    def test_a_notification_for_another_app_is_refused(self, api_client, chain, shop):
        tx = apple_transaction(product_id=CREDITS_PRODUCT, app_account_token=uuid.uuid4())
        response = notify(api_client, apple_notification(chain, "REFUND", tx, bundle_id="com.someone.else"))
        assert response.json()["error"]["code"] == "STORE_APP_MISMATCH"

    def subscription_tx(self, client, *, original: str, start_ms: int, transaction_id: str | None = None) -> dict:
        return apple_transaction(
            product_id=PLAN_PRODUCT, app_account_token=account_token(client), type_="Auto-Renewable Subscription",
            transaction_id=transaction_id, original_transaction_id=original, purchase_ms=start_ms,
            expires_ms=start_ms + 30 * DAY_MS,
        )

    def test_subscribed_then_renewed_grants_once_per_period_and_expiry_ends_the_plan(self, auth_client, api_client,
                                                                                       chain, shop):
        user = auth_client.user
        before = balance(user)
        start = now_ms() - DAY_MS
        first = self.subscription_tx(auth_client, original="7000000001", start_ms=start, transaction_id="7000000001")
        assert notify(api_client, apple_notification(chain, "SUBSCRIBED", first, subtype="INITIAL_BUY")).json()["data"][
            "outcome"] == "processed"
        subscription = Subscription.objects.get(user=user)
        assert (subscription.status, subscription.provider) == (SubscriptionStatus.ACTIVE, "apple")
        assert Profile.objects.get(user=user).plan_type == "basic"
        assert balance(user) == before + 300
        # The app presenting the same first transaction grants nothing more.
        assert submit(auth_client, chain.sign(first)).json()["data"]["subscriptionId"] == str(subscription.id)
        renewal = self.subscription_tx(auth_client, original="7000000001", start_ms=start + 30 * DAY_MS,
                                       transaction_id="7000000002")
        for _ in range(2):  # the same period's DID_RENEW twice (two deliveries, two UUIDs)
            notify(api_client, apple_notification(chain, "DID_RENEW", renewal))
        assert balance(user) == before + 600
        assert CreditTransaction.objects.filter(subscription=subscription).count() == 2
        subscription.refresh_from_db()
        assert subscription.current_period_end.timestamp() == pytest.approx((start + 60 * DAY_MS) / 1000)
        notify(api_client, apple_notification(chain, "DID_FAIL_TO_RENEW", renewal, subtype="GRACE_PERIOD"))
        subscription.refresh_from_db()
        assert subscription.status == SubscriptionStatus.PAST_DUE
        assert Profile.objects.get(user=user).plan_type == "basic"  # the grace period keeps the plan
        notify(api_client, apple_notification(chain, "GRACE_PERIOD_EXPIRED", renewal))
        subscription.refresh_from_db()
        assert subscription.status == SubscriptionStatus.EXPIRED
        assert Profile.objects.get(user=user).plan_type == "free"

    def test_a_failed_renewal_without_grace_stops_the_plan_and_a_recovery_restores_it(self, auth_client, api_client,
                                                                                      chain, shop):
        user = auth_client.user
        start = now_ms() - DAY_MS
        first = self.subscription_tx(auth_client, original="7100000001", start_ms=start, transaction_id="7100000001")
        notify(api_client, apple_notification(chain, "SUBSCRIBED", first))
        notify(api_client, apple_notification(chain, "DID_FAIL_TO_RENEW", first))
        assert Subscription.objects.get(user=user).status == SubscriptionStatus.PAST_DUE
        assert Profile.objects.get(user=user).plan_type == "free"
        recovered = self.subscription_tx(auth_client, original="7100000001", start_ms=start + 30 * DAY_MS,
                                         transaction_id="7100000002")
        notify(api_client, apple_notification(chain, "DID_RENEW", recovered, subtype="BILLING_RECOVERY"))
        assert Subscription.objects.get(user=user).status == SubscriptionStatus.ACTIVE
        assert Profile.objects.get(user=user).plan_type == "basic"

    def test_a_refunded_current_period_is_clawed_back_and_ends_the_subscription(self, auth_client, api_client, chain,
                                                                               shop):
        user = auth_client.user
        before = balance(user)
        first = self.subscription_tx(auth_client, original="7200000001", start_ms=now_ms() - DAY_MS,
                                     transaction_id="7200000001")
        notify(api_client, apple_notification(chain, "SUBSCRIBED", first))
        notify(api_client, apple_notification(chain, "REFUND", {**first, "revocationDate": now_ms()}))
        assert balance(user) == before
        assert Subscription.objects.get(user=user).status == SubscriptionStatus.EXPIRED
        assert Profile.objects.get(user=user).plan_type == "free"


class TestReconcile:
    @responses.activate
    def test_reconcile_reports_and_repairs_a_refund_the_notification_missed(self, auth_client, chain, shop, tmp_path):
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import ec

        user = auth_client.user
        before = balance(user)
        tx = apple_transaction(product_id=CREDITS_PRODUCT, app_account_token=account_token(auth_client))
        submit(auth_client, chain.sign(tx))
        key = tmp_path / "SubscriptionKey.p8"
        key.write_bytes(ec.generate_private_key(ec.SECP256R1()).private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ))
        revoked = chain.sign({**tx, "revocationDate": now_ms(), "signedDate": now_ms()})
        responses.get(
            f"https://api.storekit-sandbox.apple.com/inApps/v1/transactions/{tx['transactionId']}",
            json={"signedTransactionInfo": revoked},
        )
        with override_settings(APPLE_API_KEY_ID="KEY123", APPLE_API_ISSUER_ID=str(uuid.uuid4()),
                               APPLE_API_PRIVATE_KEY_FILE=str(key)):
            out = StringIO()
            with pytest.raises(CommandError, match="1 store purchase"):
                call_command("store_reconcile", stdout=out)
            assert "revoked at the App Store" in out.getvalue()
            assert balance(user) == before + 250  # reported only
            call_command("store_reconcile", "--repair", stdout=StringIO())
        assert balance(user) == before
        assert Order.objects.get(provider="apple").status == OrderStatus.REFUNDED
        assert StorePurchase.objects.get().last_checked_at > timezone.now() - timedelta(minutes=1)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_same_transaction_twenty_times_at_once_grants_once(chain, apple_settings):
    catalog_ensure()
    store_products()
    user = UserFactory()
    before = balance(user)
    token = StoreAccount.objects.create(user=user).token
    signed = chain.sign(apple_transaction(product_id=CREDITS_PRODUCT, app_account_token=token))
    answers = at_once(user=user, times=20, send=lambda client: submit(client, signed))
    assert answers == [200] * 20
    assert balance(user) == before + 250
    assert StorePurchase.objects.count() == 1
    assert Order.objects.filter(provider="apple").count() == 1
    assert CreditTransaction.objects.filter(order__provider="apple").count() == 1
    call_command("credits_audit", "--no-progress", stdout=StringIO())


def test_turning_auto_renew_off_cancels_at_period_end(auth_client, api_client, chain, shop):
    start = now_ms() - DAY_MS
    first = apple_transaction(
        product_id=PLAN_PRODUCT, app_account_token=account_token(auth_client), type_="Auto-Renewable Subscription",
        transaction_id="7300000001", purchase_ms=start, expires_ms=start + 30 * DAY_MS,
    )
    assert submit(auth_client, chain.sign(first)).json()["data"]["status"] == "completed"
    notify(api_client, apple_notification(chain, "DID_CHANGE_RENEWAL_STATUS", first, subtype="AUTO_RENEW_DISABLED"))
    assert Subscription.objects.get(user=auth_client.user).cancel_at_period_end is True
