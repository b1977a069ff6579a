"""The probe's admin brute force (25 wrong passwords, then the right one accepted) is refused: sign-in is
limited per account and per address, the lockout says so, is in the admin log, and staff can unlock it."""

import pytest
from axes.models import AccessAttempt
from django.contrib.admin.models import LogEntry
from django.test import Client
from django.urls import reverse

from tests.admin.builders import staff_make

pytestmark = pytest.mark.django_db

PASSWORD = "Staff-pass-123!"
PROBE_IP, OTHER_IP = "203.0.113.7", "198.51.100.20"


def _sign_in(client: Client, email: str, password: str, ip: str = PROBE_IP):
    return client.post(reverse("admin:login"), {"username": email, "password": password}, REMOTE_ADDR=ip)


def _signed_in(client: Client) -> bool:
    return client.get(reverse("admin:index")).status_code == 200


@pytest.fixture
def staff():
    return staff_make(email="staff@example.com", password=PASSWORD)


def test_25_wrong_passwords_lock_the_account_and_the_right_one_is_refused(staff):
    client = Client()
    answers = [_sign_in(client, staff.email, f"guess-{attempt}").status_code for attempt in range(25)]

    assert answers[:4] == [200] * 4  # the form again, with its error
    assert set(answers[4:]) == {429}
    locked = _sign_in(client, staff.email, PASSWORD)
    assert locked.status_code == 429
    assert "Sign-in locked" in locked.content.decode() and "right password" in locked.content.decode()
    assert not _signed_in(client)
    # per account: the same account from another address is refused too
    assert _sign_in(Client(), staff.email, PASSWORD, ip=OTHER_IP).status_code == 429


def test_one_address_guessing_many_accounts_is_locked(staff):
    client = Client()
    for number in range(5):
        _sign_in(client, f"nobody{number}@example.com", "guess")
    assert _sign_in(client, staff.email, PASSWORD).status_code == 429  # per address
    assert _sign_in(Client(), staff.email, PASSWORD, ip=OTHER_IP).status_code == 302  # the account is fine


def test_the_lockout_is_in_the_admin_log(staff):
    for attempt in range(5):
        _sign_in(Client(), staff.email, f"guess-{attempt}")
    entry = LogEntry.objects.get(object_id=str(staff.pk))
    assert "locked" in entry.change_message and PROBE_IP in entry.change_message


def test_staff_unlock_from_the_admin_and_the_right_password_works_again(staff):
    probe = Client()
    for attempt in range(25):
        _sign_in(probe, staff.email, f"guess-{attempt}")
    assert _sign_in(probe, staff.email, PASSWORD).status_code == 429

    colleague = Client()
    colleague.force_login(staff_make(email="boss@example.com", password=PASSWORD, perms=(
        "axes.view_accessattempt", "axes.delete_accessattempt")))
    changelist = reverse("admin:axes_accessattempt_changelist")
    assert staff.email in colleague.get(changelist).content.decode()
    attempts = list(AccessAttempt.objects.values_list("pk", flat=True))
    response = colleague.post(changelist, {"action": "delete_selected", "_selected_action": attempts, "post": "yes"})
    assert response.status_code == 302 and not AccessAttempt.objects.exists()

    assert _sign_in(probe, staff.email, PASSWORD).status_code == 302
    assert _signed_in(probe)


def test_the_api_sign_in_is_not_counted(api_client, staff):
    for _ in range(6):
        api_client.post("/api/auth/login", {"email": staff.email, "password": "guess"}, format="json")
    assert not AccessAttempt.objects.exists()
