"""Submission to KIE: each rejection fails with exactly one refund; only safe things are retried."""

import threading

import pytest
from django.core.management import call_command
from django.db import connection
from django_tasks_db.models import DBTaskResult

from billing.models import Plan
from credits.models import CreditTransaction
from tests.factories import UserFactory
from tests.videos.conftest import GOOD_BODY, balance, deliver, refunds, run_tasks
from videos.models import Video
from videos.services import video_submit
from videos.tasks import video_submit_task


def _start(client, **extra):
    response = client.post("/api/generate", {**GOOD_BODY, **extra}, format="json")
    assert response.status_code == 200, response.json()
    return Video.objects.get(pk=response.json()["data"]["taskId"])


EXPECTED = {
    401: "PROVIDER_AUTH_FAILED",
    402: "PROVIDER_OUT_OF_CREDITS",
    404: "PROVIDER_NOT_FOUND",
    422: "PROMPT_REJECTED",
    451: "IMAGE_FETCH_FAILED",
    500: "PROVIDER_ERROR",
    501: "GENERATION_FAILED",
    505: "PROVIDER_DISABLED",
}


@pytest.mark.django_db
@pytest.mark.parametrize("kie_code", sorted(EXPECTED))
def test_each_kie_rejection_fails_the_video_with_exactly_one_refund(fake_kie, auth_client, kie_code):
    fake_kie.configure(generate_code=kie_code)
    start = balance(auth_client.user)
    video = _start(auth_client)

    run_tasks()

    video.refresh_from_db()
    assert video.status == "failed" and video.error_code == EXPECTED[kie_code]
    assert refunds(video) == 1 and balance(auth_client.user) == start
    status = auth_client.get(f"/api/generate/status/{video.pk}").json()["data"]
    assert status["status"] == "failed" and status["errorCode"] == EXPECTED[kie_code]
    assert status["refund"]["credits"] == 20
    # Nothing settles it twice: the task again, a sweep, a late callback.
    video_submit_task.call(video_id=str(video.pk))
    call_command("generations_sync", verbosity=0)
    assert refunds(video) == 1 and balance(auth_client.user) == start
    assert fake_kie.state()["generateCalls"] == 1


@pytest.mark.django_db
@pytest.mark.parametrize("kie_code", [429, 455])
def test_rate_limit_and_maintenance_are_retried_later(fake_kie, auth_client, kie_code):
    fake_kie.configure(generate_code=kie_code)
    video = _start(auth_client)

    run_tasks()

    video.refresh_from_db()
    assert video.status == "queued" and video.submit_started_at is None and refunds(video) == 0
    deferred = DBTaskResult.objects.filter(status="READY", run_after__isnull=False)
    assert deferred.count() == 1
    assert run_tasks() == 0  # not before its run_after
    fake_kie.configure(generate_code=200)
    video_submit_task.call(**deferred.get().task_result.kwargs)

    video.refresh_from_db()
    assert video.status == "submitted" and video.submit_attempts == 2 and refunds(video) == 0


@pytest.mark.django_db
def test_retries_stop_after_the_limit_with_one_refund(fake_kie, auth_client, settings):
    settings.GENERATION_SUBMIT_MAX_ATTEMPTS = 2
    fake_kie.configure(generate_code=429)
    video = _start(auth_client)

    for _ in range(4):
        video_submit(video_id=video.pk)

    video.refresh_from_db()
    assert video.status == "failed" and video.error_code == "PROVIDER_RATE_LIMITED"
    assert refunds(video) == 1 and fake_kie.state()["generateCalls"] == 2


@pytest.mark.django_db
def test_unreachable_kie_is_retried(fake_kie, auth_client, settings):
    settings.KIE_BASE_URL = "http://127.0.0.1:9/api/v1"  # nothing listens on the discard port
    video = _start(auth_client)

    run_tasks()

    video.refresh_from_db()
    assert video.status == "queued" and video.submit_started_at is None and refunds(video) == 0


