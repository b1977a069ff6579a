"""Submitting a queued video to KIE: claimed once, sent outside any transaction, retried only when safe."""

from __future__ import annotations

import uuid
from urllib.parse import urlencode

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from videos.kie.client import KieError, KieOutcomeUnknown
from videos.models import Video, VideoEvent, VideoStatus
from videos.services.common import video_event_record
from videos.services.provider import provider_generate
from videos.services.queue import VIDEO_SUBMIT_TASK, retry_backoff, task_enqueue
from videos.services.settlement import video_fail


def callback_url_for(*, video: Video) -> str:
    """KIE's callBackUrl: carries the shared secret, and the video id to reconcile an unknown submission."""
    separator = "&" if "?" in settings.CALLBACK_URL else "?"
    query = urlencode({"secret": settings.KIE_CALLBACK_SECRET, "videoId": str(video.pk)})
    return f"{settings.CALLBACK_URL}{separator}{query}"


def video_submit(*, video_id: uuid.UUID | str) -> None:
    """Sends a queued video to KIE (outside any transaction) and records the task id.

    Claiming sets `submit_started_at`, so a job is never sent twice; only answers that prove no job was
    created (429, 455, unreachable) release the claim for a retry with backoff.
    """
    now = timezone.now()
    claimed = Video.objects.filter(
        pk=video_id, status=VideoStatus.QUEUED, submit_started_at__isnull=True
    ).update(submit_started_at=now, submit_attempts=F("submit_attempts") + 1, updated_at=now)
    video = Video.objects.filter(pk=video_id).first() if claimed else None
    if video is None:
        return
    try:
        result = provider_generate(video=video, callback_url=callback_url_for(video=video))
    except KieOutcomeUnknown as exc:
        # KIE may have started (and billed) a job: never re-send. A callback carrying our video id
        # reconciles it; otherwise the sweep fails and refunds it after GENERATION_SUBMIT_UNKNOWN_SECONDS.
        with transaction.atomic():
            Video.objects.filter(pk=video_id, status=VideoStatus.QUEUED).update(
                submit_outcome_unknown=True, updated_at=timezone.now()
            )
            video_event_record(
                video_id=video_id,
                source=VideoEvent.Source.SUBMIT,
                summary=f"outcome unknown: {exc.message}",
                payload={"code": exc.code},
            )
        return
    except KieError as exc:
        payload = {"code": exc.code, "providerCode": exc.kie_code, "message": exc.message}
        if exc.retryable and video.submit_attempts < settings.GENERATION_SUBMIT_MAX_ATTEMPTS:
            _submit_retry_later(video, claimed_at=now, code=exc.code, payload=payload)
            return
        video_event_record(
            video_id=video_id,
            source=VideoEvent.Source.SUBMIT,
            summary=f"rejected ({exc.code})",
            payload=payload,
        )
        video_fail(video=video, error_code=exc.code, message=exc.message)
        return
    with transaction.atomic():
        moved = Video.objects.filter(pk=video_id, status=VideoStatus.QUEUED).update(
            status=VideoStatus.SUBMITTED,
            provider_task_id=result.task_id,
            provider_state="wait",
            submitted_at=now,
            updated_at=timezone.now(),
        )
        if not moved:
            # A callback got here first (or the job was settled): keep the task id for late callbacks.
            Video.objects.filter(pk=video_id, provider_task_id__isnull=True).update(
                provider_task_id=result.task_id
            )
        video_event_record(
            video_id=video_id,
            source=VideoEvent.Source.SUBMIT,
            summary="accepted by KIE",
            payload={"taskId": result.task_id},
        )


def _submit_retry_later(video: Video, *, claimed_at, code: str, payload: dict) -> None:
    """KIE proved no job was created: release our claim and enqueue the submission again, with backoff."""
    with transaction.atomic():
        released = Video.objects.filter(
            pk=video.pk, status=VideoStatus.QUEUED, submit_started_at=claimed_at
        ).update(submit_started_at=None, updated_at=timezone.now())
        video_event_record(
            video_id=video.pk,
            source=VideoEvent.Source.SUBMIT,
            summary=f"rejected for now ({code}); will retry",
            payload=payload,
        )
        if released:
            task_enqueue(
                task_path=VIDEO_SUBMIT_TASK,
                run_after=timezone.now() + retry_backoff(attempt=video.submit_attempts),
                video_id=str(video.pk),
            )
