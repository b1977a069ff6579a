"""`Video.debit` is the one link from a video to its charge; its refund is that charge's reversal."""

import importlib

import pytest
from django.apps import apps

from credits.services import credits_grant, credits_refund, credits_spend
from tests.factories import UserFactory
from videos.models import Video
from videos.selectors import video_refund_entry
from videos.services import video_charge_refund

pytestmark = pytest.mark.django_db


def _user():
    user = UserFactory()
    credits_grant(user=user, amount=100, type="bonus", description="seed")
    return user


def _video(user) -> Video:
    return Video.objects.create(
        user=user, prompt="p" * 12, enhanced_prompt="ASMR video", duration=5, quality="720p", credit_cost=20
    )


def test_videos_made_before_the_link_get_their_charge_from_the_ledger():
    user = _user()
    linked_before, unlinked, never_charged = _video(user), _video(user), _video(user)
    charge = credits_spend(user=user, amount=20, description="Video", video=unlinked)
    other = credits_spend(user=user, amount=20, description="Video", video=linked_before)
    Video.objects.filter(pk=linked_before.pk).update(debit=other)

    importlib.import_module("videos.migrations.0003_video_debit_backfill").debit_backfill(apps, None)

    links = dict(Video.objects.values_list("pk", "debit_id"))
    assert links == {linked_before.pk: other.pk, unlinked.pk: charge.pk, never_charged.pk: None}


def test_the_refund_is_found_through_the_charge_and_given_at_most_once():
    user = _user()
    video = _video(user)
    video.debit = credits_spend(user=user, amount=20, description="Video", video=video)
    video.save(update_fields=["debit"])
    assert video_refund_entry(video=video) is None

    refund = video_charge_refund(video=video, reason="failed")

    assert (refund.amount, refund.reverses_id) == (20, video.debit_id)
    assert video_refund_entry(video=video) == refund
    assert video_charge_refund(video=video, reason="again") is None
    assert credits_refund(debit=video.debit, description="again") is None


def test_a_video_never_charged_has_no_refund():
    video = _video(UserFactory())
    assert video_charge_refund(video=video, reason="failed") is None
    assert video_refund_entry(video=video) is None
