"""routes/generate.js: start a generation, poll its status, cancel it."""

import pytest

from accounts.models import Profile
from tests.compat.conftest import SLASHES, make_failed_video, make_ready_video, run_tasks, start_generation
from tests.compat.shapes import (
    ANY,
    TIMESTAMP,
    UUID,
    VALIDATION_DETAIL,
    Enum,
    Optional,
    assert_error,
    assert_ok,
)
from tests.factories import UserFactory
from tests.videos.conftest import GOOD_BODY

pytestmark = pytest.mark.django_db

# routes/generate.js POST /: 200 (not 202) with the enhanced prompt and the parameters Joi validated
GENERATE = {
    "success": bool,
    "data": {
        "taskId": str,
        "status": str,
        "creditsDeducted": int,
        "remainingCredits": int,
        "estimatedTime": int,
        "prompt": str,
        "parameters": {"duration": int, "quality": str, "aspectRatio": str, "triggers": Optional([str])},
    },
    "message": str,
}
# routes/generate.js GET /status/:taskId, video row 'ready'
STATUS_COMPLETED = {
    "success": bool,
    "data": {
        "taskId": str,
        "status": Enum("completed"),
        "progress": int,
        "result": {"videoUrl": str, "thumbnailUrl": str | None, "duration": str | None},
        "video": {
            "id": UUID,
            "title": str,
            "createdAt": TIMESTAMP,
            "fileSize": int | None,
            "quality": str,
            "aspectRatio": str,
        },
        "estimatedTimeRemaining": int,
    },
}
# routes/generate.js GET /status/:taskId, video row 'failed': error is the row's error_message, a string
STATUS_FAILED = {
    "success": bool,
    "data": {
        "taskId": str,
        "status": Enum("failed"),
        "progress": int,
        "error": str,
        "estimatedTimeRemaining": int,
    },
}
# routes/generate.js GET /status/:taskId, still running: KIE's status mapped, plus the video row's summary
STATUS_RUNNING = {
    "success": bool,
    "data": {
        "taskId": str,
        "status": Enum("pending", "processing"),
        "progress": int,
        "result": Optional(ANY),  # kieStatus.result, undefined while running
        "error": Optional(str | None),  # kieStatus.error, undefined while running
        "estimatedTimeRemaining": int,
        "video": {
            "id": UUID,
            "title": str,
            "prompt": str,
            "triggers": [str],
            "createdAt": TIMESTAMP,
            "updatedAt": TIMESTAMP,
        },
    },
}
# Express never had a successful cancel (a defect): the answer to one is the envelope with the task
CANCELLED = {"success": bool, "data": {"taskId": str}, "message": str}


# --- POST /generate -----------------------------------------------------------------------------------


@SLASHES
def test_generate_answers_200_with_the_task(auth_client, fake_kie, slash):
    # routes/generate.js POST /
    response = auth_client.post(f"/api/generate{slash}", GOOD_BODY, format="json")
    body = assert_ok(response, GENERATE)
    data = body["data"]
    assert (data["status"], data["creditsDeducted"], data["remainingCredits"], data["estimatedTime"]) == (
        "pending", 20, 0, 120,
    )
    assert data["prompt"].startswith("ASMR video: ")
    sent = {key: data["parameters"].get(key) for key in ("duration", "quality", "aspectRatio", "triggers")}
    assert sent == {"duration": 5, "quality": "720p", "aspectRatio": "16:9", "triggers": ["soap"]}


def test_generate_without_enough_credits_is_insufficient_credits_400(auth_client, fake_kie):
    # routes/generate.js POST /: checkUserCredits fails -> 400 (not 402) INSUFFICIENT_CREDITS {required, available}
    response = auth_client.post("/api/generate", {**GOOD_BODY, "duration": 8}, format="json")
    error = assert_error(response, 400, "INSUFFICIENT_CREDITS", details={"required": int, "available": int})
    assert error["details"] == {"required": 30, "available": 20}


@pytest.mark.parametrize(
    "change",
    [{"prompt": "too short"}, {"duration": 6}, {"quality": "4k"}, {"aspectRatio": "2:1"},
     {"duration": 8, "quality": "1080p"}],
    ids=["prompt", "duration", "quality", "aspect", "8s-1080p"],
)
def test_generate_with_invalid_fields_is_a_validation_error(auth_client, fake_kie, change):
    # validation.js videoGenerationSchema (and its custom 8s/1080p rule)
    response = auth_client.post("/api/generate", {**GOOD_BODY, **change}, format="json")
    assert_error(response, 400, "VALIDATION_ERROR", details=[VALIDATION_DETAIL])


