"""The full lifecycle through the fake KIE over HTTP: generate, submit, callback, copy, completed."""

import time
from pathlib import Path

import pytest
from django.core.files.storage import default_storage

from credits.models import CreditTransaction
from tests.videos.conftest import GOOD_BODY, balance, deliver, refunds, run_tasks, stored_bytes
from videos.models import Video, VideoEvent

MEDIA = Path(__file__).resolve().parents[2] / "devtools" / "fake_kie" / "media"


def _status(client, task_id):
    response = client.get(f"/api/generate/status/{task_id}")
    assert response.status_code == 200, response.json()
    return response.json()["data"]


@pytest.mark.django_db
def test_generate_poll_to_completed_and_files_stored(fake_kie, auth_client):
    user = auth_client.user
    start = balance(user)

    response = auth_client.post("/api/generate", GOOD_BODY, format="json")

    assert response.status_code == 200
    data = response.json()["data"]
    assert data["creditsDeducted"] == 20 and data["remainingCredits"] == start - 20
    assert data["prompt"] == (
        "ASMR video: soap being cut slowly on a wooden board. Featuring soap cutting and squishing sounds."
    )
    assert data["parameters"]["duration"] == 5 and data["parameters"]["quality"] == "720p"
    task_id = data["taskId"]
    assert _status(auth_client, task_id)["status"] == "pending"
    assert balance(user) == start - 20

    run_tasks()  # the submission

    video = Video.objects.get(pk=task_id)
    assert video.status == "submitted" and video.provider_task_id
    sent = fake_kie.state()["jobs"][video.provider_task_id]["body"]
    assert sent["prompt"] == video.enhanced_prompt and sent["callBackUrl"].startswith(
        "http://testserver/api/kie-"
    )
    assert _status(auth_client, task_id)["status"] == "pending"
    # KIE's task id works for polling too.
    assert _status(auth_client, video.provider_task_id)["videoId"] == task_id

    [callback] = fake_kie.wait_callbacks(1)
    assert deliver(auth_client, callback).status_code == 200
    assert _status(auth_client, task_id)["status"] == "processing"

    run_tasks()  # the copy

    status = _status(auth_client, task_id)
    assert status["status"] == "completed" and status["progress"] == 100
    video.refresh_from_db()
    assert video.video_file.name == f"videos/{user.pk}/{video.pk}.mp4"
    assert video.thumbnail_file.name == f"thumbnails/{user.pk}/{video.pk}.jpg"
    assert stored_bytes(video.video_file.name) == (MEDIA / "sample.mp4").read_bytes()
    assert stored_bytes(video.thumbnail_file.name) == (MEDIA / "cover.jpg").read_bytes()
    assert video.file_size == (MEDIA / "sample.mp4").stat().st_size
    assert status["result"]["videoUrl"].endswith(f"videos/{user.pk}/{video.pk}.mp4")
    assert status["result"]["thumbnailUrl"].endswith(".jpg")
    assert CreditTransaction.objects.filter(video=video, type="usage").count() == 1
    assert refunds(video) == 0 and balance(user) == start - 20
    sources = list(VideoEvent.objects.filter(video=video).values_list("source", flat=True))
    assert "submit" in sources and "callback" in sources


@pytest.mark.django_db
def test_status_refreshes_from_kie_record_when_no_callback_comes(fake_kie, auth_client, settings):
    settings.GENERATION_STATUS_REFRESH_SECONDS = 0
    fake_kie.configure(job_seconds=1.5, callback="lost")
    task_id = auth_client.post("/api/generate", GOOD_BODY, format="json").json()["data"]["taskId"]
    run_tasks()
    time.sleep(0.6)  # the fake's job is generating now

    assert _status(auth_client, task_id)["status"] == "processing"
    assert Video.objects.get(pk=task_id).status == "processing"
    time.sleep(1.0)  # the job succeeded at KIE, but its callback is lost

    assert _status(auth_client, task_id)["state"] == "storing"
    run_tasks()

    assert _status(auth_client, task_id)["status"] == "completed"


@pytest.mark.django_db
def test_status_refresh_is_throttled(fake_kie, auth_client, settings):
    settings.GENERATION_STATUS_REFRESH_SECONDS = 60
    fake_kie.configure(job_seconds=30, callback="lost")
    task_id = auth_client.post("/api/generate", GOOD_BODY, format="json").json()["data"]["taskId"]
    run_tasks()
    Video.objects.filter(pk=task_id).update(
        submitted_at=Video.objects.get(pk=task_id).created_at.replace(year=2020)
    )

    for _ in range(3):
        _status(auth_client, task_id)

    assert VideoEvent.objects.filter(video_id=task_id, source="poll").count() == 1


@pytest.mark.django_db(transaction=True)
def test_lifecycle_over_real_http_with_live_callbacks(fake_kie, live_server, make_auth_client, settings):
    """The fake POSTs its (signed) callback to a live server; the worker copies; the file downloads."""
    settings.CALLBACK_URL = f"{live_server.url}/api/kie-callback"
    settings.KIE_WEBHOOK_HMAC_KEY = "whk-secret"
    fake_kie.configure(callback="send", hmac_key="whk-secret", job_seconds=0.5)
    client = make_auth_client()
    task_id = client.post("/api/generate", GOOD_BODY, format="json").json()["data"]["taskId"]
    run_tasks()

    deadline = time.monotonic() + 10
    while Video.objects.get(pk=task_id).status != "storing" and time.monotonic() < deadline:
        time.sleep(0.05)
    assert [c["answer"] for c in fake_kie.callbacks()] == [200]
    run_tasks()

    status = _status(client, task_id)
    assert status["status"] == "completed"
    video = Video.objects.get(pk=task_id)
    assert default_storage.exists(video.video_file.name)
    assert stored_bytes(video.video_file.name)[4:8] == b"ftyp"  # an MP4
