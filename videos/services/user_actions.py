"""What a user (or staff) does to a video: cancel, favourite, delete; a staff refund of its charge."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from accounts.models import User
from aiasmr.api.exceptions import ApiError, Conflict
from credits.models import CreditTransaction
from videos.models import OPEN_STATUSES, Upload, Video, VideoEvent, VideoStatus
from videos.services.common import PRE_STORING, video_charge_refund, video_event_record
from videos.services.gallery import user_likes_withdraw
from videos.services.queue import STORAGE_FILES_DELETE_TASK, task_enqueue
from videos.services.settlement import video_fail


class CancellationNotSupported(ApiError):
    """Express answered it with HTTP 200 and `success: false` (its `res.json`); the app reads it so."""

    code = "CANCELLATION_NOT_SUPPORTED"


class CannotCancelCompleted(ApiError):
    code = "CANNOT_CANCEL_COMPLETED"


class AlreadyFailed(ApiError):
    code = "ALREADY_FAILED"


def video_cancel(*, video: Video) -> Video:
    """Cancels a job KIE has not been sent yet, and refunds it (again: the same answer).

    Refused: CANNOT_CANCEL_COMPLETED once ready, ALREADY_FAILED once failed, otherwise (KIE may have the
    job) CANCELLATION_NOT_SUPPORTED.
    """
    if video.status != VideoStatus.CANCELLED:
        video_fail(
            video=video,
            error_code="CANCELLED",
            message="Cancelled by the user.",
            from_statuses=(VideoStatus.QUEUED,),
            status=VideoStatus.CANCELLED,
            only_unsent=True,
        )
    current = Video.objects.get(pk=video.pk)
    if current.status == VideoStatus.READY:
        raise CannotCancelCompleted()
    if current.status == VideoStatus.FAILED:
        raise AlreadyFailed()
    if current.status != VideoStatus.CANCELLED:
        raise CancellationNotSupported("The provider already has this job; it cannot be cancelled.")
    return current


def video_favorite_set(*, video: Video, favorite: bool) -> Video:
    Video.objects.filter(pk=video.pk).update(is_favorite=favorite, updated_at=timezone.now())
    video.is_favorite = favorite
    return video


def video_delete(*, video: Video) -> None:
    """Deletes the record; its stored files are removed after the commit. An open job is refunded first."""
    if video.status in PRE_STORING and video.submit_started_at is None:
        video_cancel(video=video)
    paths = [name for name in (video.video_file.name, video.thumbnail_file.name) if name]
    with transaction.atomic():
        # The row lock first: a settlement running now (its conditional update locks the row, then writes
        # the refund naming the video) either commits before the delete, whose SET NULL then covers its
        # refund, or waits and finds no video to settle. Without it a refund inserted between the SET NULL
        # and the DELETE fails the foreign key at commit.
        Video.objects.select_for_update().filter(pk=video.pk).values_list("pk", flat=True).first()
        Video.objects.filter(pk=video.pk).delete()
        if paths:
            task_enqueue(task_path=STORAGE_FILES_DELETE_TASK, paths=paths)


def user_videos_delete(*, user: User) -> None:
    """Deletes the user's videos and image uploads; their stored files are removed after the commit."""
    paths = []
    for video in Video.objects.filter(user=user).only("id", "video_file", "thumbnail_file"):
        paths.extend(name for name in (video.video_file.name, video.thumbnail_file.name) if name)
    paths.extend(name for name in Upload.objects.filter(user=user).values_list("file", flat=True) if name)
    with transaction.atomic():
        user_likes_withdraw(user=user)
        Video.objects.filter(user=user).delete()
        Upload.objects.filter(user=user).delete()
        if paths:
            task_enqueue(task_path=STORAGE_FILES_DELETE_TASK, paths=paths)


def video_refund(*, video: Video, staff_user: User) -> CreditTransaction | None:
    """Staff refund of a settled video's charge, exactly once. None when already refunded or never charged."""
    current = Video.objects.get(pk=video.pk)
    if current.status in OPEN_STATUSES:
        raise Conflict("The video is still being generated; it settles itself.", code="VIDEO_NOT_SETTLED")
    with transaction.atomic():
        refund = video_charge_refund(
            video=current, reason=f"Staff refund of video {video.pk}", staff_user=staff_user
        )
        if refund is not None:
            video_event_record(
                video_id=video.pk,
                source=VideoEvent.Source.SYSTEM,
                summary="refunded by staff",
                payload={"staff": str(staff_user.pk)},
            )
    return refund
