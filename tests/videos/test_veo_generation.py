"""Veo 3.1 end to end through the fake KIE over HTTP: image-to-video from an upload, text-only, each
record state, the 1080p fetch, and failed jobs refunded exactly once."""

import io
import time
from pathlib import Path

import pytest
from django.core.management import call_command

from accounts.models import Profile
from credits.models import CreditTransaction
from credits.services import credits_grant
from tests.videos.conftest import (
    GOOD_BODY,
    balance,
    deliver,
    png_bytes,
    refunds,
    run_tasks,
    stored_bytes,
    upload_image,
)
from videos.models import Video, VideoEvent
from videos.services import generations_sweep, video_sync_from_kie

MEDIA_MP4 = Path(__file__).resolve().parents[2] / "devtools" / "fake_kie" / "media" / "sample.mp4"


def _fund(user, amount=1000):
    credits_grant(user=user, amount=amount, type="bonus", description="test credits")


def _make_pro(user):
    Profile.objects.filter(user=user).update(plan_type="pro", plan_max_quality="1080p")


def _status(client, task_id):
    response = client.get(f"/api/generate/status/{task_id}")
    assert response.status_code == 200, response.json()
    return response.json()["data"]


def _audit_clean():
    out = io.StringIO()
    call_command("credits_audit", "--no-progress", stdout=out)
    return out.getvalue()


@pytest.mark.django_db
def test_image_to_video_from_an_upload_to_completed(served_media, fake_kie, auth_client):
    user = auth_client.user
    _fund(user)
    start = balance(user)
    upload = upload_image(auth_client, png_bytes((320, 180))).json()["data"]

    response = auth_client.post(
        "/api/generate", {**GOOD_BODY, "model": "veo3_fast", "imageUrls": [upload["id"]]}, format="json"
    )

    assert response.status_code == 200, response.json()
    data = response.json()["data"]
    assert data["creditsDeducted"] == 60 and data["remainingCredits"] == start - 60
    assert data["parameters"]["model"] == "veo3_fast" and data["parameters"]["duration"] == 8
    assert data["parameters"]["imageUrls"] == [upload["id"]]

    run_tasks()  # the submission: KIE fetches the image from our storage's URL

    video = Video.objects.get(pk=data["taskId"])
    assert video.status == "submitted" and video.kie_api == "veo" and video.credit_cost == 60
    job = fake_kie.state()["jobs"][video.provider_task_id]
    assert job["api"] == "veo"
    assert job["body"]["model"] == "veo3_fast"
    assert job["body"]["generationType"] == "FIRST_AND_LAST_FRAMES_2_VIDEO"
    assert job["body"]["imageUrls"] == [upload["url"]]
    [fetch] = fake_kie.state()["imageFetches"]
    assert fetch["status"] == 200 and fetch["contentType"] == "image/png" and fetch["bytes"] > 0

    [callback] = fake_kie.wait_callbacks(1)
    assert callback["body"]["data"]["taskId"] == video.provider_task_id
    assert callback["body"]["data"]["info"]["resultUrls"]
    assert deliver(auth_client, callback).status_code == 200
    run_tasks()  # the copy

    status = _status(auth_client, video.pk)
    assert status["status"] == "completed"
    video.refresh_from_db()
    assert stored_bytes(video.video_file.name) == MEDIA_MP4.read_bytes()
    assert video.quality == "720p" and not video.wants_1080p  # a free plan: no 1080p
    assert balance(user) == start - 60 and refunds(video) == 0


@pytest.mark.django_db
def test_text_only_veo3_completes_from_the_record_when_no_callback_comes(fake_kie, auth_client, settings):
    settings.GENERATION_STATUS_REFRESH_SECONDS = 0
    fake_kie.configure(callback="lost")
    _fund(auth_client.user)
    start = balance(auth_client.user)

    response = auth_client.post("/api/generate", {**GOOD_BODY, "model": "veo3"}, format="json")
    assert response.status_code == 200 and response.json()["data"]["creditsDeducted"] == 300
    run_tasks()
    video = Video.objects.get()
    job = fake_kie.state()["jobs"][video.provider_task_id]
    assert job["body"]["generationType"] == "TEXT_2_VIDEO" and "imageUrls" not in job["body"]
    assert job["body"]["model"] == "veo3"

    Video.objects.filter(pk=video.pk).update(submitted_at=video.submitted_at.replace(year=2000))
    assert _status(auth_client, video.pk)["state"] == "storing"  # successFlag 1 read from record-info
    run_tasks()
    assert _status(auth_client, video.pk)["status"] == "completed"
    assert balance(auth_client.user) == start - 300


