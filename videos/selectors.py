"""Reads for the videos API: one user's videos, a job by either of its ids, counts."""

import contextlib
import uuid

from django.db.models import Count, Q, Sum

from aiasmr.api.exceptions import NotFound
from videos.models import MOBILE_STATUS, Video, VideoStatus


def videos_for_user(*, user):
    return Video.objects.filter(user=user).order_by("-created_at", "-id")


def video_get_for_user(*, user, video_id) -> Video:
    """Another user's video is 404, as an unknown one."""
    video = Video.objects.filter(user=user, pk=video_id).first()
    if video is None:
        raise NotFound("Video not found.", code="VIDEO_NOT_FOUND")
    return video


def video_get_by_task(*, user, task_id: str) -> Video:
    """The job by its video id (the taskId /generate answers) or by KIE's task id."""
    rows = Video.objects.filter(user=user)
    video = None
    with contextlib.suppress(ValueError):
        video = rows.filter(pk=uuid.UUID(task_id)).first()
    if video is None and len(task_id) <= 128 and task_id.isprintable():  # no NUL into the query
        video = rows.filter(provider_task_id=task_id).first()
    if video is None:
        raise NotFound("Task not found.", code="TASK_NOT_FOUND")
    return video


def video_stats(*, user) -> dict:
    counts = Video.objects.filter(user=user).aggregate(
        total=Count("id"),
        favorites=Count("id", filter=Q(is_favorite=True)),
        duration=Sum("duration", filter=Q(status=VideoStatus.READY)),
        **{status: Count("id", filter=Q(status=status)) for status in VideoStatus.values},
    )
    by_status = dict.fromkeys(("pending", "processing", "completed", "failed"), 0)
    for status in VideoStatus.values:
        by_status[MOBILE_STATUS[status]] += counts[status]
    return {
        "total": counts["total"],
        "byStatus": by_status,
        "favorites": counts["favorites"],
        "totalDuration": counts["duration"] or 0,
    }
