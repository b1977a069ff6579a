"""routes/credits.js: balance, history, purchase, packages, usage."""

import pytest

from accounts.models import Profile
from tests.compat.conftest import SLASHES, make_failed_video, make_ready_video, start_generation
from tests.compat.shapes import (
    CREDIT_TRANSACTION_ROW,
    NUMBER,
    PAGINATION,
    UUID,
    VALIDATION_DETAIL,
    Optional,
    assert_error,
    assert_ok,
)

pytestmark = pytest.mark.django_db

# routes/credits.js GET /balance
BALANCE = {"success": bool, "data": {"balance": int, "user": {"id": UUID, "email": str, "plan_type": str}}}
# routes/credits.js GET /history: credit_transactions rows (select *) and the pagination block
HISTORY = {"success": bool, "data": {"transactions": [CREDIT_TRANSACTION_ROW], "pagination": PAGINATION}}
# routes/credits.js GET /packages: the literal list; `savings` only on the discounted packages
PACKAGE = {
    "id": str,
    "name": str,
    "credits": int,
    "price": NUMBER,
    "description": str,
    "popular": bool,
    "savings": Optional(str),
}
PACKAGES = {"success": bool, "data": {"packages": [PACKAGE]}}
# routes/credits.js GET /usage
USAGE = {
    "success": bool,
    "data": {
        "usage": {
            "totalSpent": int,
            "totalPurchased": int,
            "totalRefunded": int,
            "currentBalance": int,
            "videoGenerationCount": int,
            "averagePerVideo": int,
        }
    },
}
# routes/credits.js POST /purchase: 200 data.transaction
PURCHASE = {
    "success": bool,
    "data": {
        "transaction": {
            "package": str,
            "creditsAdded": int,
            "price": NUMBER,
            "paymentMethod": str,
            "newBalance": int,
        }
    },
    "message": str,
}
STANDARD = {"package": "standard", "paymentMethod": "stripe", "amount": 250}


# --- GET /credits/balance -----------------------------------------------------------------------------


@SLASHES
def test_balance(auth_client, slash):
    # routes/credits.js GET /balance
    body = assert_ok(auth_client.get(f"/api/credits/balance{slash}"), BALANCE)
    assert body["data"]["balance"] == 20
    assert body["data"]["user"]["id"] == str(auth_client.user.pk)


# --- GET /credits/history -----------------------------------------------------------------------------


@SLASHES
def test_history_of_a_new_user(auth_client, slash):
    # routes/credits.js GET /history: validatePagination defaults page 1, limit 20
    body = assert_ok(auth_client.get(f"/api/credits/history{slash}"), HISTORY)
    assert [row["transaction_type"] for row in body["data"]["transactions"]] == ["bonus"]
    assert body["data"]["transactions"][0]["amount"] == 20
    assert (body["data"]["pagination"]["page"], body["data"]["pagination"]["limit"]) == (1, 20)


def test_history_rows_of_a_generation_and_its_refund(rich_client, fake_kie):
    # credits-manager.js deductCredits writes usage with a negative amount; refundCredits a positive refund
    task_id = make_failed_video(rich_client, fake_kie)
    body = assert_ok(rich_client.get("/api/credits/history"), HISTORY)
    rows = body["data"]["transactions"]
    assert [(row["transaction_type"], row["amount"]) for row in rows[:2]] == [("refund", 20), ("usage", -20)]
    assert rows[0]["video_id"] == task_id == rows[1]["video_id"]


def test_history_pagination_counts_every_row(rich_client):
    # routes/credits.js GET /history computed total from the page it fetched (a defect): total is the
    # number of the user's rows, so totalPages and hasNext let the app page through
    body = assert_ok(rich_client.get("/api/credits/history?page=1&limit=1"), HISTORY)
    pagination = body["data"]["pagination"]
    assert len(body["data"]["transactions"]) == 1
    assert (pagination["total"], pagination["totalPages"], pagination["hasNext"], pagination["hasPrev"]) == (
        2, 2, True, False,
    )


@pytest.mark.parametrize("query", ["limit=101", "limit=0", "page=0", "page=x"])
def test_history_with_bad_paging_is_a_validation_error(auth_client, query):
    # validation.js paginationSchema: page >= 1, limit 1..100
    response = auth_client.get(f"/api/credits/history?{query}")
    assert_error(response, 400, "VALIDATION_ERROR", details=[VALIDATION_DETAIL])


