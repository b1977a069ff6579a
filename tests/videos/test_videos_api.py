"""The videos API, ownership (404 for another user's job or video), cancel, delete, staff refund."""

import pytest
from django.core.files.storage import default_storage
from django.db import connection
from django.test.utils import CaptureQueriesContext

from aiasmr.api.exceptions import Conflict
from aiasmr.lifecycle.services import account_delete
from tests.factories import UserFactory
from tests.videos.conftest import GOOD_BODY, balance, deliver, refunds, run_tasks
from videos.models import Video
from videos.services import video_refund


def _ready(client, fake_kie) -> Video:
    task_id = client.post("/api/generate", GOOD_BODY, format="json").json()["data"]["taskId"]
    run_tasks()
    for callback in fake_kie.callbacks():
        deliver(client, callback)
    run_tasks()
    video = Video.objects.get(pk=task_id)
    assert video.status == "ready"
    return video


def _make_videos(user, count):
    Video.objects.bulk_create(
        [
            Video(
                user=user,
                prompt=f"prompt {i}",
                enhanced_prompt="x",
                duration=5,
                quality="720p",
                credit_cost=20,
            )
            for i in range(count)
        ]
    )


@pytest.mark.django_db
def test_list_is_paginated_newest_first_with_constant_queries(auth_client):
    _make_videos(auth_client.user, 12)
    _make_videos(UserFactory(), 3)

    def fetch(limit):
        with CaptureQueriesContext(connection) as queries:
            response = auth_client.get(f"/api/videos?page=1&limit={limit}")
        return response.json()["data"], len(queries)

    small, small_queries = fetch(2)
    large, large_queries = fetch(12)

    assert small_queries == large_queries
    assert len(small["videos"]) == 2 and len(large["videos"]) == 12
    assert small["pagination"] == {
        "page": 1,
        "limit": 2,
        "total": 12,
        "totalPages": 6,
        "hasNext": True,
        "hasPrev": False,
    }
    created = [v["created_at"] for v in large["videos"]]
    assert created == sorted(created, reverse=True)
    assert auth_client.get("/api/videos?limit=101").status_code == 400


@pytest.mark.django_db
def test_detail_favorite_stats_and_delete_with_files(fake_kie, auth_client):
    video = _ready(auth_client, fake_kie)
    files = [video.video_file.name, video.thumbnail_file.name]
    assert all(default_storage.exists(name) for name in files)

    detail = auth_client.get(f"/api/videos/{video.pk}").json()["data"]["video"]
    assert detail["status"] == "ready" and detail["download_url"].endswith(".mp4")
    favorite = auth_client.put(f"/api/videos/{video.pk}/favorite", {"favorite": True}, format="json")
    assert favorite.status_code == 200 and favorite.json()["data"]["video"]["is_favorite"] is True
    stats = auth_client.get("/api/videos/stats").json()["data"]
    assert stats == {
        "statistics": {"total": 1, "completed": 1, "processing": 0, "failed": 0, "successRate": 100},
        "total": 1,
        "byStatus": {"pending": 0, "processing": 0, "completed": 1, "failed": 0},
        "favorites": 1,
        "totalDuration": 5,
    }

    assert auth_client.delete(f"/api/videos/{video.pk}").status_code == 200
    run_tasks()

    assert not Video.objects.filter(pk=video.pk).exists()
    assert not any(default_storage.exists(name) for name in files)
    assert auth_client.get(f"/api/videos/{video.pk}").status_code == 404


@pytest.mark.django_db
def test_another_users_task_and_video_are_404(fake_kie, auth_client, make_auth_client):
    video = _ready(auth_client, fake_kie)
    other = make_auth_client()

    for method, path, code in [
        ("get", f"/api/generate/status/{video.pk}", "TASK_NOT_FOUND"),
        ("get", f"/api/generate/status/{video.provider_task_id}", "TASK_NOT_FOUND"),
        ("post", f"/api/generate/cancel/{video.pk}", "TASK_NOT_FOUND"),
        ("get", f"/api/videos/{video.pk}", "VIDEO_NOT_FOUND"),
        ("put", f"/api/videos/{video.pk}/favorite", "VIDEO_NOT_FOUND"),
        ("delete", f"/api/videos/{video.pk}", "VIDEO_NOT_FOUND"),
    ]:
        response = getattr(other, method)(path, {"favorite": True}, format="json")
        assert response.status_code == 404, path
        assert response.json()["error"]["code"] == code

    video.refresh_from_db()
    assert video.is_favorite is False and default_storage.exists(video.video_file.name)
    assert other.get("/api/videos").json()["data"]["pagination"]["total"] == 0


@pytest.mark.django_db
def test_cancel_before_submission_refunds_once_and_after_is_refused(fake_kie, auth_client):
    """Express's answer once KIE has the job: HTTP 200, success false, CANCELLATION_NOT_SUPPORTED."""
    start = balance(auth_client.user)
    first = auth_client.post("/api/generate", GOOD_BODY, format="json").json()["data"]["taskId"]

    cancelled = auth_client.post(f"/api/generate/cancel/{first}")
    again = auth_client.post(f"/api/generate/cancel/{first}")

    assert cancelled.status_code == again.status_code == 200
    assert cancelled.json()["data"]["status"] == "failed" and cancelled.json()["data"]["state"] == "cancelled"
    assert refunds(Video.objects.get(pk=first)) == 1 and balance(auth_client.user) == start
    run_tasks()  # the queued submission finds the job cancelled
    assert fake_kie.state()["generateCalls"] == 0

    second = auth_client.post("/api/generate", GOOD_BODY, format="json").json()["data"]["taskId"]
    run_tasks()
    response = auth_client.post(f"/api/generate/cancel/{second}")
    assert response.status_code == 200 and response.json()["success"] is False
    assert response.json()["error"]["code"] == "CANCELLATION_NOT_SUPPORTED"
    assert refunds(Video.objects.get(pk=second)) == 0


@pytest.mark.django_db
def test_unknown_ids_are_404(auth_client):
    assert auth_client.get("/api/generate/status/not-a-task").json()["error"]["code"] == "TASK_NOT_FOUND"
    response = auth_client.get("/api/videos/00000000-0000-0000-0000-000000000000")
    assert response.status_code == 404 and response.json()["error"]["code"] == "VIDEO_NOT_FOUND"


@pytest.mark.django_db
def test_staff_refund_once_and_never_for_an_open_video(fake_kie, auth_client):
    staff = UserFactory(is_staff=True)
    video = _ready(auth_client, fake_kie)
    start = balance(auth_client.user)

    first = video_refund(video=video, staff_user=staff)
    second = video_refund(video=video, staff_user=staff)

    assert first is not None and first.amount == 20 and first.staff_user_id == staff.pk
    assert second is None and balance(auth_client.user) == start + 20
    open_id = auth_client.post("/api/generate", GOOD_BODY, format="json").json()["data"]["taskId"]
    with pytest.raises(Conflict):
        video_refund(video=Video.objects.get(pk=open_id), staff_user=staff)


@pytest.mark.django_db
def test_account_deletion_removes_videos_and_files(fake_kie, auth_client):
    video = _ready(auth_client, fake_kie)
    name = video.video_file.name

    account_delete(user=auth_client.user)
    run_tasks()

    assert not Video.objects.filter(pk=video.pk).exists() and not default_storage.exists(name)
