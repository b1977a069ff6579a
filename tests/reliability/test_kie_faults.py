"""KIE misbehaving: every error code, timeouts (slow answers, a socket that never answers, a closed
port), malformed answers, lost callbacks. Each ends with the user whole and the audit clean."""

import json
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from credits.models import CreditTransaction
from tests.reliability.conftest import (
    CannedServer,
    SilentSocket,
    assert_ledger_whole,
    assert_settled_once,
)
from tests.videos.conftest import GOOD_BODY, balance, deliver, run_tasks
from videos.models import Video
from videos.tasks import video_submit_task

pytestmark = pytest.mark.django_db


def _generate(client) -> Video:
    response = client.post("/api/generate", GOOD_BODY, format="json")
    assert response.status_code == 200, response.json()
    return Video.objects.get(pk=response.json()["data"]["taskId"])


def _status(client, video) -> dict:
    return client.get(f"/api/generate/status/{video.pk}").json()["data"]


def _sweep() -> str:
    out = StringIO()
    call_command("generations_sync", "-v", "2", stdout=out)
    return out.getvalue()


def _age(video, seconds: int, *fields) -> None:
    Video.objects.filter(pk=video.pk).update(**dict.fromkeys(fields, timezone.now() - timedelta(seconds=seconds)))


def _deferred_submit() -> DBTaskResult:
    [task] = DBTaskResult.objects.filter(status="READY", task_path="videos.tasks.video_submit_task")
    assert task.run_after > timezone.now()
    return task


def _refunds(video) -> int:
    return CreditTransaction.objects.filter(video=video, type="refund").count()


# --- KIE's error codes ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kie_code", "error_code"),
    [
        (401, "PROVIDER_AUTH_FAILED"),
        (402, "PROVIDER_OUT_OF_CREDITS"),
        (404, "PROVIDER_NOT_FOUND"),
        (422, "PROMPT_REJECTED"),
        (451, "IMAGE_FETCH_FAILED"),
        (500, "PROVIDER_ERROR"),
        (501, "GENERATION_FAILED"),
        (505, "PROVIDER_DISABLED"),
        (433, "PROVIDER_ERROR"),  # a code KIE never documented
    ],
)
def test_a_definite_rejection_fails_and_refunds_once(fake_kie, auth_client, kie_code, error_code):
    start = balance(auth_client.user)
    fake_kie.configure(generate_code=kie_code)
    video = _generate(auth_client)

    run_tasks()

    status = _status(auth_client, video)
    assert (status["status"], status["errorCode"]) == ("failed", error_code)
    assert balance(auth_client.user) == start
    assert fake_kie.state()["generateCalls"] == 1  # never re-sent
    assert not DBTaskResult.objects.filter(status="READY").exists()
    assert_settled_once(video.pk)
    assert_ledger_whole()


@pytest.mark.parametrize("kie_code", [429, 455])
def test_rate_limit_and_maintenance_are_retried_with_backoff_then_succeed(fake_kie, auth_client, kie_code):
    start = balance(auth_client.user)
    fake_kie.configure(generate_code=kie_code)
    video = _generate(auth_client)

    run_tasks()
    first = _deferred_submit()
    video.refresh_from_db()
    assert video.status == "queued" and video.submit_started_at is None
    assert _status(auth_client, video)["status"] == "pending"

    fake_kie.configure(generate_code=200)  # KIE is back
    video_submit_task.call(**first.task_result.kwargs)

    video.refresh_from_db()
    assert video.status == "submitted" and video.submit_attempts == 2
    assert fake_kie.state()["generateCalls"] == 2
    assert balance(auth_client.user) == start - 20
    assert _refunds(video) == 0
    assert_ledger_whole()


def test_retries_give_up_after_the_last_attempt_and_refund(fake_kie, auth_client, settings):
    settings.GENERATION_SUBMIT_MAX_ATTEMPTS = 3
    start = balance(auth_client.user)
    fake_kie.configure(generate_code=429)
    video = _generate(auth_client)

    run_tasks()
    for _ in range(2):
        task = _deferred_submit()
        DBTaskResult.objects.filter(pk=task.pk).delete()
        video_submit_task.call(**task.task_result.kwargs)

    video.refresh_from_db()
    assert video.status == "failed" and video.error_code == "PROVIDER_RATE_LIMITED"
    assert fake_kie.state()["generateCalls"] == 3
    assert balance(auth_client.user) == start
    assert_settled_once(video.pk)
    assert_ledger_whole()


# --- timeouts ------------------------------------------------------------------------------------


