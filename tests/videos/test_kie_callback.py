"""POST /api/kie-callback: authenticated, idempotent, and it never fetches what a request body names."""

import time

import pytest

from tests.videos.conftest import GOOD_BODY, balance, deliver, refunds, run_tasks
from videos.kie.signing import webhook_signature
from videos.models import Video, VideoEvent


def _submitted(client, fake_kie, **knobs):
    fake_kie.configure(**knobs)
    task_id = client.post("/api/generate", GOOD_BODY, format="json").json()["data"]["taskId"]
    run_tasks()
    return Video.objects.get(pk=task_id)


def _signed(task_id, *, key="whk", at=None):
    timestamp = str(int(at if at is not None else time.time()))
    return {
        "X-Webhook-Timestamp": timestamp,
        "X-Webhook-Signature": webhook_signature(key=key, task_id=task_id, timestamp=timestamp),
    }


@pytest.mark.django_db
def test_duplicated_success_callbacks_move_once_and_copy_once(fake_kie, auth_client):
    video = _submitted(auth_client, fake_kie, callback_copies=3)
    callbacks = fake_kie.wait_callbacks(3)

    answers = [deliver(auth_client, callback) for callback in callbacks]

    assert [a.status_code for a in answers] == [200, 200, 200]
    assert answers[0].json()["code"] == 200
    assert run_tasks() == 1  # one copy task, not three
    video.refresh_from_db()
    assert video.status == "ready" and video.copy_attempts == 1
    # A late duplicate after the video is ready changes nothing.
    assert deliver(auth_client, callbacks[0]).status_code == 200
    assert run_tasks() == 0
    assert VideoEvent.objects.filter(video=video, source="callback").count() == 4


@pytest.mark.django_db
def test_duplicated_failure_callbacks_refund_exactly_once(fake_kie, auth_client):
    start = balance(auth_client.user)
    video = _submitted(auth_client, fake_kie, job_fail_rate=1, callback_copies=2)

    for callback in fake_kie.wait_callbacks(2):
        assert deliver(auth_client, callback).status_code == 200

    video.refresh_from_db()
    assert video.status == "failed" and video.error_code == "GENERATION_REJECTED"
    assert refunds(video) == 1 and balance(auth_client.user) == start


@pytest.mark.django_db
def test_failure_after_success_is_ignored(fake_kie, auth_client):
    video = _submitted(auth_client, fake_kie)
    [success] = fake_kie.wait_callbacks(1)
    failure = {**success, "body": {"code": 500, "msg": "boom", "data": {"task_id": video.provider_task_id}}}

    deliver(auth_client, success)
    deliver(auth_client, failure)
    run_tasks()

    video.refresh_from_db()
    assert video.status == "ready" and refunds(video) == 0


@pytest.mark.django_db
def test_success_after_failure_is_ignored(fake_kie, auth_client):
    video = _submitted(auth_client, fake_kie, job_fail_rate=1, fail_code=500)
    [failure] = fake_kie.wait_callbacks(1)
    success = {
        **failure,
        "body": {
            "code": 200,
            "msg": "ok",
            "data": {"task_id": video.provider_task_id, "video_url": "", "image_url": ""},
        },
    }

    deliver(auth_client, failure)
    deliver(auth_client, success)

    video.refresh_from_db()
    assert video.status == "failed" and video.error_code == "GENERATION_FAILED" and refunds(video) == 1
    assert run_tasks() == 0


@pytest.mark.django_db
@pytest.mark.parametrize("secret", [None, "", "wrong-secret"])
def test_callback_without_the_url_secret_is_refused(fake_kie, auth_client, api_client, secret):
    video = _submitted(auth_client, fake_kie)
    [callback] = fake_kie.wait_callbacks(1)
    query = "" if secret is None else f"?secret={secret}"

    response = api_client.post(f"/api/kie-callback{query}", callback["body"], format="json")

    assert response.status_code == 401 and response.json()["error"]["code"] == "INVALID_CALLBACK_AUTH"
    video.refresh_from_db()
    assert video.status == "submitted"


@pytest.mark.django_db
@pytest.mark.parametrize(
    "body",
    [
        [],
        {"code": 200},
        {"code": "ok", "data": {"task_id": "t"}},
        {"code": 200, "data": {"task_id": ""}},
        {"code": 200, "data": {"task_id": 12}},
        {"code": 200, "data": {"task_id": "t", "video_url": ["x"]}},
    ],
)
def test_malformed_callbacks_are_400_and_change_nothing(fake_kie, api_client, body):
    response = api_client.post("/api/kie-callback?secret=test-callback-secret", body, format="json")

    assert response.status_code == 400 and response.json()["error"]["code"] == "INVALID_CALLBACK"
    assert VideoEvent.objects.count() == 0


@pytest.mark.django_db
def test_signed_callbacks_when_a_hmac_key_is_configured(fake_kie, auth_client, settings):
    settings.KIE_WEBHOOK_HMAC_KEY = "whk"
    video = _submitted(auth_client, fake_kie)
    [callback] = fake_kie.wait_callbacks(1)
    task_id = video.provider_task_id

    assert deliver(auth_client, callback).status_code == 401  # unsigned
    assert deliver(auth_client, callback, headers=_signed(task_id, key="other")).status_code == 401
    assert deliver(auth_client, callback, headers=_signed(task_id, at=time.time() - 3600)).status_code == 401
    assert deliver(auth_client, callback, headers=_signed("another-task")).status_code == 401
    video.refresh_from_db()
    assert video.status == "submitted"

    assert deliver(auth_client, callback, headers=_signed(task_id)).status_code == 200
    video.refresh_from_db()
    assert video.status == "storing"


@pytest.mark.django_db
def test_file_urls_from_the_body_on_foreign_hosts_are_never_fetched(fake_kie, auth_client):
    video = _submitted(auth_client, fake_kie)
    [callback] = fake_kie.wait_callbacks(1)
    forged = {
        **callback["body"],
        "data": {
            **callback["body"]["data"],
            "video_url": "https://evil.example/x.mp4",
            "image_url": "http://169.254.169.254/latest",
        },
    }

    assert deliver(auth_client, {**callback, "body": forged}).status_code == 200
    video.refresh_from_db()
    assert video.status == "storing" and video.provider_video_url == ""

    run_tasks()  # the copy asks KIE's record for the real URLs

    video.refresh_from_db()
    assert video.status == "ready"
    assert video.provider_video_url == f"{fake_kie.url}/files/{video.provider_task_id}.mp4"


@pytest.mark.django_db
def test_callback_for_an_unknown_task_is_acknowledged_and_changes_nothing(fake_kie, api_client):
    body = {"code": 200, "msg": "ok", "data": {"task_id": "nope", "video_url": "", "image_url": ""}}

    response = api_client.post("/api/kie-callback?secret=test-callback-secret", body, format="json")

    assert response.status_code == 200 and response.json()["msg"] == "unknown task"
    assert VideoEvent.objects.count() == 0


@pytest.mark.django_db
def test_a_video_hint_cannot_hijack_a_video_that_has_a_task_id(fake_kie, auth_client):
    video = _submitted(auth_client, fake_kie)
    body = {"code": 400, "msg": "x", "data": {"task_id": "attacker-task"}}

    auth_client.post(f"/api/kie-callback?secret=test-callback-secret&videoId={video.pk}", body, format="json")

    video.refresh_from_db()
    assert video.status == "submitted" and video.provider_task_id != "attacker-task" and refunds(video) == 0
