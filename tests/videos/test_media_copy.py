"""The media copy: from KIE into storage (local, and an S3-compatible server: moto in server mode)."""

from pathlib import Path

import boto3
import pytest
import requests
from django_tasks_db.models import DBTaskResult

from tests.s3 import s3_test_options
from tests.videos.conftest import GOOD_BODY, deliver, refunds, run_tasks, stored_bytes
from videos.models import Video
from videos.tasks import video_copy_task

MEDIA = Path(__file__).resolve().parents[2] / "devtools" / "fake_kie" / "media"


def _storing(client, fake_kie, **knobs) -> Video:
    fake_kie.configure(**knobs)
    task_id = client.post("/api/generate", GOOD_BODY, format="json").json()["data"]["taskId"]
    run_tasks()
    [callback] = fake_kie.wait_callbacks(1)
    deliver(client, callback)
    video = Video.objects.get(pk=task_id)
    assert video.status == "storing"
    return video


def _deferred_copy():
    [task] = DBTaskResult.objects.filter(status="READY", task_path="videos.tasks.video_copy_task")
    assert task.run_after is not None
    return task


@pytest.mark.django_db
def test_a_failed_download_is_retried_with_backoff_and_keeps_kie_urls(fake_kie, auth_client):
    video = _storing(auth_client, fake_kie, file_failures=1)

    run_tasks()

    video.refresh_from_db()
    assert video.status == "storing" and video.copy_lease_until is None
    assert video.provider_video_url.endswith(".mp4")  # still usable for the retry
    task = _deferred_copy()
    video_copy_task.call(**task.task_result.kwargs)
    video.refresh_from_db()
    assert video.status == "ready" and video.copy_attempts == 2 and refunds(video) == 0


@pytest.mark.django_db
def test_a_file_over_the_size_cap_fails_and_refunds(fake_kie, auth_client, settings):
    settings.KIE_MEDIA_MAX_BYTES = 1000
    video = _storing(auth_client, fake_kie)

    run_tasks()

    video.refresh_from_db()
    assert video.status == "failed" and video.error_code == "MEDIA_REJECTED" and refunds(video) == 1


@pytest.mark.django_db
def test_expired_kie_files_fail_and_refund(fake_kie, auth_client, settings):
    settings.KIE_FILE_HOSTS = []  # the callback's URLs must be confirmed by the record, which says expired
    video = _storing(auth_client, fake_kie)
    fake_kie.configure(expired=True)

    run_tasks()

    video.refresh_from_db()
    assert video.status == "failed" and refunds(video) == 1


@pytest.mark.django_db
def test_a_copy_claimed_by_another_worker_is_not_run_twice(fake_kie, auth_client):
    video = _storing(auth_client, fake_kie)
    from django.utils import timezone

    Video.objects.filter(pk=video.pk).update(copy_lease_until=timezone.now() + timezone.timedelta(minutes=5))

    video_copy_task.call(video_id=str(video.pk))

    assert fake_kie.state()["fileRequests"] == 0
    video.refresh_from_db()
    assert video.status == "storing"


# --- S3-compatible storage (moto's server, over HTTP) -------------------------------------------------


@pytest.fixture
def s3_storage(moto_server, settings, fake_kie):
    bucket = "videos-test"
    options = {
        **s3_test_options(endpoint=moto_server, bucket=bucket),
        "querystring_auth": True,
        "querystring_expire": 600,
    }
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": options},
    }
    s3 = boto3.client(
        "s3",
        endpoint_url=moto_server,
        aws_access_key_id="test",
        aws_secret_access_key="test",
        region_name="us-east-1",
    )
    yield s3, bucket, options
    if bucket in [b["Name"] for b in s3.list_buckets()["Buckets"]]:
        for item in s3.list_objects_v2(Bucket=bucket).get("Contents", []):
            s3.delete_object(Bucket=bucket, Key=item["Key"])
        s3.delete_bucket(Bucket=bucket)


@pytest.mark.django_db
def test_copy_to_s3_retries_a_failed_upload_and_serves_signed_urls(fake_kie, auth_client, s3_storage):
    s3, bucket, _ = s3_storage
    video = _storing(auth_client, fake_kie)

    run_tasks()  # the bucket does not exist yet: the upload fails

    video.refresh_from_db()
    assert video.status == "storing" and "copy" in video.error_message
    s3.create_bucket(Bucket=bucket)
    video_copy_task.call(**_deferred_copy().task_result.kwargs)

    video.refresh_from_db()
    assert video.status == "ready" and video.error_message == ""
    key = f"videos/{video.user_id}/{video.pk}.mp4"
    body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    assert body == (MEDIA / "sample.mp4").read_bytes()
    assert (
        s3.head_object(Bucket=bucket, Key=f"thumbnails/{video.user_id}/{video.pk}.jpg")["ContentType"]
        == "image/jpeg"
    )
    url = auth_client.get(f"/api/videos/{video.pk}").json()["data"]["video"]["download_url"]
    assert "X-Amz-Signature=" in url and "X-Amz-Expires=600" in url
    assert requests.get(url, timeout=5).content == body
    assert stored_bytes(key) == body

    assert auth_client.delete(f"/api/videos/{video.pk}").status_code == 200
    run_tasks()
    assert s3.list_objects_v2(Bucket=bucket).get("KeyCount", 0) == 0


@pytest.mark.django_db
def test_a_public_domain_gives_plain_urls(fake_kie, auth_client, s3_storage, settings):
    s3, bucket, options = s3_storage
    s3.create_bucket(Bucket=bucket)
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {**options, "querystring_auth": False, "custom_domain": "media.example.com"},
        },
    }
    video = _storing(auth_client, fake_kie)
    run_tasks()

    url = auth_client.get(f"/api/videos/{video.pk}").json()["data"]["video"]["download_url"]

    assert url == f"https://media.example.com/videos/{video.user_id}/{video.pk}.mp4"