@pytest.mark.django_db
@pytest.mark.parametrize(
    "fail_code,flag,error_code",
    [(400, 2, "GENERATION_REJECTED"), (422, 2, "GENERATION_REJECTED"), (501, 3, "GENERATION_FAILED")],
)
def test_record_states_settle_the_video(fake_kie, auth_client, fail_code, flag, error_code):
    _fund(auth_client.user)
    start = balance(auth_client.user)
    fake_kie.configure(job_seconds=1.0, job_fail_rate=1, fail_code=fail_code, fail_msg="policy")
    auth_client.post("/api/generate", {**GOOD_BODY, "model": "veo3_fast"}, format="json")
    run_tasks()
    video = Video.objects.get()

    time.sleep(0.4)  # successFlag 0: generating
    video = video_sync_from_kie(video=video)
    assert video.status == "processing" and video.provider_state == "generating"
    records = VideoEvent.objects.filter(video=video, source="poll", summary__startswith="record:")
    assert records.last().payload["successFlag"] == 0

    time.sleep(0.8)  # successFlag 2 or 3: failed
    video = video_sync_from_kie(video=video)
    assert video.status == "failed" and video.error_code == error_code
    assert records.last().payload["successFlag"] == flag
    video_sync_from_kie(video=video)  # asked again: still one refund
    assert refunds(video) == 1 and balance(auth_client.user) == start


@pytest.mark.django_db
def test_record_success_flag_1_moves_to_storing_with_the_confirmed_url(fake_kie, auth_client):
    _fund(auth_client.user)
    auth_client.post("/api/generate", {**GOOD_BODY, "model": "veo3_fast"}, format="json")
    run_tasks()
    video = video_sync_from_kie(video=Video.objects.get())
    assert video.status == "storing"
    assert video.provider_video_url.endswith(f"/files/{video.provider_task_id}.mp4")
    assert video.provider_thumbnail_url == ""


@pytest.mark.django_db
@pytest.mark.parametrize(
    "code,status,error_code",
    [
        (200, "storing", ""),
        (400, "failed", "GENERATION_REJECTED"),
        (422, "failed", "GENERATION_REJECTED"),
        (500, "failed", "GENERATION_FAILED"),
        (501, "failed", "GENERATION_FAILED"),
    ],
)
def test_each_veo_callback_code(fake_kie, auth_client, code, status, error_code):
    _fund(auth_client.user)
    start = balance(auth_client.user)
    if code != 200:
        fake_kie.configure(job_fail_rate=1, fail_code=code, fail_msg=f"failed {code}")
    auth_client.post("/api/generate", {**GOOD_BODY, "model": "veo3_fast"}, format="json")
    run_tasks()
    [callback] = fake_kie.wait_callbacks(1)
    assert callback["body"]["code"] == code and "taskId" in callback["body"]["data"]

    assert deliver(auth_client, callback).status_code == 200
    assert deliver(auth_client, callback).status_code == 200  # KIE repeats callbacks

    video = Video.objects.get()
    assert video.status == status and video.error_code == error_code
    expected_refunds = 0 if code == 200 else 1
    assert refunds(video) == expected_refunds
    assert balance(auth_client.user) == start - (60 if code == 200 else 0)


@pytest.mark.django_db
def test_veo_callback_secret_and_signature_are_checked(fake_kie, auth_client, settings):
    settings.KIE_WEBHOOK_HMAC_KEY = "veo-hmac-key"
    fake_kie.configure(hmac_key="veo-hmac-key")
    _fund(auth_client.user)
    auth_client.post("/api/generate", {**GOOD_BODY, "model": "veo3_fast"}, format="json")
    run_tasks()
    [callback] = fake_kie.wait_callbacks(1)
    path = callback["url"].replace("http://testserver", "")

    unsigned = auth_client.post(path, callback["body"], format="json")
    assert unsigned.status_code == 401 and unsigned.json()["error"]["code"] == "INVALID_CALLBACK_AUTH"
    wrong_secret = auth_client.post(
        path.replace("secret=test-callback-secret", "secret=nope"), callback["body"], format="json"
    )
    assert wrong_secret.status_code == 401

    from videos.kie.signing import webhook_signature

    timestamp = str(int(time.time()))
    headers = {
        "X-Webhook-Timestamp": timestamp,
        "X-Webhook-Signature": webhook_signature(
            key="veo-hmac-key", task_id=callback["body"]["data"]["taskId"], timestamp=timestamp
        ),
    }
    assert deliver(auth_client, callback, headers=headers).status_code == 200
    assert Video.objects.get().status == "storing"


