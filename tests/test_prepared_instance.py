"""aiasmr.db.PreparedInstance: the row it reads is the instance the ORM reads, field by field (all of a video's
column types: uuids, JSON, files, datetimes, nulls), and a row of another user is not found."""

import datetime

import pytest

from aiasmr.db import PreparedInstance
from tests.factories import UserFactory
from videos.models import Video

pytestmark = pytest.mark.django_db

WHEN = datetime.datetime(2026, 3, 4, 23, 30, 5, 123456, tzinfo=datetime.UTC)
BY_ID_AND_USER = PreparedInstance(Video, where='"id" = %s AND "user_id" = %s')


def test_the_row_is_the_orm_s_instance_field_by_field():
    user = UserFactory()
    video = Video.objects.create(
        user=user, prompt="soap", enhanced_prompt="ASMR: soap", triggers=["soap", "crunch"], duration=8,
        quality="1080p", credit_cost=60, status="ready", provider_task_id="kie-9", video_file="videos/a.mp4",
        file_size=123, image_refs=["upload:abc"], submitted_at=WHEN, completed_at=WHEN, is_favorite=True,
    )
    prepared = BY_ID_AND_USER.first([video.pk, user.pk])
    orm = Video.objects.get(pk=video.pk)
    assert isinstance(prepared, Video) and prepared.pk == video.pk
    for field in Video._meta.concrete_fields:
        assert getattr(prepared, field.attname) == getattr(orm, field.attname), field.name
    assert prepared.video_file.name == "videos/a.mp4" and prepared.submitted_at == WHEN


def test_another_user_s_row_is_not_found():
    video = Video.objects.create(user=UserFactory(), prompt="p", enhanced_prompt="e", duration=5, quality="720p",
                                 credit_cost=20)
    assert BY_ID_AND_USER.first([video.pk, UserFactory().pk]) is None
