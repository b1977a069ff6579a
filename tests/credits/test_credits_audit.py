"""`manage.py credits_audit`: clean when the ledger explains every balance; lists the users otherwise."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from accounts.models import Profile
from credits.services import credits_refund, credits_spend
from tests.factories import UserFactory
from videos.models import Video

pytestmark = pytest.mark.django_db


def audit(*args):
    out, err = StringIO(), StringIO()
    call_command("credits_audit", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def charged_video(user, status):
    video = Video.objects.create(
        user=user, prompt="p" * 12, enhanced_prompt="ASMR video", duration=5, quality="720p", credit_cost=20, status=status
    )
    return video, credits_spend(user=user, amount=20, description="Video", video=video)


def test_clean_ledger_passes():
    users = UserFactory.create_batch(3)
    video, debit = charged_video(users[0], "failed")
    credits_refund(debit=debit, description="failed")
    charged_video(users[1], "ready")
    out, _ = audit()
    assert "clean" in out


def test_a_balance_changed_behind_the_ledgers_back_is_found():
    honest, tampered = UserFactory(), UserFactory()
    Profile.objects.filter(user=tampered).update(credits=500)
    with pytest.raises(CommandError) as caught:
        audit()
    assert str(tampered.pk) in str(caught.value)
    assert str(honest.pk) not in str(caught.value)


def test_a_failed_generation_without_its_refund_is_found():
    user = UserFactory()
    charged_video(user, "cancelled")
    with pytest.raises(CommandError) as caught:
        audit()
    assert str(user.pk) in str(caught.value)


def test_progress_is_shown_for_large_tables_and_batches_cover_everyone():
    users = UserFactory.create_batch(5)
    Profile.objects.filter(user=users[-1]).update(credits=1)
    out, err = StringIO(), StringIO()
    with pytest.raises(CommandError):
        call_command("credits_audit", "--batch-size", "2", stdout=out, stderr=err)
    assert "checked 2/5" in err.getvalue() and "checked 5/5" in err.getvalue()
    assert str(users[-1].pk) in out.getvalue()
