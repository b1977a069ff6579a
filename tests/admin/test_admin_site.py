"""The back office site: mounted at ADMIN_URL, users listed with balance, plan, videos and credits spent."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.urls import reverse

from tests.admin.builders import video_make
from tests.factories import UserFactory

ROOT = Path(__file__).resolve().parents[2]


def test_the_admin_url_comes_from_the_environment():
    env = {**os.environ, "ADMIN_URL": "/backstage-7f3/", "DJANGO_SETTINGS_MODULE": "aiasmr.settings"}
    code = "import django; django.setup(); from django.urls import reverse; print(reverse('admin:dashboard'))"
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "/backstage-7f3/dashboard/"


@pytest.mark.django_db
def test_users_are_listed_with_balance_plan_videos_and_spending_and_found_by_email(su_client):
    alice, bob = UserFactory(email="alice@example.com"), UserFactory(email="bob@example.com")
    video_make(user=alice)
    response = su_client.get(reverse("admin:accounts_user_changelist"), {"q": "alice@"})
    cl = response.context["cl"]
    assert [user.pk for user in cl.result_list] == [alice.pk]
    row = cl.result_list[0]
    admin_ = cl.model_admin
    assert (admin_.balance(row), admin_.plan(row), admin_.videos_count(row), admin_.credits_spent(row)) == (
        0,
        "Free",
        1,
        20,
    )
    ordered = su_client.get(reverse("admin:accounts_user_changelist"), {"o": "-2"}).context["cl"].result_list
    assert ordered[len(ordered) - 1].pk == alice.pk  # by balance, highest first: alice spent hers
    assert bob.pk in {user.pk for user in ordered}
