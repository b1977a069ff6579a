"""Storage (an S3-compatible server over HTTP) failing: uploads are retried and land later; deletes are
retried with backoff and, when they keep failing, the task fails visibly instead of losing the paths."""

import logging
from datetime import timedelta

import boto3
import botocore.exceptions
import pytest
from django.db import transaction
from django.utils import timezone
from django_tasks_db.management.commands.db_worker import Worker
from django_tasks_db.models import DBTaskResult

from tests.reliability.conftest import assert_ledger_whole, assert_settled_once, free_port, s3_options
from tests.videos.conftest import GOOD_BODY, balance, deliver, run_tasks
from videos.models import Video
from videos.tasks import storage_files_delete, video_copy_task

pytestmark = pytest.mark.django_db

BUCKET = "reliability"


@pytest.fixture
def s3(moto_server, settings, fake_kie):
    """Storage on moto's S3 server; `s3.down()` points the service at a closed port, `s3.up()` back."""
    client = boto3.client(
        "s3", endpoint_url=moto_server, aws_access_key_id="test", aws_secret_access_key="test", region_name="us-east-1"
    )
    client.create_bucket(Bucket=BUCKET)
    dead = f"http://127.0.0.1:{free_port()}"

    class Switch:
        def keys(self):
            return sorted(item["Key"] for item in client.list_objects_v2(Bucket=BUCKET).get("Contents", []))

        def _use(self, endpoint):
            settings.STORAGES = {
                **settings.STORAGES,
                "default": {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": s3_options(endpoint, BUCKET)},
            }

        def up(self):
            self._use(moto_server)

        def down(self):
            self._use(dead)

    switch = Switch()
    switch.up()
    yield switch
    for key in switch.keys():  # noqa: SIM118 - a method of Switch
        client.delete_object(Bucket=BUCKET, Key=key)
    client.delete_bucket(Bucket=BUCKET)


def _storing(client, fake_kie) -> Video:
    video_id = client.post("/api/generate", GOOD_BODY, format="json").json()["data"]["taskId"]
    run_tasks()
    [callback] = fake_kie.wait_callbacks(1)
    deliver(client, callback)
    video = Video.objects.get(pk=video_id)
    assert video.status == "storing"
    return video


def _deferred(task_path: str) -> DBTaskResult:
    [task] = DBTaskResult.objects.filter(status="READY", task_path=task_path)
    assert task.run_after > timezone.now()  # backoff
    DBTaskResult.objects.filter(pk=task.pk).delete()
    return task


def test_uploads_failing_are_retried_then_left_to_the_sweep_and_land_later(fake_kie, auth_client, s3, settings):
    settings.GENERATION_COPY_MAX_ATTEMPTS = 2
    start = balance(auth_client.user)
    video = _storing(auth_client, fake_kie)
    s3.down()

    run_tasks()  # attempt 1 fails: retried with backoff
    video_copy_task.call(**_deferred("videos.tasks.video_copy_task").task_result.kwargs)  # attempt 2 fails

    video.refresh_from_db()
    assert video.status == "storing" and video.copy_attempts == 2 and video.copy_lease_until is None
    assert video.error_message.startswith("copy:")
    assert not DBTaskResult.objects.filter(status="READY").exists()  # no more retries: the sweep's turn
    assert s3.keys() == []
    assert balance(auth_client.user) == start - 20

    s3.up()
    Video.objects.filter(pk=video.pk).update(updated_at=timezone.now() - timedelta(hours=1))
    from videos.services import generations_sweep

    assert generations_sweep()["copies"] == 1
    run_tasks()

    video.refresh_from_db()
    assert video.status == "ready" and video.error_message == ""
    assert s3.keys() == sorted([f"thumbnails/{video.user_id}/{video.pk}.jpg", f"videos/{video.user_id}/{video.pk}.mp4"])
    assert balance(auth_client.user) == start - 20
    assert_settled_once(video.pk)
    assert_ledger_whole()


def test_a_delete_that_fails_is_retried_with_backoff_and_nothing_is_left_behind(fake_kie, auth_client, s3):
    video = _storing(auth_client, fake_kie)
    run_tasks()
    assert len(s3.keys()) == 2
    s3.down()

    assert auth_client.delete(f"/api/videos/{video.pk}").status_code == 200
    run_tasks()  # the delete fails: the task succeeds by re-enqueueing the paths

    assert not Video.objects.filter(pk=video.pk).exists()
    assert len(s3.keys()) == 2
    retry = _deferred("videos.tasks.storage_files_delete")
    assert retry.task_result.kwargs["attempt"] == 2
    assert sorted(retry.task_result.kwargs["paths"]) == s3.keys()

    s3.up()
    storage_files_delete.call(**retry.task_result.kwargs)

    assert s3.keys() == []
    assert not DBTaskResult.objects.filter(status="READY").exists()
    assert_ledger_whole()


def test_a_delete_that_keeps_failing_fails_the_task_visibly(fake_kie, auth_client, s3, settings, caplog):
    settings.GENERATION_COPY_MAX_ATTEMPTS = 3
    s3.down()
    storage_files_delete.using(run_after=None).enqueue(paths=["videos/x/y.mp4"], attempt=3)
    worker = Worker(
        queue_names=["default"], interval=0, batch=True, backend_name="default", startup_delay=False,
        max_tasks=None, worker_id="test-worker", excluded_queue_names=[],
    )
    with transaction.atomic():
        task = DBTaskResult.objects.ready().get_locked()
        task.claim("test-worker")

    with caplog.at_level(logging.ERROR, logger="aiasmr.videos"):
        worker.run_task(task)

    task.refresh_from_db()
    assert task.status == "FAILED" and "EndpointConnectionError" in task.exception_class_path
    assert not DBTaskResult.objects.filter(status="READY").exists()
    [record] = [r for r in caplog.records if getattr(r, "event", "") == "storage_delete_failed"]
    assert record.paths == ["videos/x/y.mp4"]
    with pytest.raises(botocore.exceptions.EndpointConnectionError):
        storage_files_delete.call(paths=["videos/x/y.mp4"], attempt=3)