def test_a_generate_that_times_out_is_never_resent_and_its_late_callback_settles_it(fake_kie, auth_client, settings):
    settings.KIE_READ_TIMEOUT = 0.3
    fake_kie.configure(generate_hang=1.0)  # KIE creates the job, then answers too late
    start = balance(auth_client.user)
    video = _generate(auth_client)

    run_tasks()

    video.refresh_from_db()
    assert video.status == "queued" and video.submit_outcome_unknown and video.provider_task_id is None
    assert not DBTaskResult.objects.filter(status="READY").exists()  # no blind re-send
    assert _status(auth_client, video)["status"] == "pending"
    assert fake_kie.state()["generateCalls"] == 1

    [callback] = fake_kie.wait_callbacks(1)  # KIE's job ran; its callback names our video id
    assert deliver(auth_client, callback).status_code == 200
    run_tasks()

    video.refresh_from_db()
    assert video.status == "ready" and video.provider_task_id == callback["task_id"]
    assert balance(auth_client.user) == start - 20
    assert_settled_once(video.pk)
    assert_ledger_whole()


def test_a_timed_out_generate_whose_callback_never_comes_is_refunded_by_the_sweep(fake_kie, auth_client, settings):
    settings.KIE_READ_TIMEOUT = 0.3
    fake_kie.configure(generate_hang=1.0, callback="lost")
    start = balance(auth_client.user)
    video = _generate(auth_client)
    run_tasks()

    assert "unconfirmed submissions failed and refunded: 0" in _sweep()  # still within the wait
    _age(video, settings.GENERATION_SUBMIT_UNKNOWN_SECONDS + 5, "submit_started_at")
    assert "unconfirmed submissions failed and refunded: 1" in _sweep()

    video.refresh_from_db()
    assert video.status == "failed" and video.error_code == "SUBMISSION_UNCONFIRMED"
    assert balance(auth_client.user) == start
    assert_settled_once(video.pk)
    assert_ledger_whole()


def test_a_socket_that_accepts_and_never_answers(fake_kie, auth_client, settings):
    settings.KIE_READ_TIMEOUT = 0.3
    silent = SilentSocket()
    settings.KIE_BASE_URL = silent.base_url
    try:
        video = _generate(auth_client)
        run_tasks()
    finally:
        silent.stop()

    video.refresh_from_db()
    # The request went out and nothing came back: KIE may have the job, so it is not sent again.
    assert video.status == "queued" and video.submit_outcome_unknown
    assert not DBTaskResult.objects.filter(status="READY").exists()
    _age(video, settings.GENERATION_SUBMIT_UNKNOWN_SECONDS + 5, "submit_started_at")
    _sweep()
    assert_settled_once(video.pk)
    assert_ledger_whole()


def test_a_closed_port_is_unreachable_and_retried_later(fake_kie, auth_client, settings):
    from tests.reliability.conftest import free_port

    settings.KIE_BASE_URL = f"http://127.0.0.1:{free_port()}/api/v1"
    video = _generate(auth_client)

    run_tasks()

    video.refresh_from_db()
    assert video.status == "queued" and not video.submit_outcome_unknown and video.submit_started_at is None
    task = _deferred_submit()
    settings.KIE_BASE_URL = fake_kie.server.base_url
    video_submit_task.call(**task.task_result.kwargs)
    video.refresh_from_db()
    assert video.status == "submitted"
    assert_ledger_whole()


def test_a_slow_record_is_skipped_by_the_sweep_and_settled_on_the_next_run(fake_kie, auth_client, settings):
    settings.KIE_READ_TIMEOUT = 0.3
    fake_kie.configure(callback="lost")
    video = _generate(auth_client)
    run_tasks()
    _age(video, 600, "submitted_at")
    fake_kie.configure(latency=1.0)

    output = _sweep()

    # (a GET read timeout, after urllib3's one retry, is reported as PROVIDER_UNAVAILABLE: harmless for a read)
    assert "KIE record failed (PROVIDER_" in output
    video.refresh_from_db()
    assert video.status == "submitted" and _refunds(video) == 0
    fake_kie.configure(latency=0)
    _sweep()
    run_tasks()
    video.refresh_from_db()
    assert video.status == "ready"
    assert_settled_once(video.pk)
    assert_ledger_whole()


# --- malformed answers ---------------------------------------------------------------------------

HTML_502 = b"<html><head><title>502 Bad Gateway</title></head><body><h1>502 Bad Gateway</h1></body></html>"