@pytest.mark.django_db
def test_malformed_veo_callback_is_refused(fake_kie, auth_client):
    body = {
        "code": 200,
        "msg": "ok",
        "data": {"taskId": "t1", "info": {"resultUrls": "not-a-list-of-urls" * 200}},
    }
    response = auth_client.post("/api/kie-callback?secret=test-callback-secret", body, format="json")
    assert response.status_code == 400 and response.json()["error"]["code"] == "INVALID_CALLBACK"


@pytest.mark.django_db
def test_1080p_is_fetched_for_16_9_jobs_of_plans_that_include_it(fake_kie, auth_client):
    _fund(auth_client.user)
    _make_pro(auth_client.user)

    response = auth_client.post("/api/generate", {**GOOD_BODY, "model": "veo3_fast"}, format="json")
    assert response.json()["data"]["parameters"]["quality"] == "1080p"
    assert response.json()["data"]["creditsDeducted"] == 60
    run_tasks()
    video = Video.objects.get()
    assert video.wants_1080p
    deliver(auth_client, fake_kie.wait_callbacks(1)[0])
    run_tasks()

    video.refresh_from_db()
    assert video.status == "ready" and video.quality == "1080p"
    downloads = fake_kie.state()["downloads"]
    assert f"{video.provider_task_id}-1080p.mp4" in downloads
    assert f"{video.provider_task_id}.mp4" not in downloads
    assert VideoEvent.objects.filter(video=video, summary="1080p file ready").exists()


@pytest.mark.django_db
def test_1080p_not_ready_is_retried_then_fetched(fake_kie, auth_client, settings):
    settings.GENERATION_RETRY_BASE_SECONDS = 0
    _fund(auth_client.user)
    _make_pro(auth_client.user)
    fake_kie.configure(hd_seconds=1.0)
    auth_client.post("/api/generate", {**GOOD_BODY, "model": "veo3_fast"}, format="json")
    run_tasks()
    deliver(auth_client, fake_kie.wait_callbacks(1)[0])
    run_tasks(limit=1)  # the first copy attempt: KIE's 1080p file is not ready

    video = Video.objects.get()
    assert video.status == "storing" and "1080p" in video.error_message
    time.sleep(1.1)
    run_tasks()
    video.refresh_from_db()
    assert video.status == "ready" and video.quality == "1080p"
    assert f"{video.provider_task_id}-1080p.mp4" in fake_kie.state()["downloads"]


@pytest.mark.django_db
@pytest.mark.parametrize("knobs,wait", [({"hd_code": 422}, 900), ({"hd_seconds": 3600}, 0)])
def test_720p_is_kept_when_1080p_never_comes(fake_kie, auth_client, settings, knobs, wait):
    settings.VEO_1080P_WAIT_SECONDS = wait
    _fund(auth_client.user)
    _make_pro(auth_client.user)
    fake_kie.configure(**knobs)
    auth_client.post("/api/generate", {**GOOD_BODY, "model": "veo3_fast"}, format="json")
    run_tasks()
    deliver(auth_client, fake_kie.wait_callbacks(1)[0])
    run_tasks()

    video = Video.objects.get()
    assert video.status == "ready" and video.quality == "720p"
    assert f"{video.provider_task_id}.mp4" in fake_kie.state()["downloads"]
    assert VideoEvent.objects.filter(video=video, summary="1080p unavailable; keeping 720p").exists()


@pytest.mark.django_db
def test_no_1080p_for_9_16_or_free_plans(fake_kie, auth_client, make_auth_client):
    _fund(auth_client.user)
    _make_pro(auth_client.user)
    response = auth_client.post(
        "/api/generate", {**GOOD_BODY, "model": "veo3_fast", "aspectRatio": "9:16"}, format="json"
    )
    assert response.json()["data"]["parameters"]["quality"] == "720p"
    refused = auth_client.post(
        "/api/generate",
        {**GOOD_BODY, "model": "veo3_fast", "aspectRatio": "9:16", "quality": "1080p"},
        format="json",
    )
    assert refused.status_code == 400 and refused.json()["error"]["code"] == "VALIDATION_ERROR"

    free = make_auth_client()
    _fund(free.user)
    asked = free.post("/api/generate", {**GOOD_BODY, "model": "veo3_fast", "quality": "1080p"}, format="json")
    assert asked.status_code == 403 and asked.json()["error"]["code"] == "PLAN_UPGRADE_REQUIRED"
    run_tasks()
    assert not Video.objects.filter(wants_1080p=True).exists()


