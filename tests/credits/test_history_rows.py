"""The history's rows: Express's `credit_transactions` row, built by hand on the hot path and held here to
TransactionSerializer (the shape's source and its OpenAPI schema), key by key and JSON type by JSON type."""

import json

import pytest
from rest_framework.renderers import JSONRenderer

from billing.models import Order, Plan, Subscription
from credits import selectors
from credits.models import CreditTransaction
from credits.serializers import TransactionSerializer, transaction_data
from credits.services import credits_adjust, credits_grant, credits_refund, credits_spend
from videos.models import Video

pytestmark = pytest.mark.django_db


def as_json(value):
    """What the client receives: rendered with the API's JSON encoder, parsed back."""
    return json.loads(JSONRenderer().render(value))


def json_types(row: dict) -> dict:
    return {key: type(value).__name__ for key, value in row.items()}


def make_video(user, *, task_id: str | None = "kie-task-1", status: str = "ready") -> Video:
    return Video.objects.create(
        user=user, prompt="soap cutting slowly", enhanced_prompt="ASMR", duration=5, quality="720p",
        credit_cost=20, status=status, provider_task_id=task_id,
    )


def test_a_fully_populated_row_is_the_same_by_hand_and_through_the_serializer(user):
    # Every nullable column of the row filled: video (with KIE's task id), order and subscription.
    video = make_video(user)
    plan = Plan.objects.get(slug="pro")
    subscription = Subscription.objects.create(user=user, plan=plan, status="active", provider="sandbox")
    order = Order.objects.create(
        user=user, plan=plan, subscription=subscription, credits=1500, amount=plan.price, provider="sandbox"
    )
    grant = credits_grant(
        user=user, amount=1500, type="subscription", description="Pro", order=order, subscription=subscription
    )
    CreditTransaction.objects.filter(pk=grant.pk).update(video=video)

    row = selectors.credits_history(user=user)[0:1][0]
    by_hand, serialized = as_json(transaction_data(row)), as_json(TransactionSerializer(row).data)

    assert by_hand == serialized
    assert list(by_hand) == list(serialized)
    assert json_types(by_hand) == json_types(serialized)
    always_null = {"check_in_id", "referral_id", "free_credits_type"}
    assert [key for key, value in by_hand.items() if value is None] == sorted(always_null, key=list(by_hand).index)
    assert by_hand["id"] == str(grant.pk)
    assert by_hand["user_id"] == str(user.pk)
    assert (by_hand["transaction_type"], by_hand["kind"]) == ("purchase", "subscription")
    assert (by_hand["video_id"], by_hand["task_id"]) == (str(video.pk), "kie-task-1")
    assert (by_hand["order_id"], by_hand["subscription_id"]) == (str(order.pk), str(subscription.pk))


def test_sparse_rows_are_the_same_by_hand_and_through_the_serializer(user):
    # The signup bonus (no video, order or subscription) and a charge whose video KIE has not taken yet.
    credits_spend(user=user, amount=20, description="generation", video=make_video(user, task_id=None))
    rows = selectors.credits_history(user=user)[0:10]
    assert len(rows) == 2
    for row in rows:
        by_hand, serialized = as_json(transaction_data(row)), as_json(TransactionSerializer(row).data)
        assert by_hand == serialized
        assert json_types(by_hand) == json_types(serialized)
    charge, bonus = (as_json(transaction_data(row)) for row in rows)
    assert charge["task_id"] == charge["video_id"]  # as the video shows it until KIE has the job
    assert (bonus["video_id"], bonus["task_id"], bonus["order_id"]) == (None, None, None)


def test_every_ledger_type_maps_onto_the_apps_four(auth_client):
    user = auth_client.user
    credits_grant(user=user, amount=100, type="purchase", description="package")
    credits_grant(user=user, amount=300, type="subscription", description="plan period")
    credits_adjust(user=user, amount=5, reason="goodwill", staff_user=None)
    credits_adjust(user=user, amount=-3, reason="correction", staff_user=None)
    debit = credits_spend(user=user, amount=20, description="generation", video=make_video(user, status="failed"))
    credits_refund(debit=debit, description="failed")

    rows = auth_client.get("/api/credits/history").json()["data"]["transactions"]

    assert [(row["kind"], row["transaction_type"], row["amount"]) for row in rows] == [
        ("refund", "refund", 20),
        ("usage", "usage", -20),
        ("adjustment", "usage", -3),
        ("adjustment", "bonus", 5),
        ("subscription", "purchase", 300),
        ("purchase", "purchase", 100),
        ("bonus", "bonus", 20),
    ]
    assert all("type" not in row for row in rows)


def test_usage_totals_follow_express(auth_client):
    user = auth_client.user
    credits_grant(user=user, amount=100, type="purchase", description="package")
    credits_grant(user=user, amount=300, type="subscription", description="plan period")
    for cost in (20, 25):
        debit = credits_spend(user=user, amount=cost, description="generation", video=make_video(user, task_id=None))
    credits_refund(debit=debit, description="failed")
    credits_adjust(user=user, amount=-3, reason="correction", staff_user=None)

    usage = auth_client.get("/api/credits/usage").json()["data"]["usage"]

    # Spent is every generation charged (refunds not netted, as Express); purchases include subscriptions;
    # a staff correction is neither; the average rounds halves up like Math.round (45 / 2 = 22.5 -> 23).
    assert usage == {
        "totalSpent": 45,
        "totalPurchased": 400,
        "totalRefunded": 25,
        "currentBalance": 20 + 400 - 45 + 25 - 3,
        "videoGenerationCount": 2,
        "averagePerVideo": 23,
    }
