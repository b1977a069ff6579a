"""Only staff get in; the ledger is read-only for everyone; refunds and grants need their own permissions."""

import pytest
from django.contrib.admin.models import LogEntry
from django.test import Client
from django.urls import reverse

from accounts.models import Profile
from credits.models import CreditTransaction
from tests.admin.builders import video_make
from tests.factories import DEFAULT_PASSWORD, UserFactory


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["admin:index", "admin:dashboard", "admin:accounts_user_changelist"])
def test_anonymous_and_non_staff_are_sent_to_the_login_page(name):
    url = reverse(name)
    anonymous = Client().get(url)
    assert anonymous.status_code == 302 and anonymous["Location"].startswith(reverse("admin:login"))

    customer = Client()
    customer.force_login(UserFactory())
    response = customer.get(url)
    assert response.status_code == 302 and response["Location"].startswith(reverse("admin:login"))


@pytest.mark.django_db
def test_a_non_staff_user_cannot_log_in_to_the_admin():
    customer = UserFactory(email="customer@example.com")
    client = Client()
    response = client.post(reverse("admin:login"), {"username": customer.email, "password": DEFAULT_PASSWORD})
    assert response.status_code == 200  # the form again, with an error
    assert "_auth_user_id" not in client.session
    assert client.get(reverse("admin:index")).status_code == 302


@pytest.mark.django_db
def test_the_ledger_is_read_only_even_for_a_superuser(su_client):
    customer = UserFactory()
    entry = CreditTransaction.objects.get(user=customer)
    assert su_client.get(reverse("admin:credits_credittransaction_change", args=[entry.pk])).status_code == 200
    assert su_client.get(reverse("admin:credits_credittransaction_add")).status_code == 403
    assert su_client.get(reverse("admin:credits_credittransaction_delete", args=[entry.pk])).status_code == 403
    response = su_client.post(
        reverse("admin:credits_credittransaction_change", args=[entry.pk]),
        {"amount": 999999, "balance_after": 999999, "type": "bonus", "description": "x"},
    )
    assert response.status_code == 403
    entry.refresh_from_db()
    assert entry.amount == 20
    response = su_client.post(
        reverse("admin:credits_credittransaction_changelist"),
        {"action": "delete_selected", "_selected_action": [entry.pk], "post": "yes"},
    )
    assert CreditTransaction.objects.filter(pk=entry.pk).exists()


@pytest.mark.django_db
def test_grants_need_the_grant_permission(staff_client):
    customer = UserFactory()
    url = reverse("admin:accounts_user_credits", args=[customer.pk])
    viewer = staff_client("accounts.view_user", "accounts.change_user")
    assert viewer.get(url).status_code == 403
    assert viewer.post(url, {"amount": 100, "reason": "goodwill"}).status_code == 403
    assert Profile.objects.get(user=customer).credits == 20
    assert not CreditTransaction.objects.filter(user=customer, type="adjustment").exists()

    granter = staff_client("accounts.view_user", "credits.grant_credits")
    assert granter.get(url).status_code == 200


@pytest.mark.django_db
def test_refunds_need_the_refund_permission(staff_client):
    customer = UserFactory()
    video = video_make(user=customer)
    url = reverse("admin:videos_video_refund", args=[video.pk])
    viewer = staff_client("videos.view_video", "credits.view_credittransaction")
    assert viewer.get(reverse("admin:videos_video_change", args=[video.pk])).status_code == 200
    assert viewer.post(url).status_code == 403
    response = viewer.post(
        reverse("admin:videos_video_changelist"), {"action": "refund_credits", "_selected_action": [video.pk]}
    )
    assert response.status_code in (200, 302)  # the action is not offered: nothing happens
    assert not CreditTransaction.objects.filter(video=video, type="refund").exists()
    assert Profile.objects.get(user=customer).credits == 0
    assert not LogEntry.objects.exists()


@pytest.mark.django_db
def test_a_staff_member_without_view_permission_sees_nothing(staff_client):
    customer = UserFactory()
    video = video_make(user=customer)
    bare = staff_client()
    assert bare.get(reverse("admin:index")).status_code == 200
    assert bare.get(reverse("admin:dashboard")).status_code == 200
    assert bare.get(reverse("admin:videos_video_change", args=[video.pk])).status_code == 403
    assert bare.get(reverse("admin:credits_credittransaction_changelist")).status_code == 403
