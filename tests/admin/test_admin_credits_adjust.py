"""Grant or deduct credits from a user's page: a ledger adjustment by that staff member, logged."""

import pytest
from django.contrib.admin.models import CHANGE, LogEntry
from django.urls import reverse

from accounts.models import Profile
from credits.models import CreditTransaction, TransactionType
from tests.factories import UserFactory


@pytest.fixture
def granter(staff_client):
    return staff_client("accounts.view_user", "credits.grant_credits")


@pytest.mark.django_db
def test_a_grant_writes_an_adjustment_by_the_staff_member_and_a_log_entry(granter):
    customer = UserFactory()
    response = granter.post(
        reverse("admin:accounts_user_credits", args=[customer.pk]), {"amount": "55", "reason": "Support ticket 42"}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:accounts_user_change", args=[customer.pk])
    assert Profile.objects.get(user=customer).credits == 75
    entry = CreditTransaction.objects.get(user=customer, type=TransactionType.ADJUSTMENT)
    assert (entry.amount, entry.balance_after, entry.staff_user_id) == (55, 75, granter.user.pk)
    assert entry.description == "Support ticket 42"
    log = LogEntry.objects.get()
    assert (log.user_id, log.action_flag, log.object_id) == (granter.user.pk, CHANGE, str(customer.pk))


@pytest.mark.django_db
def test_a_deduction_takes_credits_but_never_below_zero(granter):
    customer = UserFactory()
    url = reverse("admin:accounts_user_credits", args=[customer.pk])
    assert granter.post(url, {"amount": "-15", "reason": "Abuse"}).status_code == 302
    assert Profile.objects.get(user=customer).credits == 5

    response = granter.post(url, {"amount": "-6", "reason": "Too much"})
    assert response.status_code == 200  # the form again, with the service's error
    assert response.context["form"].non_field_errors()
    assert Profile.objects.get(user=customer).credits == 5
    assert CreditTransaction.objects.filter(user=customer, type=TransactionType.ADJUSTMENT).count() == 1
    assert LogEntry.objects.count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("data", "field"),
    [({"amount": "10", "reason": "   "}, "reason"), ({"amount": "10"}, "reason"), ({"amount": "0", "reason": "x"}, "amount")],
)
def test_a_reason_and_a_non_zero_amount_are_required(granter, data, field):
    customer = UserFactory()
    response = granter.post(reverse("admin:accounts_user_credits", args=[customer.pk]), data)
    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert Profile.objects.get(user=customer).credits == 20
    assert not CreditTransaction.objects.filter(type=TransactionType.ADJUSTMENT).exists()
    assert not LogEntry.objects.exists()


@pytest.mark.django_db
def test_the_changelist_action_opens_the_form_for_exactly_one_user(granter):
    first, second = UserFactory(), UserFactory()
    changelist = reverse("admin:accounts_user_changelist")
    one = granter.post(changelist, {"action": "grant_or_deduct_credits", "_selected_action": [first.pk]})
    assert one.status_code == 302
    assert one["Location"] == reverse("admin:accounts_user_credits", args=[first.pk])
    two = granter.post(changelist, {"action": "grant_or_deduct_credits", "_selected_action": [first.pk, second.pk]})
    assert two.status_code == 302 and two["Location"].endswith(changelist)


@pytest.mark.django_db
def test_a_user_added_in_the_admin_is_registered_like_an_api_signup(su_client):
    response = su_client.post(
        reverse("admin:accounts_user_add"),
        {"email": "New.Person@Example.com", "password1": "Long-enough-pass-1", "password2": "Long-enough-pass-1"},
    )
    assert response.status_code == 302
    profile = Profile.objects.select_related("user").get(user__email="new.person@example.com")
    assert profile.credits == 20
    assert CreditTransaction.objects.get(user=profile.user).type == TransactionType.BONUS
    assert profile.user.check_password("Long-enough-pass-1")
    assert LogEntry.objects.filter(object_id=str(profile.user.pk)).exists()


@pytest.mark.django_db
def test_deleting_a_user_in_the_admin_keeps_the_ledger_anonymised(su_client):
    customer = UserFactory()
    response = su_client.post(reverse("admin:accounts_user_delete", args=[customer.pk]), {"post": "yes"})
    assert response.status_code == 302
    assert not Profile.objects.filter(user_id=customer.pk).exists()
    assert CreditTransaction.objects.filter(user__isnull=True, type=TransactionType.BONUS).count() == 1