@pytest.mark.django_db
def test_timeout_after_sending_is_never_resent_and_the_callback_reconciles_it(
    fake_kie, auth_client, settings
):
    settings.KIE_READ_TIMEOUT = 0.3
    fake_kie.configure(generate_hang=1.0)
    video = _start(auth_client)

    run_tasks()

    video.refresh_from_db()
    assert video.status == "queued" and video.submit_outcome_unknown and not video.provider_task_id
    video_submit_task.call(video_id=str(video.pk))
    call_command("generations_sync", verbosity=0)
    assert fake_kie.state()["generateCalls"] == 1  # never re-sent
    # Cancelling is refused: KIE may have the job.
    assert (
        auth_client.post(f"/api/generate/cancel/{video.pk}").json()["error"]["code"]
        == "CANCELLATION_NOT_SUPPORTED"
    )

    [callback] = fake_kie.wait_callbacks(1)
    assert deliver(auth_client, callback).status_code == 200

    video.refresh_from_db()
    assert video.status == "storing" and video.provider_task_id == callback["task_id"]
    run_tasks()
    video.refresh_from_db()
    assert video.status == "ready" and refunds(video) == 0


@pytest.mark.django_db
def test_timeout_after_sending_without_callback_fails_and_refunds_after_the_deadline(
    fake_kie, auth_client, settings
):
    settings.KIE_READ_TIMEOUT = 0.3
    fake_kie.configure(generate_hang=1.0, callback="lost")
    start = balance(auth_client.user)
    video = _start(auth_client)
    run_tasks()

    call_command("generations_sync", verbosity=0)
    video.refresh_from_db()
    assert video.status == "queued"  # still inside the grace period

    settings.GENERATION_SUBMIT_UNKNOWN_SECONDS = 0
    call_command("generations_sync", verbosity=0)
    call_command("generations_sync", verbosity=0)

    video.refresh_from_db()
    assert video.status == "failed" and video.error_code == "SUBMISSION_UNCONFIRMED"
    assert refunds(video) == 1 and balance(auth_client.user) == start


# --- validation and entitlements ------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    "extra",
    [
        {"prompt": "too short"},
        {"prompt": "x" * 1801},
        {"prompt": "a prompt with a \x00 control char"},
        {"duration": 6},
        {"duration": 8, "quality": "1080p"},
        {"quality": "4k"},
        {"aspectRatio": "2:1"},
        {"triggers": ["soap", "ice", "water", "honey"]},
        {"triggers": ["<b>soap</b>"]},
        {"triggers": ["two words"]},
        {"triggers": ["x" * 21]},
        {"imageUrl": "http://example.com/a.jpg"},
        {"imageUrl": "https://127.0.0.1/a.jpg"},
        {"imageUrl": "https://10.0.0.5/a.jpg"},
        {"imageUrl": "https://[::1]/a.jpg"},
        {"imageUrl": "https://localhost/a.jpg"},
        {"imageUrl": "https://169.254.169.254/latest/meta-data"},
        {"waterMark": "<script>"},
    ],
)
def test_invalid_requests_are_refused_and_charge_nothing(fake_kie, auth_client, extra):
    start = balance(auth_client.user)

    response = auth_client.post("/api/generate", {**GOOD_BODY, **extra}, format="json")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "VALIDATION_ERROR"
    assert Video.objects.count() == 0 and balance(auth_client.user) == start


@pytest.mark.django_db
def test_known_and_plain_triggers_expand_into_the_prompt(fake_kie, auth_client):
    response = auth_client.post(
        "/api/generate",
        {**GOOD_BODY, "triggers": ["Soap", "cutting"], "imageUrl": "https://cdn.example.com/a.jpg"},
        format="json",
    )

    assert response.status_code == 200
    assert response.json()["data"]["prompt"].endswith("Featuring soap cutting and squishing sounds, cutting.")


@pytest.mark.django_db
def test_1080p_needs_the_pro_plan(fake_kie, make_auth_client):
    Plan.objects.update_or_create(
        slug="pro",
        defaults={"name": "Pro", "price": "49.90", "credits_per_period": 1500, "max_quality": "1080p"},
    )
    free = make_auth_client()
    response = free.post("/api/generate", {**GOOD_BODY, "quality": "1080p"}, format="json")
    assert response.status_code == 403 and response.json()["error"]["code"] == "PLAN_UPGRADE_REQUIRED"

    pro = make_auth_client(UserFactory())
    # What billing records on a profile it moves to the pro plan (the plan type and what the plan grants).
    pro.user.profile.__class__.objects.filter(user=pro.user).update(
        plan_type="pro", plan_max_quality="1080p", credits=100
    )
    response = pro.post("/api/generate", {**GOOD_BODY, "quality": "1080p"}, format="json")
    assert response.status_code == 200 and response.json()["data"]["creditsDeducted"] == 25


