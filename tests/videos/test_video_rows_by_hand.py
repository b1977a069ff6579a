"""The rows of the video list and of one video: built by hand on the hot path (`video_row_data`) and held here
to VideoRowSerializer (the shape's source and its OpenAPI schema), key by key, value by value and JSON type by
JSON type."""

import datetime
import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.renderers import JSONRenderer

from tests.factories import UserFactory
from videos.models import Video
from videos.selectors import videos_for_user
from videos.serializers import VideoAnswerSerializer, VideoListSerializer, VideoRowSerializer, video_row_data

pytestmark = pytest.mark.django_db

WHEN = datetime.datetime(2026, 3, 4, 23, 30, 5, 123456, tzinfo=datetime.UTC)


def as_json(value):
    """What the client receives: rendered with the API's JSON encoder, parsed back."""
    return json.loads(JSONRenderer().render(value))


def json_types(row: dict) -> dict:
    return {key: type(value).__name__ for key, value in row.items()}


def _video(user, **fields) -> Video:
    base = {"prompt": "soap being cut slowly", "enhanced_prompt": "ASMR video: soap.", "duration": 5,
            "quality": "720p", "credit_cost": 20}
    return Video.objects.create(user=user, **{**base, **fields})


def _variety(user) -> list[Video]:
    """Every kind of row the list shows: queued, submitted, ready with files, failed, cancelled, Veo from an
    image, published and featured, odd but valid stored values."""
    _video(user)
    _video(user, status="submitted", provider_task_id="kie-1", submitted_at=WHEN)
    _video(user, status="ready", provider_task_id="kie-2", triggers=["soap", "cutting"], aspect_ratio="9:16",
           video_file=f"videos/{user.pk}/a.mp4", thumbnail_file=f"thumbnails/{user.pk}/a.jpg", file_size=98765,
           is_favorite=True, is_public=True, is_featured=True, likes_count=7, views_count=123456789012,
           submitted_at=WHEN, completed_at=WHEN, watermark="mine")
    _video(user, status="failed", error_code="KIE_FAILED", error_message="It broke.", completed_at=WHEN)
    _video(user, status="cancelled", provider_task_id="kie-3")
    _video(user, status="ready", provider_task_id="veo-1", duration=8, quality="1080p", aspect_ratio="Auto",
           image_url="https://cdn.example.com/a.jpg", video_file=f"videos/{user.pk}/b.mp4", credit_cost=60)
    _video(user, triggers=[], prompt="", enhanced_prompt="")
    _video(user, status="storing")
    return list(videos_for_user(user=user))


def test_every_kind_of_row_is_the_same_by_hand_and_through_the_serializer():
    page = _variety(UserFactory())
    assert len(page) == 8
    for video in page:
        by_hand, serialized = as_json(video_row_data(video)), as_json(VideoRowSerializer(video).data)
        assert by_hand == serialized
        assert list(by_hand) == list(serialized)
        assert json_types(by_hand) == json_types(serialized)


def test_an_instance_not_read_back_from_the_database_is_shown_in_utc_too():
    # The database gives UTC back; an instance built in memory may carry another offset.
    plus_five = datetime.timezone(datetime.timedelta(hours=5))
    video = _video(UserFactory(), status="ready", video_file="videos/x.mp4", submitted_at=WHEN.astimezone(plus_five))
    video.created_at = WHEN.astimezone(plus_five)
    by_hand = as_json(video_row_data(video))
    assert by_hand == as_json(VideoRowSerializer(video).data)
    assert by_hand["created_at"] == by_hand["generation_started_at"] == "2026-03-04T23:30:05.123456Z"


def test_the_list_answer_is_video_list_serializer_s_answer_with_no_query_per_row(auth_client):
    page = _variety(auth_client.user)
    client = auth_client
    with CaptureQueriesContext(connection) as queries:
        answer = client.get("/api/videos?page=1&limit=20")
    assert answer.status_code == 200
    assert len(queries) <= 4  # user, COUNT, page (the rate-limit count is in the cache); none per row
    pagination = {"page": 1, "limit": 20, "total": 8, "totalPages": 1, "hasNext": False, "hasPrev": False}
    expected = as_json(VideoListSerializer({"videos": page, "pagination": pagination}).data)
    assert answer.json()["data"] == expected
    assert [row["id"] for row in expected["videos"]] == [str(v.pk) for v in page]


def test_the_detail_answer_is_video_answer_serializer_s_answer(auth_client):
    for video in _variety(auth_client.user):
        answer = auth_client.get(f"/api/videos/{video.pk}")
        assert answer.status_code == 200
        assert answer.json()["data"] == as_json(VideoAnswerSerializer({"video": video}).data)
