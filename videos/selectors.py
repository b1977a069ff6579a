"""Reads for the videos API: one user's videos, a job by either of its ids, counts; KIE's credit balance."""

import contextlib
import logging
import uuid

from django.conf import settings
from django.core.cache import cache
from django.db.models import Count, Q, QuerySet, Sum

from accounts.models import User
from aiasmr.api.exceptions import NotFound, ValidationFailed
from aiasmr.api.numbers import math_round
from aiasmr.db import PreparedInstance
from credits.models import CreditTransaction
from videos.kie.client import kie_client
from videos.models import GALLERY_FILTER, MOBILE_STATUS, ROW_STATUS, Video, VideoStatus

logger = logging.getLogger("aiasmr.kie")


# The columns the video row (videos.serializers.VideoRowSerializer) reads; the list loads only these.
VIDEO_ROW_COLUMNS = (
    "id", "user_id", "status", "provider_task_id", "prompt", "enhanced_prompt", "triggers", "duration",
    "quality", "aspect_ratio", "image_url", "watermark", "credit_cost", "video_file", "thumbnail_file",
    "file_size", "is_favorite", "error_code", "error_message", "created_at", "updated_at", "submitted_at",
    "completed_at", "is_public", "is_featured", "likes_count", "views_count",
)  # fmt: skip


def videos_for_user(*, user: User) -> QuerySet[Video]:
    """The user's videos, newest first (the (user, -created_at, -id) index)."""
    return Video.objects.filter(user=user).only(*VIDEO_ROW_COLUMNS).order_by("-created_at", "-id")


# Every status poll and every opened video reads one video by id: its SQL built once (the ORM's build took
# about 2/3 of the read).
_VIDEO_OF_USER = PreparedInstance(
    Video, where=f'"{Video._meta.pk.column}" = %s AND "{Video._meta.get_field("user").column}" = %s'
)


def video_get_for_user(*, user: User, video_id: uuid.UUID | str) -> Video:
    """Another user's video is 404, as an unknown one; an id that is not a uuid is a validation error."""
    try:
        video_id = video_id if isinstance(video_id, uuid.UUID) else uuid.UUID(str(video_id))
    except ValueError:
        raise ValidationFailed(details=[{"field": "id", "message": "Must be a valid UUID."}]) from None
    video = _VIDEO_OF_USER.first([video_id, user.pk])
    if video is None:
        raise NotFound("Video not found.", code="VIDEO_NOT_FOUND")
    return video


def video_get_by_task(*, user: User, task_id: str) -> Video:
    """The job by its video id (the taskId /generate answers) or by KIE's task id."""
    rows = Video.objects.filter(user=user)
    video = None
    with contextlib.suppress(ValueError):
        video = _VIDEO_OF_USER.first([uuid.UUID(task_id), user.pk])
    if video is None and len(task_id) <= 128 and task_id.isprintable():  # no NUL into the query
        video = rows.filter(provider_task_id=task_id).first()
    if video is None:
        raise NotFound("Task not found.", code="TASK_NOT_FOUND")
    return video


def video_refund_entry(*, video: Video) -> CreditTransaction | None:
    """The ledger row that gave the video's charge back, if any: found through its one link, `video.debit`."""
    if video.debit_id is None:
        return None
    return CreditTransaction.objects.filter(reverses_id=video.debit_id).first()


def video_stats(*, user: User) -> dict:
    counts = Video.objects.filter(user=user).aggregate(
        total=Count("id"),
        favorites=Count("id", filter=Q(is_favorite=True)),
        duration=Sum("duration", filter=Q(status=VideoStatus.READY)),
        **{status: Count("id", filter=Q(status=status)) for status in VideoStatus.values},
    )
    by_status = dict.fromkeys(("pending", "processing", "completed", "failed"), 0)
    by_row_status = dict.fromkeys(("processing", "ready", "failed"), 0)
    for status in VideoStatus.values:
        by_status[MOBILE_STATUS[status]] += counts[status]
        by_row_status[ROW_STATUS[status]] += counts[status]
    total = counts["total"]
    return {
        "statistics": {
            "total": total,
            "completed": by_row_status["ready"],
            "processing": by_row_status["processing"],
            "failed": by_row_status["failed"],
            "successRate": math_round(by_row_status["ready"] * 100 / total) if total else 0,
        },
        "total": counts["total"],
        "byStatus": by_status,
        "favorites": counts["favorites"],
        "totalDuration": counts["duration"] or 0,
    }


KIE_CREDITS_CACHE_KEY = "kie:account-credits"


def kie_account_credits() -> int | None:
    """The KIE account's remaining credits, or None when KIE cannot be asked right now.

    Asked with a short timeout and cached briefly: the detailed health check and the admin dashboard
    call it while someone waits, and must not hammer KIE.
    """
    cached = cache.get(KIE_CREDITS_CACHE_KEY)
    if cached is not None:
        return cached["value"]
    value = None
    try:
        value = int(kie_client(timeout=settings.KIE_ACCOUNT_TIMEOUT_SECONDS).account_credits())
    except Exception:  # any failure (network, auth, missing key) reads as "unavailable"
        logger.warning(
            "KIE account credits unavailable", exc_info=True, extra={"event": "kie_credits_failed"}
        )
    cache.set(KIE_CREDITS_CACHE_KEY, {"value": value}, 60 if value is not None else 15)
    return value


# The columns a gallery card reads (videos.gallery_serializers.GalleryVideoSerializer): nothing private.
GALLERY_COLUMNS = (
    "id", "prompt", "prompt_public", "triggers", "duration", "quality", "aspect_ratio", "video_file",
    "thumbnail_file", "is_featured", "likes_count", "views_count", "published_at", "created_at",
)  # fmt: skip


def gallery_videos() -> QuerySet[Video]:
    """Published, ready, not hidden videos: featured first, then the newest published (the gallery index)."""
    return Video.objects.filter(GALLERY_FILTER).only(*GALLERY_COLUMNS).order_by("-is_featured", "-published_at", "-id")