def test_generations_are_limited_with_video_generation_limit_exceeded(rich_client, fake_kie, settings):
    # rate-limit.js videoGenerationLimit: per user per hour, 429 {code, message, retryAfter, details{limit, windowMs}}
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "generate": "1/h"}
    start_generation(rich_client)
    response = rich_client.post("/api/generate", GOOD_BODY, format="json")
    error = assert_error(response, 429, "VIDEO_GENERATION_LIMIT_EXCEEDED", retryAfter=str,
                         details={"limit": int, "windowMs": int})
    assert error["retryAfter"] == "1 hour"
    assert error["details"] == {"limit": 1, "windowMs": 3600000}


# --- GET /generate/status/:taskId ---------------------------------------------------------------------


@SLASHES
def test_status_of_a_job_not_yet_finished(auth_client, fake_kie, slash):
    # routes/generate.js GET /status/:taskId, record not ready/failed: KIE status + the video summary
    task_id = start_generation(auth_client)
    body = assert_ok(auth_client.get(f"/api/generate/status/{task_id}{slash}"), STATUS_RUNNING)
    assert body["data"]["taskId"] == task_id
    run_tasks()
    assert_ok(auth_client.get(f"/api/generate/status/{task_id}"), STATUS_RUNNING)


@SLASHES
def test_status_of_a_completed_job(rich_client, fake_kie, slash):
    # routes/generate.js GET /status/:taskId, record 'ready'
    task_id = make_ready_video(rich_client, fake_kie)
    body = assert_ok(rich_client.get(f"/api/generate/status/{task_id}{slash}"), STATUS_COMPLETED)
    data = body["data"]
    assert (data["progress"], data["estimatedTimeRemaining"], data["result"]["duration"]) == (100, 0, "5")


def test_status_of_a_failed_job(rich_client, fake_kie):
    # routes/generate.js GET /status/:taskId, record 'failed': data.error is a string
    task_id = make_failed_video(rich_client, fake_kie)
    body = assert_ok(rich_client.get(f"/api/generate/status/{task_id}"), STATUS_FAILED)
    assert (body["data"]["progress"], body["data"]["estimatedTimeRemaining"]) == (0, 0)
    assert body["data"]["error"]


def test_status_of_another_users_job_is_not_found(auth_client, fake_kie, make_auth_client):
    # routes/generate.js answered 403 ACCESS_DENIED, telling that the task exists; here it is 404 as an
    # unknown task (deliberate difference, docs/migrating-from-express.md)
    task_id = start_generation(auth_client)
    other = make_auth_client(UserFactory())
    assert_error(other.get(f"/api/generate/status/{task_id}"), 404, "TASK_NOT_FOUND")


# --- POST /generate/cancel/:taskId --------------------------------------------------------------------


@SLASHES
def test_cancel_of_a_job_kie_does_not_have_yet_cancels_and_refunds(auth_client, fake_kie, slash):
    # routes/generate.js POST /cancel/:taskId never cancelled (a defect): a job not yet sent is cancelled
    # and refunded, and its status then reads failed
    task_id = start_generation(auth_client)
    body = assert_ok(auth_client.post(f"/api/generate/cancel/{task_id}{slash}"), CANCELLED)
    assert body["data"]["taskId"] == task_id
    assert Profile.objects.get(user=auth_client.user).credits == 20
    assert_ok(auth_client.get(f"/api/generate/status/{task_id}"), STATUS_FAILED)


def test_cancel_of_a_job_kie_has_is_cancellation_not_supported_with_200(auth_client, fake_kie):
    # routes/generate.js POST /cancel/:taskId: res.json (HTTP 200) {success: false, error: {code:
    # CANCELLATION_NOT_SUPPORTED}} once the provider has the job
    task_id = start_generation(auth_client)
    run_tasks()
    assert_error(auth_client.post(f"/api/generate/cancel/{task_id}"), 200, "CANCELLATION_NOT_SUPPORTED")


def test_cancel_of_a_completed_job_is_cannot_cancel_completed(rich_client, fake_kie):
    # routes/generate.js POST /cancel/:taskId: status completed -> 400 CANNOT_CANCEL_COMPLETED
    task_id = make_ready_video(rich_client, fake_kie)
    assert_error(rich_client.post(f"/api/generate/cancel/{task_id}"), 400, "CANNOT_CANCEL_COMPLETED")


def test_cancel_of_a_failed_job_is_already_failed(rich_client, fake_kie):
    # routes/generate.js POST /cancel/:taskId: status failed -> 400 ALREADY_FAILED
    task_id = make_failed_video(rich_client, fake_kie)
    assert_error(rich_client.post(f"/api/generate/cancel/{task_id}"), 400, "ALREADY_FAILED")
