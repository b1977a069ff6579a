"""The credits API: balance, history, usage, packages, purchase (sandbox provider, the development default)."""

from datetime import timedelta

import pytest
from django.test import override_settings
from django.utils import timezone

from billing.models import Order, OrderStatus, PaymentEvent
from credits.models import CreditTransaction
from credits.services import credits_grant, credits_refund, credits_spend
from videos.models import Video

pytestmark = pytest.mark.django_db


def buy(client, package="standard", amount=250, key=None):
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key else {}
    return client.post(
        "/api/credits/purchase", {"package": package, "paymentMethod": "card", "amount": amount}, format="json", **headers
    )


def test_balance_answers_the_contract_shape(auth_client):
    response = auth_client.get("/api/credits/balance")
    assert response.status_code == 200
    data = response.json()["data"]
    assert data == {
        "balance": 20,
        "user": {"id": str(auth_client.user.id), "email": auth_client.user.email, "plan_type": "free"},
    }


@pytest.mark.parametrize("path", ["balance", "history", "usage", "purchase"])
def test_credits_endpoints_need_a_token(api_client, path):
    response = api_client.post(f"/api/credits/{path}") if path == "purchase" else api_client.get(f"/api/credits/{path}")
    assert response.status_code == 401


def test_history_is_newest_first_and_paginated(auth_client, django_assert_max_num_queries):
    user = auth_client.user
    for number in range(1, 8):
        credits_grant(user=user, amount=number, type="purchase", description=f"grant {number}")
    with django_assert_max_num_queries(6):
        response = auth_client.get("/api/credits/history?page=2&limit=3")
    assert response.status_code == 200
    data = response.json()["data"]
    assert [t["amount"] for t in data["transactions"]] == [4, 3, 2]
    assert data["pagination"] == {"page": 2, "limit": 3, "total": 8, "totalPages": 3, "hasNext": True, "hasPrev": True}
    first = auth_client.get("/api/credits/history").json()["data"]
    assert first["pagination"]["limit"] == 20  # Express's default
    assert first["transactions"][0]["balance_after"] == 48
    assert first["transactions"][-1]["transaction_type"] == "bonus"


@pytest.mark.parametrize("query", ["limit=0", "limit=101", "page=0", "limit=abc"])
def test_history_refuses_bad_paging(auth_client, query):
    response = auth_client.get(f"/api/credits/history?{query}")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "VALIDATION_ERROR"


def test_history_shows_only_the_users_own_entries(auth_client, make_auth_client):
    other = make_auth_client()
    credits_grant(user=other.user, amount=99, type="purchase", description="theirs")
    amounts = [t["amount"] for t in auth_client.get("/api/credits/history").json()["data"]["transactions"]]
    assert 99 not in amounts


def make_video(user, quality="720p", status="ready", cost=20):
    return Video.objects.create(
        user=user, prompt="p" * 12, enhanced_prompt="ASMR video", duration=5, quality=quality, credit_cost=cost, status=status
    )


def test_usage_sums_spend_per_day_and_quality(auth_client):
    user = auth_client.user
    credits_grant(user=user, amount=200, type="purchase", description="funds")
    credits_spend(user=user, amount=20, description="v1", video=make_video(user))
    credits_spend(user=user, amount=25, description="v2", video=make_video(user, quality="1080p"))
    failed = make_video(user, status="failed")
    credits_refund(debit=credits_spend(user=user, amount=20, description="v3", video=failed), description="failed")
    old = credits_spend(user=user, amount=20, description="old", video=make_video(user))
    CreditTransaction.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=40))

    data = auth_client.get("/api/credits/usage?days=30").json()["data"]
    assert data["totals"] == {"spent": 65, "refunded": 20, "net": 45, "videos": 3}
    assert (data["usage"]["totalSpent"], data["usage"]["videoGenerationCount"]) == (85, 4)  # whole ledger
    by_quality = {row["quality"]: row for row in data["byQuality"]}
    assert (by_quality["720p"]["net"], by_quality["1080p"]["net"]) == (20, 25)
    assert len(data["byDay"]) == 1 and data["byDay"][0]["date"] == timezone.now().date().isoformat()
    wide = auth_client.get("/api/credits/usage?days=365").json()["data"]
    assert wide["totals"]["spent"] == 85


@pytest.mark.parametrize("days", ["0", "366", "x"])
def test_usage_refuses_a_bad_window(auth_client, days):
    assert auth_client.get(f"/api/credits/usage?days={days}").status_code == 400


def test_packages_are_public_and_priced_as_the_business_rules_say(api_client):
    response = api_client.get("/api/credits/packages")
    assert response.status_code == 200
    packages = response.json()["data"]["packages"]
    assert [(p["id"], p["credits"], p["price"], p["currency"], p.get("savings")) for p in packages] == [
        ("basic", 100, 9.99, "USD", None),  # Express sent no savings on basic
        ("standard", 250, 19.99, "USD", "20%"),
        ("premium", 500, 34.99, "USD", "30%"),
        ("enterprise", 1000, 59.99, "USD", "40%"),
    ]
    assert [p["savingsPercent"] for p in packages] == [0, 20, 30, 40]
    assert [p["popular"] for p in packages] == [False, True, False, False]
    assert packages[0]["description"] == "Perfect for trying out video generation"


