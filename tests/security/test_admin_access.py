"""Back office gaps not covered by tests/admin: the custom money actions called directly by non-staff or
inactive staff, the grant action without its permission, CSRF, and no crossing between JWT and session."""

import pytest
from django.contrib.admin.models import LogEntry
from django.test import Client
from django.urls import reverse

from accounts.models import Profile
from accounts.services import auth_tokens_issue
from billing.models import Order, OrderStatus
from credits.models import CreditTransaction, TransactionType
from credits.services import credits_grant
from tests.admin.builders import billing_make, staff_make, video_make
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

ALL_MONEY_PERMS = ("accounts.view_user", "credits.grant_credits", "videos.view_video", "credits.refund_credits",
                   "billing.view_order", "billing.refund_order", "credits.view_credittransaction")


@pytest.fixture
def targets():
    customer = UserFactory()
    video = video_make(user=customer)  # failed and charged: refundable
    order = billing_make(user=customer)["order"]
    credits_grant(user=customer, amount=order.credits, type=TransactionType.PURCHASE, description="Purchase", order=order)
    return {"customer": customer, "video": video, "order": order}


def _money_posts(t) -> list[tuple[str, dict]]:
    return [
        (reverse("admin:accounts_user_credits", args=[t["customer"].pk]), {"amount": 1000, "reason": "free money"}),
        (reverse("admin:videos_video_refund", args=[t["video"].pk]), {}),
        (reverse("admin:billing_order_refund", args=[t["order"].pk]), {}),
    ]


def _untouched(t):
    assert Profile.objects.get(user=t["customer"]).credits == t["order"].credits  # 20 bonus - 20 video + order
    assert not CreditTransaction.objects.filter(type__in=("adjustment", "refund")).exists()
    assert Order.objects.get(pk=t["order"].pk).status == OrderStatus.COMPLETED
    assert not LogEntry.objects.exists()


def _sent_to_login(response) -> bool:
    return response.status_code == 302 and response["Location"].startswith(reverse("admin:login"))


def test_non_staff_and_inactive_staff_cannot_call_the_money_actions_directly(targets):
    customer = Client()
    customer.force_login(UserFactory())
    inactive = staff_make(perms=ALL_MONEY_PERMS)
    inactive.is_active = False
    inactive.save(update_fields=["is_active"])
    former_staff = Client()
    former_staff.force_login(inactive)

    for client in (Client(), customer, former_staff):
        for url, data in _money_posts(targets):
            assert _sent_to_login(client.post(url, data)), url
    _untouched(targets)


def test_the_grant_action_needs_the_grant_permission(targets):
    viewer = Client()
    viewer.force_login(staff_make(perms=("accounts.view_user", "accounts.change_user")))
    response = viewer.post(
        reverse("admin:accounts_user_changelist"),
        {"action": "grant_or_deduct_credits", "_selected_action": [targets["customer"].pk]},
    )
    assert not (response.status_code == 302 and "/credits/" in response["Location"])
    _untouched(targets)


def test_money_actions_need_a_csrf_token(targets):
    staff = staff_make(perms=ALL_MONEY_PERMS)
    client = Client(enforce_csrf_checks=True)
    client.force_login(staff)
    for url, data in _money_posts(targets):
        assert client.post(url, data).status_code == 403, url
    _untouched(targets)

    # The control: the same staff member with the CSRF check passed does grant.
    trusted = Client()
    trusted.force_login(staff)
    url, data = _money_posts(targets)[0]
    trusted.post(url, data)
    assert CreditTransaction.objects.filter(user=targets["customer"], type="adjustment", amount=1000).exists()


def test_a_staff_bearer_token_is_no_admin_session_and_a_session_is_no_api_token(targets):
    staff = staff_make(perms=ALL_MONEY_PERMS)
    bearer = Client(HTTP_AUTHORIZATION=f"Bearer {auth_tokens_issue(user=staff)['token']}")
    assert _sent_to_login(bearer.get(reverse("admin:index")))
    for url, data in _money_posts(targets):
        assert _sent_to_login(bearer.post(url, data)), url

    session = Client()
    session.force_login(staff)
    response = session.get("/api/user/profile")
    assert response.status_code == 401 and response.json()["error"]["code"] == "NO_TOKEN"
    assert session.put("/api/user/profile", {"first_name": "x"}, content_type="application/json").status_code == 401
    _untouched(targets)
