"""Stored files: KIE's video and cover copied into our storage (leased, retried), and files deleted."""

from __future__ import annotations

import uuid
from datetime import timedelta

from django.conf import settings
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from aiasmr.api.logging import business_log
from aiasmr.api.metrics import GENERATIONS, count_on_commit
from videos.kie.client import KieDownloadError, kie_client
from videos.kie.veo import veo_1080p
from videos.media import MediaRejected, host_allowed, media_fetch, media_store
from videos.models import KieApi, Video, VideoEvent, VideoStatus, thumbnail_upload_to, video_upload_to
from videos.services.common import logger, video_event_record
from videos.services.provider import provider_record
from videos.services.queue import STORAGE_FILES_DELETE_TASK, VIDEO_COPY_TASK, retry_backoff, task_enqueue
from videos.services.settlement import video_fail


def video_copy_media(*, video_id: uuid.UUID | str) -> None:
    """Streams the video and cover from KIE into storage and marks the video ready.

    Storage or KIE failures release the lease and re-enqueue with backoff (up to
    GENERATION_COPY_MAX_ATTEMPTS; the sweep picks it up again later); KIE's URLs are kept meanwhile.
    """
    now = timezone.now()
    claimed = (
        Video.objects.filter(pk=video_id, status=VideoStatus.STORING)
        .filter(Q(copy_lease_until__isnull=True) | Q(copy_lease_until__lt=now))
        .update(
            copy_lease_until=now + timedelta(seconds=settings.GENERATION_COPY_LEASE_SECONDS),
            copy_attempts=F("copy_attempts") + 1,
            updated_at=now,
        )
    )
    video = Video.objects.filter(pk=video_id).first() if claimed else None
    if video is None:
        return
    client = kie_client()
    spools = []
    try:
        video_url, image_url, trusted = video.provider_video_url, video.provider_thumbnail_url, False
        if not (host_allowed(video_url) and (not image_url or host_allowed(image_url))):
            record = provider_record(video=video, client=client) if video.provider_task_id else None
            if record is None or record.state != "success" or not record.video_url:
                raise KieDownloadError("KIE's record does not confirm the files yet.")
            if record.expired:
                raise MediaRejected("The provider no longer has the files.")
            video_url, image_url, trusted = record.video_url, record.image_url, True
            Video.objects.filter(pk=video_id).update(
                provider_video_url=video_url[:2000], provider_thumbnail_url=image_url[:2000]
            )
        hd_url = _hd_video_url(video, client)
        if hd_url:
            video_spool, size = media_fetch(client, hd_url, kind="video", trusted=True)
        else:
            video_spool, size = media_fetch(client, video_url, kind="video", trusted=trusted)
        spools.append(video_spool)
        cover_spool = None
        if image_url:
            cover_spool, _ = media_fetch(client, image_url, kind="image", trusted=trusted)
            spools.append(cover_spool)
        video_name = media_store(name=video_upload_to(video, ""), spool=video_spool)
        thumb_name = (
            media_store(name=thumbnail_upload_to(video, ""), spool=cover_spool) if cover_spool else ""
        )
    except MediaRejected as exc:
        video_fail(
            video=video, error_code=exc.code, message=exc.message, from_statuses=(VideoStatus.STORING,)
        )
        return
    except Exception as exc:  # KIE, network or storage failure: retry later
        _copy_retry(video, exc)
        return
    finally:
        for spool in spools:
            spool.close()
    with transaction.atomic():
        done = Video.objects.filter(pk=video_id, status=VideoStatus.STORING).update(
            status=VideoStatus.READY,
            video_file=video_name,
            thumbnail_file=thumb_name,
            file_size=size,
            completed_at=timezone.now(),
            updated_at=timezone.now(),
            copy_lease_until=None,
            error_code="",
            error_message="",
        )
        if done:
            count_on_commit(GENERATIONS.labels(video.provider, video.quality, "ready").inc)
            video_event_record(
                video_id=video_id,
                source=VideoEvent.Source.SYSTEM,
                summary="stored",
                payload={"video": video_name, "thumbnail": thumb_name, "size": size},
            )
    if not done:  # deleted or settled meanwhile: do not leave orphans behind
        stored_files_delete(paths=[name for name in (video_name, thumb_name) if name])
        return
    business_log.info("video ready", extra={"event": "video_ready", "video": str(video_id), "size": size})


