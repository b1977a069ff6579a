"""The public gallery: the owner publishes a ready video or takes it back, staff feature or hide it,
users like it once each, anyone's view counts.

Counters move by single conditional UPDATEs (F expressions), never read-modify-write: a like inserts
the unique (video, user) row and adds one in the same transaction, so the count stays exact however
many users like at once; a view is one UPDATE and no row.
"""

from __future__ import annotations

import uuid

from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from accounts.models import User
from aiasmr.api.exceptions import ApiError, NotFound
from videos.models import GALLERY_FILTER, Video, VideoLike, VideoStatus


class VideoNotPublishable(ApiError):
    code = "VIDEO_NOT_PUBLISHABLE"


def _video_not_found() -> NotFound:
    return NotFound("Video not found.", code="VIDEO_NOT_FOUND")


def video_publish(*, video: Video, prompt_public: bool = True) -> Video:
    """Puts the owner's ready video in the gallery (or updates whether it shows the prompt)."""
    now = timezone.now()
    moved = Video.objects.filter(pk=video.pk, status=VideoStatus.READY).update(
        is_public=True, prompt_public=prompt_public, published_at=now, updated_at=now
    )
    if not moved:
        raise VideoNotPublishable()
    video.refresh_from_db()
    return video


def video_unpublish(*, video: Video) -> Video:
    """Takes the video out of the gallery at once (its likes and views are kept)."""
    Video.objects.filter(pk=video.pk).update(is_public=False, updated_at=timezone.now())
    video.refresh_from_db()
    return video


def video_gallery_moderate(*, video_ids: list[uuid.UUID], featured: bool | None = None, hidden: bool | None = None) -> int:
    """Staff: feature or unfeature, hide or show the videos. Returns how many rows changed."""
    fields: dict = {}
    if featured is not None:
        fields["is_featured"] = featured
    if hidden is not None:
        fields["is_hidden"] = hidden
    if not fields:
        return 0
    return Video.objects.filter(pk__in=video_ids).update(**fields, updated_at=timezone.now())


def _likeable(*, user: User, video_id: uuid.UUID) -> Video:
    video = Video.objects.filter(Q(pk=video_id) & (GALLERY_FILTER | Q(user=user))).only("id").first()
    if video is None:
        raise _video_not_found()
    return video


def video_like(*, user: User, video_id: uuid.UUID) -> int:
    """Likes a gallery video (or one's own) once; liking again changes nothing. The new like count."""
    video = _likeable(user=user, video_id=video_id)
    try:
        with transaction.atomic():
            VideoLike.objects.create(video=video, user=user)
            Video.objects.filter(pk=video.pk).update(likes_count=F("likes_count") + 1)
    except IntegrityError:
        pass  # already liked
    return Video.objects.filter(pk=video.pk).values_list("likes_count", flat=True).first() or 0


def video_unlike(*, user: User, video_id: uuid.UUID) -> int:
    """Withdraws the user's like, if any (the count moves only when a row was deleted). The new count."""
    with transaction.atomic():
        removed, _ = VideoLike.objects.filter(video_id=video_id, user=user).delete()
        if removed:
            Video.objects.filter(pk=video_id, likes_count__gt=0).update(likes_count=F("likes_count") - 1)
    count = Video.objects.filter(pk=video_id).values_list("likes_count", flat=True).first()
    if count is None:
        raise _video_not_found()
    return count


def user_likes_withdraw(*, user: User) -> None:
    """Before the account goes: its likes leave the counts of the videos it liked."""
    with transaction.atomic():
        liked = list(VideoLike.objects.filter(user=user).values_list("video_id", flat=True))
        VideoLike.objects.filter(user=user).delete()
        if liked:
            Video.objects.filter(pk__in=liked, likes_count__gt=0).update(likes_count=F("likes_count") - 1)


def video_view_count(*, video_id: uuid.UUID) -> bool:
    """Counts one view of a gallery video: one UPDATE, no row. False when the video is not in the gallery."""
    return bool(Video.objects.filter(GALLERY_FILTER, pk=video_id).update(views_count=F("views_count") + 1))
