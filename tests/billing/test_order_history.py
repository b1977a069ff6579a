from billing.services import purchase_create
from tests.factories import UserFactory


def test_orders_are_listed_newest_first_and_paginated_to_their_owner_only(auth_client):
    first, _ = purchase_create(user=auth_client.user, package_slug="basic", amount=100)
    second, _ = purchase_create(user=auth_client.user, package_slug="standard", amount=250)
    purchase_create(user=UserFactory(), package_slug="basic", amount=100)
    auth_client.post(f"/api/billing/sandbox/confirm/{first.id}", {}, format="json")

    data = auth_client.get("/api/billing/orders?limit=1").json()["data"]
    assert [o["id"] for o in data["orders"]] == [str(second.id)]
    assert data["pagination"]["total"] == 2 and data["pagination"]["hasNext"] is True
    older = auth_client.get("/api/billing/orders?page=2&limit=1").json()["data"]["orders"][0]
    assert older["id"] == str(first.id)
    assert older["status"] == "completed" and older["package"] == "basic" and older["name"]
    assert older["provider"] == "sandbox" and older["completedAt"] is not None


def test_order_history_needs_a_login(api_client):
    assert api_client.get("/api/billing/orders").status_code == 401
