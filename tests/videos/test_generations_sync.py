"""manage.py generations_sync: settles lost callbacks, deadlines and stuck work; safe to repeat."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from credits.services import credits_grant
from tests.videos.conftest import GOOD_BODY, balance, refunds, run_tasks
from videos.models import Video


def _submitted(client, fake_kie, **knobs) -> Video:
    fake_kie.configure(**knobs)
    task_id = client.post("/api/generate", GOOD_BODY, format="json").json()["data"]["taskId"]
    run_tasks()
    video = Video.objects.get(pk=task_id)
    assert video.status == "submitted"
    return video


def _age(video, seconds, *fields):
    past = timezone.now() - timedelta(seconds=seconds)
    Video.objects.filter(pk=video.pk).update(**dict.fromkeys(fields, past))


def _sweep() -> str:
    out = StringIO()
    call_command("generations_sync", stdout=out)
    return out.getvalue()


@pytest.mark.django_db
def test_the_sweep_settles_a_job_whose_callback_was_lost(fake_kie, auth_client):
    video = _submitted(auth_client, fake_kie, callback="lost")
    assert "polled from KIE: 0" in _sweep()  # within the callback grace period: left alone

    _age(video, 600, "submitted_at")
    output = _sweep()

    assert "polled from KIE: 1 (settled 1)" in output
    video.refresh_from_db()
    assert video.status == "storing"
    run_tasks()
    video.refresh_from_db()
    assert video.status == "ready" and refunds(video) == 0


@pytest.mark.django_db
def test_the_sweep_settles_a_failed_job_from_the_record_with_one_refund(fake_kie, auth_client):
    start = balance(auth_client.user)
    video = _submitted(
        auth_client, fake_kie, callback="lost", job_fail_rate=1, record_shape="old", fail_code=400
    )
    _age(video, 600, "submitted_at")

    _sweep()
    _age(video, 600, "submitted_at")
    _sweep()

    video.refresh_from_db()
    assert video.status == "failed" and video.error_code == "GENERATION_REJECTED"
    assert refunds(video) == 1 and balance(auth_client.user) == start


@pytest.mark.django_db
def test_a_job_past_the_deadline_fails_and_refunds_once(fake_kie, auth_client):
    start = balance(auth_client.user)
    video = _submitted(auth_client, fake_kie, callback="lost", job_seconds=600)
    _age(video, 7200, "submitted_at", "created_at")

    output = _sweep()
    _sweep()

    assert "past the deadline, failed and refunded: 1" in output
    video.refresh_from_db()
    assert video.status == "failed" and video.error_code == "GENERATION_TIMEOUT"
    assert refunds(video) == 1 and balance(auth_client.user) == start


@pytest.mark.django_db
def test_stuck_copies_and_lost_submissions_are_requeued(fake_kie, auth_client):
    credits_grant(user=auth_client.user, amount=100, type="bonus", description="test")
    video = _submitted(auth_client, fake_kie, callback="lost")
    Video.objects.filter(pk=video.pk).update(status="storing")
    lost = auth_client.post("/api/generate", GOOD_BODY, format="json")
    lost_video = Video.objects.get(pk=lost.json()["data"]["taskId"])
    DBTaskResult.objects.all().delete()  # the worker lost every task
    _age(video, 600, "updated_at")
    _age(lost_video, 600, "updated_at")

    output = _sweep()

    assert "copies re-queued: 1" in output and "re-queued submissions: 1" in output
    run_tasks()
    video.refresh_from_db()
    lost_video.refresh_from_db()
    assert video.status == "ready" and lost_video.status == "submitted"
    assert "copies re-queued: 0" in _sweep()


@pytest.mark.django_db
def test_a_copy_stuck_past_its_deadline_fails_and_refunds(fake_kie, auth_client):
    video = _submitted(auth_client, fake_kie, callback="lost")
    Video.objects.filter(pk=video.pk).update(status="storing")
    _age(video, 4 * 24 * 3600, "updated_at", "created_at")

    _sweep()

    video.refresh_from_db()
    assert video.status == "failed" and video.error_code == "STORAGE_FAILED" and refunds(video) == 1


@pytest.mark.django_db
def test_a_task_a_stopped_worker_left_running_is_closed_and_run_again(fake_kie, settings):
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage

    from aiasmr.api.health import check_worker
    from videos.tasks import storage_files_delete

    path = default_storage.save("videos/orphan.mp4", ContentFile(b"x"))
    storage_files_delete.enqueue(paths=[path])
    storage_files_delete.enqueue(paths=["videos/still-running.mp4"])
    abandoned, running = DBTaskResult.objects.order_by("enqueued_at")
    # A worker claimed both and was killed; one of them claimed long ago.
    DBTaskResult.objects.filter(pk=abandoned.pk).update(
        status="RUNNING", started_at=timezone.now() - timedelta(seconds=settings.WORKER_STALE_SECONDS + 60)
    )
    DBTaskResult.objects.filter(pk=running.pk).update(status="RUNNING", started_at=timezone.now())
    with pytest.raises(RuntimeError, match="1 running longer"):
        check_worker()

    assert "run again: 1" in _sweep()
    assert "run again: 0" in _sweep()  # once

    abandoned.refresh_from_db()
    assert (abandoned.status, abandoned.exception_class_path) == ("FAILED", "videos.tasks.WorkerLost")
    assert DBTaskResult.objects.get(pk=running.pk).status == "RUNNING"  # a live worker's task: left alone
    rerun = DBTaskResult.objects.get(status="READY")
    assert rerun.task_path == abandoned.task_path and rerun.args_kwargs == abandoned.args_kwargs
    assert check_worker() == {"waiting": 0, "stalled": 0}
    run_tasks()
    assert not default_storage.exists(path)


@pytest.mark.django_db
def test_an_abandoned_task_the_code_no_longer_has_is_closed_without_breaking_the_sweep(fake_kie, settings):
    from videos.tasks import storage_files_delete

    storage_files_delete.enqueue(paths=["videos/x.mp4"])
    DBTaskResult.objects.update(
        task_path="videos.tasks.renamed_long_ago",
        status="RUNNING",
        started_at=timezone.now() - timedelta(seconds=settings.WORKER_STALE_SECONDS + 60),
    )

    assert "run again: 0" in _sweep()
    assert list(DBTaskResult.objects.values_list("status", flat=True)) == ["FAILED"]