def _hd_video_url(video: Video, client) -> str:
    """Veo jobs that should be 1080p: KIE's 1080p file URL ("" to keep the 720p one).

    KIE may need minutes after success: until VEO_1080P_WAIT_SECONDS have passed, "not ready" raises
    (the copy is retried with backoff); after that, or when KIE says it never will, the 720p file is kept.
    """
    if not (video.wants_1080p and video.kie_api == KieApi.VEO and video.provider_task_id):
        return ""
    result = veo_1080p(client, video.provider_task_id)
    if result.url:
        if video.quality != "1080p":
            Video.objects.filter(pk=video.pk).update(quality="1080p")
            video.quality = "1080p"
        video_event_record(
            video_id=video.pk,
            source=VideoEvent.Source.POLL,
            summary="1080p file ready",
            payload={"url": result.url},
        )
        return result.url
    since = video.generated_at or video.updated_at
    waited = (timezone.now() - since).total_seconds() if since else 0
    if not result.final and waited < settings.VEO_1080P_WAIT_SECONDS:
        raise KieDownloadError(f"KIE's 1080p file is not ready yet ({result.message or 'no URL'}).")
    with transaction.atomic():
        Video.objects.filter(pk=video.pk).update(quality="720p", wants_1080p=False)
        video_event_record(
            video_id=video.pk,
            source=VideoEvent.Source.SYSTEM,
            summary="1080p unavailable; keeping 720p",
            payload={"message": result.message, "waitedSeconds": int(waited)},
        )
    return ""


def _copy_retry(video: Video, exc: Exception) -> None:
    attempts = video.copy_attempts
    message = getattr(exc, "message", None) or exc.__class__.__name__
    logger.warning(
        "media copy failed", extra={"event": "media_copy_failed", "video": str(video.pk), "error": message}
    )
    with transaction.atomic():
        released = Video.objects.filter(pk=video.pk, status=VideoStatus.STORING).update(
            copy_lease_until=None, updated_at=timezone.now(), error_message=f"copy: {message}"[:500]
        )
        retry = released and attempts < settings.GENERATION_COPY_MAX_ATTEMPTS
        video_event_record(
            video_id=video.pk,
            source=VideoEvent.Source.SYSTEM,
            summary=f"copy attempt {attempts} failed" + ("; retrying" if retry else "; left to the sweep"),
            payload={"error": message},
        )
        if retry:
            task_enqueue(
                task_path=VIDEO_COPY_TASK,
                run_after=timezone.now() + retry_backoff(attempt=attempts),
                video_id=str(video.pk),
            )


def stored_files_delete(*, paths: list[str], attempt: int = 1) -> None:
    """Removes stored files. Paths whose delete fails (storage unreachable) are retried with backoff; after
    GENERATION_COPY_MAX_ATTEMPTS this raises the error (kept in the task results) and logs them."""
    failed, error = [], None
    for path in paths:
        try:
            default_storage.delete(path)
        except Exception as exc:  # any storage failure: keep the path for the retry
            failed.append(path)
            error = exc
    if not failed:
        return
    extra = {
        "event": "storage_delete_failed",
        "paths": failed,
        "attempt": attempt,
        "error": repr(error)[:500],
    }
    if attempt >= settings.GENERATION_COPY_MAX_ATTEMPTS:
        logger.error("stored files could not be deleted; giving up", extra=extra)
        raise error
    logger.warning("stored files could not be deleted; retrying", extra=extra)
    task_enqueue(
        task_path=STORAGE_FILES_DELETE_TASK,
        run_after=timezone.now() + retry_backoff(attempt=attempt),
        paths=failed,
        attempt=attempt + 1,
    )