@pytest.mark.parametrize(
    ("status", "body", "content_type", "outcome"),
    [
        (200, b"this is not json", "text/plain", "unknown"),
        (200, json.dumps({"code": 200, "msg": "success"}).encode(), "application/json", "unknown"),
        (200, json.dumps({"code": 200, "msg": "success", "data": {}}).encode(), "application/json", "unknown"),
        (200, json.dumps({"code": "abc", "msg": "?"}).encode(), "application/json", "unknown"),
        (200, json.dumps(["not", "an", "envelope"]).encode(), "application/json", "unknown"),
        (502, HTML_502, "text/html", "unknown"),
        (504, b"Gateway Timeout", "text/plain", "unknown"),
        (503, b"Service Unavailable", "text/plain", "failed"),
    ],
)
def test_malformed_generate_answers(fake_kie, auth_client, settings, status, body, content_type, outcome):
    """A garbled success or a gateway's 502/504 page may hide a job: wait for its callback (or the
    sweep's refund), never re-send. A plain 503 is a definite refusal: refunded at once."""
    server = CannedServer(status, body, content_type)
    settings.KIE_BASE_URL = server.base_url
    start = balance(auth_client.user)
    try:
        video = _generate(auth_client)
        run_tasks()
    finally:
        server.stop()

    video.refresh_from_db()
    assert server.requests == 1
    assert not DBTaskResult.objects.filter(status="READY").exists()
    if outcome == "unknown":
        assert video.status == "queued" and video.submit_outcome_unknown
        assert balance(auth_client.user) == start - 20
        _age(video, settings.GENERATION_SUBMIT_UNKNOWN_SECONDS + 5, "submit_started_at")
        _sweep()
    else:
        assert video.status == "failed" and video.error_code == "PROVIDER_ERROR"
    assert balance(auth_client.user) == start
    assert_settled_once(video.pk)
    assert_ledger_whole()


@pytest.mark.parametrize(
    ("status", "body", "content_type"),
    [
        (200, b"<<garbage>>", "text/plain"),
        (200, json.dumps({"code": 200, "msg": "success", "data": None}).encode(), "application/json"),
        (502, HTML_502, "text/html"),
    ],
)
def test_malformed_record_answers_leave_the_job_for_the_next_sweep(fake_kie, auth_client, settings, status, body,
                                                                   content_type):
    fake_kie.configure(callback="lost")
    video = _generate(auth_client)
    run_tasks()
    _age(video, 600, "submitted_at")
    server = CannedServer(status, body, content_type)
    settings.KIE_BASE_URL = server.base_url
    try:
        output = _sweep()
    finally:
        server.stop()

    assert "KIE record failed" in output
    video.refresh_from_db()
    assert video.status == "submitted" and _refunds(video) == 0
    settings.KIE_BASE_URL = fake_kie.server.base_url
    _sweep()
    run_tasks()
    assert_settled_once(video.pk)
    assert Video.objects.get(pk=video.pk).status == "ready"
    assert_ledger_whole()


def test_a_job_hidden_behind_a_gateway_502_is_adopted_by_its_callback(fake_kie, auth_client, settings):
    """The gateway's 502 hid that KIE started the job: it is not re-sent, and its callback settles it."""
    server = CannedServer(502, HTML_502, "text/html")
    settings.KIE_BASE_URL = server.base_url
    start = balance(auth_client.user)
    try:
        video = _generate(auth_client)
        run_tasks()
    finally:
        server.stop()
    video.refresh_from_db()
    assert video.status == "queued" and video.submit_outcome_unknown
    settings.KIE_BASE_URL = fake_kie.server.base_url
    job = fake_kie.server.create_job({"callBackUrl": "http://testserver/api/kie-callback"})
    callback = {
        "url": f"http://testserver/api/kie-callback?secret={settings.KIE_CALLBACK_SECRET}&videoId={video.pk}",
        "body": fake_kie.server.callback_body(job),
    }

    assert deliver(auth_client, callback).status_code == 200
    run_tasks()

    video.refresh_from_db()
    assert video.status == "ready" and balance(auth_client.user) == start - 20
    assert server.requests == 1
    assert_settled_once(video.pk)
    assert_ledger_whole()


# --- lost callbacks ------------------------------------------------------------------------------


def test_every_lost_callback_is_settled_by_the_sweep(fake_kie, auth_client):
    from credits.services import credits_grant

    credits_grant(user=auth_client.user, amount=200, type="bonus", description="test")
    start = balance(auth_client.user)
    fake_kie.configure(callback="lost", job_fail_rate=1)
    failing = [_generate(auth_client) for _ in range(2)]
    run_tasks()
    fake_kie.configure(job_fail_rate=0)
    succeeding = [_generate(auth_client) for _ in range(3)]
    run_tasks()
    for video in failing + succeeding:
        _age(video, 600, "submitted_at")

    output = _sweep()
    run_tasks()

    assert "polled from KIE: 5 (settled 5)" in output
    assert [Video.objects.get(pk=v.pk).status for v in failing] == ["failed", "failed"]
    assert [Video.objects.get(pk=v.pk).status for v in succeeding] == ["ready"] * 3
    assert balance(auth_client.user) == start - 3 * 20
    for video in failing + succeeding:
        assert_settled_once(video.pk)
    assert "polled from KIE: 0" in _sweep()  # nothing left open
    assert_ledger_whole()
