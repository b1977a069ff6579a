"""The generation sweep: settles what callbacks and tasks left behind; safe to run every minute."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from videos.kie.client import KieError
from videos.models import Video, VideoStatus
from videos.services.callbacks import video_sync_from_kie
from videos.services.common import PRE_STORING
from videos.services.queue import VIDEO_COPY_TASK, VIDEO_SUBMIT_TASK, abandoned_tasks_rerun, task_enqueue
from videos.services.settlement import video_fail

Report = Callable[[str], None]


def generations_sweep(*, limit: int = 500, report: Report | None = None) -> dict[str, int]:
    """Settles what callbacks and tasks left behind; safe to run every minute (every move is conditional).

    1. queued jobs never claimed (a lost task) are re-queued;
    2. submissions whose outcome stayed unknown past GENERATION_SUBMIT_UNKNOWN_SECONDS fail and refund;
    3. jobs without news past GENERATION_CALLBACK_GRACE_SECONDS are settled from KIE's record, and fail
       and refund when KIE still has no record of them GENERATION_RECORD_MISSING_SECONDS after submission;
    4. jobs still unsettled past GENERATION_DEADLINE_SECONDS fail and refund;
    5. stuck copies are re-queued, and fail and refund past GENERATION_STORING_DEADLINE_SECONDS;
    6. tasks a dead worker left running past WORKER_STALE_SECONDS are closed and run again.
    """
    report = report or (lambda message: None)
    now = timezone.now()
    counts = {"requeued": _lost_submissions_requeue(now=now, limit=limit)}
    report(f"re-queued submissions: {counts['requeued']}")
    counts["unconfirmed"] = _unconfirmed_submissions_fail(now=now, limit=limit)
    report(f"unconfirmed submissions failed and refunded: {counts['unconfirmed']}")
    counts["polled"], counts["settled"] = _silent_jobs_poll(now=now, limit=limit, report=report)
    report(f"polled from KIE: {counts['polled']} (settled {counts['settled']})")
    counts["timed_out"] = _late_jobs_fail(now=now, limit=limit)
    report(f"past the deadline, failed and refunded: {counts['timed_out']}")
    counts["copies"], counts["copy_failed"] = _stuck_copies_settle(now=now, limit=limit)
    report(f"copies re-queued: {counts['copies']}; copies given up and refunded: {counts['copy_failed']}")
    counts["tasks_rerun"] = abandoned_tasks_rerun(now=now, limit=limit)
    report(f"tasks abandoned by a stopped worker, run again: {counts['tasks_rerun']}")
    return counts


def _lost_submissions_requeue(*, now: datetime, limit: int) -> int:
    stale = now - timedelta(seconds=settings.GENERATION_STALE_SECONDS)
    lost = Video.objects.filter(
        status=VideoStatus.QUEUED, submit_started_at__isnull=True, updated_at__lt=stale
    )
    requeued = 0
    for video_id in list(lost.values_list("pk", flat=True)[:limit]):
        with transaction.atomic():
            if Video.objects.filter(pk=video_id, submit_started_at__isnull=True).update(updated_at=now):
                task_enqueue(task_path=VIDEO_SUBMIT_TASK, video_id=str(video_id))
                requeued += 1
    return requeued


def _unconfirmed_submissions_fail(*, now: datetime, limit: int) -> int:
    unknown_before = now - timedelta(seconds=settings.GENERATION_SUBMIT_UNKNOWN_SECONDS)
    unconfirmed = Video.objects.filter(
        status=VideoStatus.QUEUED, provider_task_id__isnull=True, submit_started_at__lt=unknown_before
    )
    return sum(
        video_fail(
            video=video,
            error_code="SUBMISSION_UNCONFIRMED",
            message="The provider never confirmed the job.",
            from_statuses=(VideoStatus.QUEUED,),
        )
        for video in list(unconfirmed[:limit])
    )


def _silent_jobs_poll(*, now: datetime, limit: int, report: Report) -> tuple[int, int]:
    """Jobs without news past the callback grace period are settled from KIE's record: (polled, settled)."""
    grace = now - timedelta(seconds=settings.GENERATION_CALLBACK_GRACE_SECONDS)
    silent = Video.objects.filter(
        Q(last_synced_at__isnull=True) | Q(last_synced_at__lt=grace),
        status__in=PRE_STORING,
        provider_task_id__isnull=False,
        submitted_at__lt=grace,
    ).order_by("submitted_at")
    record_missing_before = now - timedelta(seconds=settings.GENERATION_RECORD_MISSING_SECONDS)
    polled = settled = 0
    for video in list(silent[:limit]):
        try:
            after = video_sync_from_kie(video=video)
        except KieError as exc:
            report(f"  {video.pk}: KIE record failed ({exc.code})")
            if exc.code == "PROVIDER_NOT_FOUND" and video.submitted_at < record_missing_before:
                settled += _lost_job_fail(video=video)
            continue
        polled += 1
        if after.status != video.status:
            settled += 1
            report(f"  {video.pk}: {video.status} -> {after.status}")
    return polled, settled


def _lost_job_fail(*, video: Video) -> int:
    """KIE has no record of a job it accepted minutes ago: it will never finish; fail and refund now."""
    return int(
        video_fail(
            video=video,
            error_code="GENERATION_LOST",
            message="The provider has no record of the job.",
            from_statuses=PRE_STORING,
        )
    )


def _late_jobs_fail(*, now: datetime, limit: int) -> int:
    deadline = now - timedelta(seconds=settings.GENERATION_DEADLINE_SECONDS)
    late = Video.objects.filter(status__in=PRE_STORING, created_at__lt=deadline)
    return sum(
        video_fail(
            video=video,
            error_code="GENERATION_TIMEOUT",
            message="The provider did not finish in time.",
            from_statuses=PRE_STORING,
        )
        for video in list(late[:limit])
    )


def _stuck_copies_settle(*, now: datetime, limit: int) -> tuple[int, int]:
    """Stuck copies are re-queued, or failed and refunded past the storing deadline: (requeued, failed)."""
    stale = now - timedelta(seconds=settings.GENERATION_STALE_SECONDS)
    storing_deadline = now - timedelta(seconds=settings.GENERATION_STORING_DEADLINE_SECONDS)
    stuck = Video.objects.filter(
        Q(copy_lease_until__isnull=True) | Q(copy_lease_until__lt=now),
        status=VideoStatus.STORING,
        updated_at__lt=stale,
    )
    requeued = failed = 0
    for video in list(stuck[:limit]):
        if video.created_at < storing_deadline:
            failed += video_fail(
                video=video,
                error_code="STORAGE_FAILED",
                message="The files could not be copied.",
                from_statuses=(VideoStatus.STORING,),
            )
            continue
        with transaction.atomic():
            if Video.objects.filter(
                pk=video.pk, status=VideoStatus.STORING, updated_at=video.updated_at
            ).update(updated_at=now):
                task_enqueue(task_path=VIDEO_COPY_TASK, video_id=str(video.pk))
                requeued += 1
    return requeued, failed
