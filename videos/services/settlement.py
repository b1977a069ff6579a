"""The two ways a job settles: it fails (refunded once), or KIE generated it (the copy is enqueued once).

Every move is a conditional update whose row count decides the side effect.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from aiasmr.api.logging import business_log
from aiasmr.api.metrics import GENERATIONS, count_on_commit
from videos.media import host_allowed
from videos.models import OPEN_STATUSES, Video, VideoEvent, VideoStatus
from videos.services.common import PRE_STORING, video_charge_refund, video_event_record
from videos.services.queue import VIDEO_COPY_TASK, task_enqueue


def video_fail(
    *,
    video: Video,
    error_code: str,
    message: str,
    from_statuses: tuple[str, ...] = OPEN_STATUSES,
    status: str = VideoStatus.FAILED,
    source: str = VideoEvent.Source.SYSTEM,
    only_unsent: bool = False,
) -> bool:
    """Moves an open video to failed (or cancelled) and refunds its charge, both at most once."""
    now = timezone.now()
    rows = Video.objects.filter(pk=video.pk, status__in=from_statuses)
    if only_unsent:
        rows = rows.filter(submit_started_at__isnull=True)
    with transaction.atomic():
        moved = rows.update(
            status=status,
            error_code=error_code[:64],
            error_message=(message or "")[:500],
            completed_at=now,
            updated_at=now,
            copy_lease_until=None,
        )
        if not moved:
            return False
        count_on_commit(GENERATIONS.labels(video.provider, video.quality, status).inc)
        refund = video_charge_refund(video=video, reason=f"Refund: video {status} ({error_code})")
        video_event_record(
            video_id=video.pk,
            source=source,
            summary=f"{status}: {error_code}",
            payload={"message": message, "refund": refund.amount if refund else 0},
        )
    business_log.info(
        "generation failed", extra={"event": "generation_failed", "video": str(video.pk), "code": error_code}
    )
    return True


def video_mark_generated(
    *, video: Video, provider_video_id: str, video_url: str, image_url: str, confirmed: bool
) -> bool:
    """KIE says success: move to storing and enqueue the copy (once). Returns True when it moved.

    URLs are kept only when KIE's record confirmed them or they are on a configured KIE file host.
    """
    if not confirmed:
        video_url = video_url if host_allowed(video_url) else ""
        image_url = image_url if host_allowed(image_url) else ""
    now = timezone.now()
    urls = {}
    if video_url:
        urls["provider_video_url"] = video_url[:2000]
    if image_url:
        urls["provider_thumbnail_url"] = image_url[:2000]
    with transaction.atomic():
        moved = Video.objects.filter(pk=video.pk, status__in=PRE_STORING).update(
            status=VideoStatus.STORING,
            provider_video_id=(provider_video_id or "")[:128],
            provider_state="success",
            generated_at=now,
            updated_at=now,
            **urls,
        )
        if moved:
            task_enqueue(task_path=VIDEO_COPY_TASK, video_id=str(video.pk))
        elif confirmed and urls:
            Video.objects.filter(pk=video.pk, status=VideoStatus.STORING).update(**urls)
    return bool(moved)