@pytest.mark.django_db
def test_an_image_kie_cannot_fetch_fails_the_job_and_refunds_it_once(fake_kie, auth_client):
    """Uploads served from http://testserver cannot be fetched: KIE answers with a 400 callback."""
    _fund(auth_client.user)
    start = balance(auth_client.user)
    upload = upload_image(auth_client, png_bytes()).json()["data"]
    auth_client.post(
        "/api/generate", {**GOOD_BODY, "model": "veo3_fast", "imageUrl": upload["id"]}, format="json"
    )
    run_tasks()
    [callback] = fake_kie.wait_callbacks(1)
    assert callback["body"]["code"] == 400 and "Image could not be fetched" in callback["body"]["msg"]
    deliver(auth_client, callback)
    deliver(auth_client, callback)
    video = Video.objects.get()
    video_sync_from_kie(video=video)  # the record agrees (successFlag 2)
    video.refresh_from_db()
    assert video.status == "failed" and video.error_code == "GENERATION_REJECTED"
    assert refunds(video) == 1 and balance(auth_client.user) == start


@pytest.mark.django_db
def test_a_failed_veo_job_is_refunded_exactly_once_by_callback_poll_and_sweep(
    fake_kie, auth_client, settings
):
    settings.GENERATION_CALLBACK_GRACE_SECONDS = 0
    _fund(auth_client.user)
    start = balance(auth_client.user)
    fake_kie.configure(job_fail_rate=1, fail_code=500, callback_copies=3)
    auth_client.post("/api/generate", {**GOOD_BODY, "model": "veo3_fast"}, format="json")
    run_tasks()
    video = Video.objects.get()
    Video.objects.filter(pk=video.pk).update(submitted_at=video.submitted_at.replace(year=2000))

    generations_sweep()  # the record says failed first
    for callback in fake_kie.wait_callbacks(3):
        assert deliver(auth_client, callback).status_code == 200
    generations_sweep()

    video.refresh_from_db()
    assert video.status == "failed" and video.error_code == "GENERATION_FAILED"
    assert refunds(video) == 1
    assert CreditTransaction.objects.filter(video=video, type="refund").get().amount == 60
    assert balance(auth_client.user) == start
    _audit_clean()


@pytest.mark.django_db
def test_veo_submission_rejections_refund(fake_kie, auth_client):
    _fund(auth_client.user)
    start = balance(auth_client.user)
    fake_kie.configure(generate_code=402)
    auth_client.post("/api/generate", {**GOOD_BODY, "model": "veo3"}, format="json")
    run_tasks()
    video = Video.objects.get()
    assert video.status == "failed" and video.error_code == "PROVIDER_OUT_OF_CREDITS"
    assert refunds(video) == 1 and balance(auth_client.user) == start


@pytest.mark.django_db
def test_idempotency_key_holds_for_veo(fake_kie, auth_client):
    _fund(auth_client.user)
    start = balance(auth_client.user)
    body = {**GOOD_BODY, "model": "veo3_fast"}
    first = auth_client.post("/api/generate", body, format="json", HTTP_IDEMPOTENCY_KEY="veo-1")
    again = auth_client.post("/api/generate", body, format="json", HTTP_IDEMPOTENCY_KEY="veo-1")
    other = auth_client.post(
        "/api/generate", {**body, "model": "veo3"}, format="json", HTTP_IDEMPOTENCY_KEY="veo-1"
    )

    assert first.status_code == again.status_code == 200
    assert first.json()["data"]["taskId"] == again.json()["data"]["taskId"]
    assert other.status_code == 409 and other.json()["error"]["code"] == "IDEMPOTENCY_KEY_REUSED"
    assert Video.objects.count() == 1 and balance(auth_client.user) == start - 60


@pytest.mark.django_db
def test_staff_resync_settles_a_veo_job_from_record_info(fake_kie, auth_client):
    from django.test import Client
    from django.urls import reverse

    from tests.admin.builders import staff_make

    _fund(auth_client.user)
    fake_kie.configure(job_fail_rate=1, fail_code=422, fail_msg="rejected upstream")
    auth_client.post("/api/generate", {**GOOD_BODY, "model": "veo3_fast"}, format="json")
    run_tasks()
    video = Video.objects.get()
    staff = Client()
    staff.force_login(staff_make(perms=("videos.view_video",)))

    response = staff.post(reverse("admin:videos_video_resync", args=[video.pk]))

    assert response.status_code == 302
    video.refresh_from_db()
    assert video.status == "failed" and video.error_code == "GENERATION_REJECTED"
    assert refunds(video) == 1
    page = staff.get(reverse("admin:videos_video_change", args=[video.pk])).content.decode()
    assert "veo3_fast" in page and "successFlag" in page