# --- GET /credits/packages ----------------------------------------------------------------------------


@SLASHES
def test_packages_are_public(api_client, slash):
    # routes/credits.js GET /packages: no auth, prices as JSON numbers, savings as "20%"
    body = assert_ok(api_client.get(f"/api/credits/packages{slash}"), PACKAGES)
    packages = {package["id"]: package for package in body["data"]["packages"]}
    assert [(p["credits"], p["price"]) for p in packages.values()] == [
        (100, 9.99), (250, 19.99), (500, 34.99), (1000, 59.99),
    ]
    assert packages["standard"]["savings"] == "20%" and packages["standard"]["popular"] is True


# --- GET /credits/usage -------------------------------------------------------------------------------


@SLASHES
def test_usage_of_a_new_user(auth_client, slash):
    # routes/credits.js GET /usage
    body = assert_ok(auth_client.get(f"/api/credits/usage{slash}"), USAGE)
    assert body["data"]["usage"]["currentBalance"] == 20
    assert body["data"]["usage"]["videoGenerationCount"] == 0


def test_usage_counts_generations(rich_client, fake_kie):
    # routes/credits.js GET /usage: totals over usage/purchase/refund rows
    make_ready_video(rich_client, fake_kie)
    body = assert_ok(rich_client.get("/api/credits/usage"), USAGE)
    usage = body["data"]["usage"]
    assert (usage["totalSpent"], usage["videoGenerationCount"], usage["averagePerVideo"]) == (20, 1, 20)


# --- POST /credits/purchase ---------------------------------------------------------------------------


@SLASHES
def test_purchase_keeps_the_transaction_shape_and_grants_nothing_before_payment(auth_client, slash):
    # routes/credits.js POST /purchase added the credits without any payment (a defect): the answer keeps
    # data.transaction, nothing is added until the provider confirms, and newBalance says so
    response = auth_client.post(f"/api/credits/purchase{slash}", STANDARD, format="json")
    body = assert_ok(response, PURCHASE)
    transaction = body["data"]["transaction"]
    assert (transaction["package"], transaction["price"], transaction["paymentMethod"]) == ("standard", 19.99, "stripe")
    assert (transaction["creditsAdded"], transaction["newBalance"]) == (0, 20)
    assert Profile.objects.get(user=auth_client.user).credits == 20


def test_purchase_of_a_wrong_amount_is_amount_mismatch(auth_client):
    # routes/credits.js POST /purchase: amount !== package credits -> 400 AMOUNT_MISMATCH
    response = auth_client.post("/api/credits/purchase", {**STANDARD, "amount": 251}, format="json")
    assert_error(response, 400, "AMOUNT_MISMATCH")


@pytest.mark.parametrize(
    "change", [{"package": "gold"}, {"paymentMethod": "cash"}, {"amount": -5}, {"amount": None}]
)
def test_purchase_with_invalid_fields_is_a_validation_error(auth_client, change):
    # validation.js creditsPurchaseSchema
    response = auth_client.post("/api/credits/purchase", {**STANDARD, **change}, format="json")
    assert_error(response, 400, "VALIDATION_ERROR", details=[VALIDATION_DETAIL])


def test_purchases_are_limited_with_credits_purchase_limit_exceeded(auth_client, settings):
    # rate-limit.js creditsPurchaseLimit: per user per day, 429 + retryAfter '24 hours'
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "purchase": "2/d"}
    for _ in range(2):
        auth_client.post("/api/credits/purchase", STANDARD, format="json")
    response = auth_client.post("/api/credits/purchase", STANDARD, format="json")
    error = assert_error(response, 429, "CREDITS_PURCHASE_LIMIT_EXCEEDED", retryAfter=str)
    assert error["retryAfter"] == "24 hours"


def test_balance_after_a_generation(rich_client, fake_kie):
    # routes/credits.js GET /balance reads the same balance deductCredits lowered
    start_generation(rich_client)
    assert assert_ok(rich_client.get("/api/credits/balance"), BALANCE)["data"]["balance"] == 200
