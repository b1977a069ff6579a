"""Settlement within minutes with the default settings: the clock is moved by ageing the rows; the
sweep (manage.py generations_sync, every minute) settles lost jobs, lost submissions and stuck copies."""

from datetime import timedelta

import pytest
from django.utils import timezone

from credits.models import CreditTransaction
from tests.videos.conftest import GOOD_BODY, balance, run_tasks
from videos.models import Video
from videos.services import generations_sweep

pytestmark = pytest.mark.django_db
MINUTE = 60


def _generate(client) -> Video:
    response = client.post("/api/generate", GOOD_BODY, format="json")
    assert response.status_code == 200, response.json()
    return Video.objects.get(pk=response.json()["data"]["taskId"])


def _age(video, seconds: int, *fields) -> None:
    Video.objects.filter(pk=video.pk).update(**dict.fromkeys(fields, timezone.now() - timedelta(seconds=seconds)))


def _refunded(video) -> bool:
    return CreditTransaction.objects.filter(video=video, type="refund").exists()


def test_a_job_kie_has_no_record_of_is_refunded_five_minutes_after_submission(fake_kie, auth_client):
    start = balance(auth_client.user)
    video = _generate(auth_client)
    run_tasks()
    Video.objects.filter(pk=video.pk).update(provider_task_id="task-kie-lost")  # KIE answers 404 for it
    _age(video, 4 * MINUTE, "submitted_at", "created_at")
    generations_sweep()
    assert Video.objects.get(pk=video.pk).status == "submitted"  # polled, still within the wait

    _age(video, 5 * MINUTE + 10, "submitted_at", "created_at")
    generations_sweep()

    video.refresh_from_db()
    assert (video.status, video.error_code) == ("failed", "GENERATION_LOST")
    assert balance(auth_client.user) == start and _refunded(video)


def test_a_job_kie_still_runs_is_refunded_twenty_minutes_after_it_started(fake_kie, auth_client):
    fake_kie.configure(job_seconds=3600)
    video = _generate(auth_client)
    run_tasks()
    _age(video, 19 * MINUTE, "submitted_at", "created_at")
    generations_sweep()
    assert Video.objects.get(pk=video.pk).status in ("submitted", "processing")

    _age(video, 20 * MINUTE + 10, "submitted_at", "created_at")
    generations_sweep()
    video.refresh_from_db()
    assert (video.status, video.error_code) == ("failed", "GENERATION_TIMEOUT") and _refunded(video)


def test_a_submission_lost_with_its_worker_is_refunded_within_five_minutes(fake_kie, auth_client):
    video = _generate(auth_client)
    # The worker claimed the submission and died before KIE answered: the outcome is unknown.
    _age(video, 4 * MINUTE, "submit_started_at")
    assert generations_sweep()["unconfirmed"] == 0
    _age(video, 5 * MINUTE + 10, "submit_started_at")
    assert generations_sweep()["unconfirmed"] == 1
    video.refresh_from_db()
    assert (video.status, video.error_code) == ("failed", "SUBMISSION_UNCONFIRMED") and _refunded(video)


def test_a_submission_task_never_claimed_is_requeued_within_minutes(fake_kie, auth_client):
    video = _generate(auth_client)
    _age(video, 2 * MINUTE + 10, "updated_at")
    assert generations_sweep()["requeued"] == 1


def test_a_stuck_copy_is_retried_within_five_minutes_and_refunded_after_an_hour(fake_kie, auth_client):
    video = _generate(auth_client)
    # A copy whose worker died just after taking its lease: the lease (4 minutes) runs out, then it is retried.
    now = timezone.now()
    Video.objects.filter(pk=video.pk).update(
        status="storing", provider_task_id="task-stuck", copy_lease_until=now + timedelta(seconds=4 * MINUTE),
        updated_at=now - timedelta(seconds=3 * MINUTE),
    )
    assert generations_sweep()["copies"] == 0  # the lease still holds
    Video.objects.filter(pk=video.pk).update(copy_lease_until=now - timedelta(seconds=1))
    assert generations_sweep()["copies"] == 1

    _age(video, 61 * MINUTE, "created_at", "updated_at")
    assert generations_sweep()["copy_failed"] == 1
    video.refresh_from_db()
    assert (video.status, video.error_code) == ("failed", "STORAGE_FAILED") and _refunded(video)