def test_packages_ignore_a_bad_token(api_client):
    api_client.credentials(HTTP_AUTHORIZATION="Bearer nonsense")
    assert api_client.get("/api/credits/packages").status_code == 200


class TestPurchase:
    def test_amount_must_match_the_package(self, auth_client):
        response = buy(auth_client, amount=1000)
        assert response.status_code == 400
        assert response.json()["error"]["code"] == "AMOUNT_MISMATCH"
        assert not Order.objects.exists()

    def test_unknown_package(self, auth_client):
        response = buy(auth_client, package="gold")
        assert response.status_code == 400
        error = response.json()["error"]
        assert error["code"] == "VALIDATION_ERROR"
        assert [detail["field"] for detail in error["details"]] == ["package"]
        assert not Order.objects.exists()

    def test_paypal_is_accepted_and_paid_through_the_configured_provider(self, auth_client):
        response = auth_client.post(
            "/api/credits/purchase", {"package": "basic", "paymentMethod": "paypal", "amount": 100}, format="json"
        )
        assert response.status_code == 200
        data = response.json()["data"]
        assert (data["transaction"]["paymentMethod"], data["payment"]["provider"]) == ("paypal", "sandbox")
        assert Order.objects.get().payment_method == "paypal"

    def test_purchase_creates_a_pending_order_and_grants_nothing_yet(self, auth_client):
        response = buy(auth_client)
        assert response.status_code == 200  # Express's status
        data = response.json()["data"]
        assert data["transaction"] == {
            "package": "standard", "creditsAdded": 0, "price": 19.99, "paymentMethod": "card", "newBalance": 20,
        }
        assert data["order"]["status"] == "pending"
        assert data["payment"]["provider"] == "sandbox"
        assert data["payment"]["confirmUrl"] == f"/api/billing/sandbox/confirm/{data['order']['id']}"
        assert auth_client.get("/api/credits/balance").json()["data"]["balance"] == 20

    def test_same_idempotency_key_twice_creates_one_order(self, auth_client):
        first = buy(auth_client, key="abc-1")
        second = buy(auth_client, key="abc-1")
        assert (first.status_code, second.status_code) == (200, 200)
        assert first.json()["data"]["order"]["id"] == second.json()["data"]["order"]["id"]
        assert Order.objects.count() == 1
        assert buy(auth_client, key="abc-2").status_code == 200
        assert Order.objects.count() == 2

    def test_a_malformed_idempotency_key_is_refused(self, auth_client):
        assert buy(auth_client, key="x" * 129).status_code == 400

    def test_at_most_ten_purchases_a_day(self, auth_client):
        codes = [buy(auth_client).status_code for _ in range(11)]
        assert codes[:10] == [200] * 10
        assert codes[10] == 429
        assert Order.objects.count() == 10

    def test_buying_through_the_sandbox_raises_the_balance_and_history_shows_it(self, auth_client):
        order_id = buy(auth_client).json()["data"]["order"]["id"]
        confirm = auth_client.post(f"/api/billing/sandbox/confirm/{order_id}", {}, format="json")
        assert confirm.status_code == 200
        assert confirm.json()["data"]["status"] == "completed"
        assert auth_client.get("/api/credits/balance").json()["data"]["balance"] == 270
        latest = auth_client.get("/api/credits/history").json()["data"]["transactions"][0]
        assert (latest["transaction_type"], latest["amount"], latest["balance_after"], latest["order_id"]) == (
            "purchase", 250, 270, order_id
        )
        assert PaymentEvent.objects.get().provider == "sandbox"
        # Confirming again sends another signed event; the order is already paid, nothing more is granted.
        auth_client.post(f"/api/billing/sandbox/confirm/{order_id}", {}, format="json")
        assert auth_client.get("/api/credits/balance").json()["data"]["balance"] == 270
        assert auth_client.get(f"/api/billing/orders/{order_id}").json()["data"]["status"] == "completed"

    def test_a_declined_sandbox_payment_fails_the_order(self, auth_client):
        order_id = buy(auth_client).json()["data"]["order"]["id"]
        response = auth_client.post(f"/api/billing/sandbox/confirm/{order_id}", {"outcome": "failed"}, format="json")
        assert response.json()["data"]["status"] == "failed"
        assert Order.objects.get().status == OrderStatus.FAILED
        assert auth_client.get("/api/credits/balance").json()["data"]["balance"] == 20

    def test_another_users_order_cannot_be_confirmed(self, auth_client, make_auth_client):
        order_id = buy(auth_client).json()["data"]["order"]["id"]
        other = make_auth_client()
        response = other.post(f"/api/billing/sandbox/confirm/{order_id}", {}, format="json")
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "ORDER_NOT_FOUND"
        assert other.get(f"/api/billing/orders/{order_id}").status_code == 404

    def test_sandbox_confirm_does_not_exist_in_production_mode(self, auth_client):
        order_id = buy(auth_client).json()["data"]["order"]["id"]
        with override_settings(SANDBOX_PAYMENTS_ENABLED=False):
            response = auth_client.post(f"/api/billing/sandbox/confirm/{order_id}", {}, format="json")
            assert response.status_code == 404
            assert buy(auth_client).status_code == 404  # the sandbox provider itself is refused
        assert Order.objects.get().status == OrderStatus.PENDING
