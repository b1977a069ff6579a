"""The video row (VideoRowSerializer): Express's `videos` row for a fully populated video, the list's rows
equal to the detail's (no shifted values), no query per row, Boolean(favorite) coercion."""

import datetime
import math

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.compat.shapes import VIDEO_ROW, assert_shape
from tests.factories import UserFactory
from videos.models import Video
from videos.selectors import VIDEO_ROW_COLUMNS, videos_for_user
from videos.serializers import FavoriteSerializer, VideoRowSerializer

pytestmark = pytest.mark.django_db

WHEN = datetime.datetime(2026, 3, 4, 23, 30, tzinfo=datetime.UTC)


def _full_video(user, **extra) -> Video:
    task = f"kie-task-{Video.objects.count() + 1}"
    video = Video.objects.create(
        user=user,
        status="ready",
        prompt="soap being cut slowly",
        enhanced_prompt="ASMR video: soap being cut slowly.",
        triggers=["soap", "cutting"],
        duration=8,
        quality="720p",
        aspect_ratio="9:16",
        image_url="https://cdn.example.com/a.jpg",
        watermark="mine",
        credit_cost=30,
        provider_task_id=task,
        video_file=f"videos/{user.pk}/x.mp4",
        thumbnail_file=f"thumbnails/{user.pk}/x.jpg",
        file_size=1234,
        is_favorite=True,
        submitted_at=WHEN,
        completed_at=WHEN,
        **extra,
    )
    Video.objects.filter(pk=video.pk).update(created_at=WHEN)
    return Video.objects.get(pk=video.pk)


def test_a_fully_populated_video_is_the_express_row():
    video = _full_video(UserFactory())
    row = VideoRowSerializer(video).data

    assert_shape(row, VIDEO_ROW)
    assert set(VIDEO_ROW) <= set(row)
    assert set(row) - set(VIDEO_ROW) == {"original_prompt", "error_code", "image_url", "watermark"}
    assert (row["title"], row["status"], row["duration"], row["resolution"]) == (
        "ASMR Video 2026-03-04",
        "ready",
        "8",
        "720p",
    )
    assert (row["prompt"], row["original_prompt"]) == (video.enhanced_prompt, video.prompt)
    assert (row["task_id"], row["user_id"], row["credit_cost"], row["file_size"]) == (
        "kie-task-1",
        str(video.user_id),
        30,
        1234,
    )
    assert row["download_url"] == row["preview_url"] and row["download_url"].endswith("x.mp4")
    assert row["thumbnail_url"].endswith("x.jpg")
    assert (row["error_message"], row["error_code"], row["image_url"]) == (None, None, video.image_url)


def test_a_queued_video_polls_with_its_own_id_and_has_no_files():
    video = Video.objects.create(
        user=UserFactory(), prompt="p", enhanced_prompt="e", duration=5, quality="720p", credit_cost=20
    )
    row = VideoRowSerializer(video).data

    assert_shape(row, VIDEO_ROW)
    assert (row["status"], row["task_id"]) == ("processing", str(video.pk))
    assert (row["download_url"], row["thumbnail_url"], row["image_url"], row["generation_started_at"]) == (
        None,
        None,
        None,
        None,
    )


def test_failed_and_cancelled_videos_are_failed_rows_with_their_message():
    user = UserFactory()
    for status in ("failed", "cancelled"):
        video = _full_video(user, error_code="X", error_message="It broke.")
        Video.objects.filter(pk=video.pk).update(status=status, provider_task_id=None)
        row = VideoRowSerializer(Video.objects.get(pk=video.pk)).data
        assert (row["status"], row["error_message"], row["error_code"]) == ("failed", "It broke.", "X")


def test_the_list_rows_equal_the_detail_rows_with_one_query_for_the_page():
    user = UserFactory()
    videos = [_full_video(user) for _ in range(3)]
    page = list(videos_for_user(user=user))

    with CaptureQueriesContext(connection) as queries:
        rows = VideoRowSerializer(page, many=True).data
    assert len(queries) == 0  # every column the row reads is loaded (`.only`)
    details = {str(v.pk): VideoRowSerializer(Video.objects.get(pk=v.pk)).data for v in videos}
    assert [dict(row) for row in rows] == [dict(details[row["id"]]) for row in rows]
    assert set(VIDEO_ROW_COLUMNS) <= {f.attname for f in Video._meta.concrete_fields} | {"video_file"}


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({}, False),
        ({"favorite": None}, False),
        ({"favorite": False}, False),
        ({"favorite": 0}, False),
        ({"favorite": ""}, False),
        ({"favorite": math.nan}, False),
        ({"favorite": True}, True),
        ({"favorite": 1}, True),
        ({"favorite": "false"}, True),
        ({"favorite": "maybe"}, True),
        ({"favorite": []}, True),
        ({"favorite": {}}, True),
    ],
)
def test_favorite_is_coerced_like_javascripts_boolean(body, expected):
    serializer = FavoriteSerializer(data=body)
    assert serializer.is_valid(), serializer.errors
    assert serializer.validated_data["favorite"] is expected