@pytest.mark.django_db
def test_start_writes_the_charge_the_video_and_its_counters_together(fake_kie, auth_client):
    video = _start(auth_client)

    debit = CreditTransaction.objects.get(user=auth_client.user, type="usage")
    assert (debit.amount, debit.balance_after, debit.video_id) == (-20, 0, video.pk)
    assert video.debit_id == debit.pk and video.credit_cost == 20
    profile = auth_client.user.profile.__class__.objects.get(user=auth_client.user)
    assert (profile.credits, profile.total_credits_spent, profile.total_videos_created) == (0, 20, 1)
    assert [e.summary for e in video.events.all()] == ["accepted; credits reserved"]
    assert DBTaskResult.objects.filter(args_kwargs__kwargs__video_id=str(video.pk)).count() == 1


@pytest.mark.django_db
def test_insufficient_credits_is_400_with_details_and_no_video(fake_kie, auth_client):
    response = auth_client.post("/api/generate", {**GOOD_BODY, "duration": 8}, format="json")

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "INSUFFICIENT_CREDITS" and error["details"] == {"required": 30, "available": 20}
    assert Video.objects.count() == 0


@pytest.mark.django_db
def test_idempotency_key_returns_the_first_job_and_charges_once(fake_kie, auth_client):
    headers = {"HTTP_IDEMPOTENCY_KEY": "key-1"}
    first = auth_client.post("/api/generate", GOOD_BODY, format="json", **headers)
    second = auth_client.post("/api/generate", GOOD_BODY, format="json", **headers)
    other = auth_client.post(
        "/api/generate", {**GOOD_BODY, "prompt": "another prompt entirely"}, format="json", **headers
    )

    assert first.status_code == second.status_code == 200
    assert first.json()["data"]["taskId"] == second.json()["data"]["taskId"]
    assert other.status_code == 409 and other.json()["error"]["code"] == "IDEMPOTENCY_KEY_REUSED"
    assert CreditTransaction.objects.filter(user=auth_client.user, type="usage").count() == 1


@pytest.mark.django_db
def test_generate_is_rate_limited_per_user(fake_kie, make_auth_client, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "generate": "2/h"}
    client = make_auth_client()
    codes = [client.post("/api/generate", {"prompt": "x"}, format="json").status_code for _ in range(3)]
    assert codes == [400, 400, 429]


# --- concurrency (PostgreSQL, real threads) ----------------------------------------------------------


def _concurrently(calls):
    barrier = threading.Barrier(len(calls))
    results = [None] * len(calls)

    def run(index, call):
        try:
            barrier.wait()
            results[index] = call()
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_concurrent_generations_cannot_spend_the_same_credits(fake_kie, make_auth_client):
    client_a = make_auth_client()
    client_b = make_auth_client(client_a.user)

    codes = _concurrently(
        [
            lambda c=c: c.post("/api/generate", GOOD_BODY, format="json").status_code
            for c in (client_a, client_b)
        ]
    )

    assert sorted(codes) == [200, 400]
    assert balance(client_a.user) == 0 and Video.objects.count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_requests_with_one_idempotency_key_make_one_job(fake_kie, make_auth_client):
    client = make_auth_client()
    client.user.profile.__class__.objects.filter(user=client.user).update(credits=100)
    CreditTransaction.objects.filter(user=client.user).update(amount=100, balance_after=100)

    answers = _concurrently(
        [
            lambda: client.post("/api/generate", GOOD_BODY, format="json", HTTP_IDEMPOTENCY_KEY="same")
            for _ in range(3)
        ]
    )

    assert [a.status_code for a in answers] == [200, 200, 200]
    assert len({a.json()["data"]["taskId"] for a in answers}) == 1
    assert Video.objects.count() == 1 and balance(client.user) == 80
