"""Generation: start (reserve credits), submit to KIE, settle from callbacks and records, copy media, sweep.

Rules kept everywhere here: no network call inside a transaction; every move into a final state is a
conditional update whose row count decides the side effect (a refund); tasks are enqueued inside the
transaction that makes them necessary (the database backend commits them with the data).
"""

from __future__ import annotations

import logging
import uuid
from datetime import timedelta
from urllib.parse import urlencode

from django.conf import settings
from django.core.exceptions import SuspiciousOperation
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from aiasmr.api.exceptions import AccessDenied, Conflict, ValidationFailed
from aiasmr.api.logging import business_log
from credits.models import CreditTransaction, TransactionType
from credits.services import credits_refund, credits_spend
from videos.kie.client import KieDownloadError, KieError, KieOutcomeUnknown, RecordDetail, kie_client
from videos.media import MediaRejected, host_allowed, media_fetch, media_store
from videos.models import OPEN_STATUSES, Video, VideoEvent, VideoStatus, thumbnail_upload_to, video_upload_to
from videos.prompts import prompt_enhance

logger = logging.getLogger("aiasmr.videos")

# Open states before KIE has said "success": a callback or a record may still settle these.
PRE_STORING = (VideoStatus.QUEUED, VideoStatus.SUBMITTED, VideoStatus.PROCESSING)


class PlanUpgradeRequired(AccessDenied):
    code = "PLAN_UPGRADE_REQUIRED"
    default_message = "Your plan does not include this quality; upgrade to generate it."


# --- helpers -------------------------------------------------------------------------------------


def _event(video_id, source: str, summary: str, payload: dict | None = None) -> None:
    VideoEvent.objects.create(video_id=video_id, source=source, summary=summary[:255], payload=payload or {})


def _enqueue(task, *, run_after=None, **kwargs) -> None:
    """Enqueues inside the current transaction (database backend) or after it commits (other backends)."""
    if run_after is not None:
        task = task.using(run_after=run_after)
    if task.get_backend().__class__.__name__ == "DatabaseBackend":
        task.enqueue(**kwargs)
    else:
        transaction.on_commit(lambda: task.enqueue(**kwargs))


def _backoff(attempt: int) -> timedelta:
    seconds = settings.GENERATION_RETRY_BASE_SECONDS * (2 ** max(0, attempt - 1))
    return timedelta(seconds=min(seconds, settings.GENERATION_RETRY_MAX_SECONDS))


def generation_cost(*, duration: int, quality: str) -> int | None:
    key = f"{5 if duration == 5 else 8}:{quality}"
    cost = settings.GENERATION_COSTS.get(key)
    return int(cost) if cost else None


def callback_url_for(video: Video) -> str:
    """KIE's callBackUrl: carries the shared secret, and the video id to reconcile an unknown submission."""
    separator = "&" if "?" in settings.CALLBACK_URL else "?"
    query = urlencode({"secret": settings.KIE_CALLBACK_SECRET, "videoId": str(video.pk)})
    return f"{settings.CALLBACK_URL}{separator}{query}"


def video_debit(*, video) -> CreditTransaction | None:
    return CreditTransaction.objects.filter(video_id=video.pk, type=TransactionType.USAGE).first()


def _refund(video_id, *, reason: str, staff_user=None) -> CreditTransaction | None:
    debit = CreditTransaction.objects.filter(video_id=video_id, type=TransactionType.USAGE).first()
    if debit is None:
        return None
    return credits_refund(debit=debit, description=reason[:255], staff_user=staff_user)


# --- start ---------------------------------------------------------------------------------------


def video_generation_start(
    *,
    user,
    prompt: str,
    triggers: list[str],
    duration: int,
    quality: str,
    aspect_ratio: str,
    image_url: str = "",
    watermark: str = "",
    idempotency_key: str | None = None,
) -> tuple[Video, bool]:
    """Reserves the credits, creates the video and enqueues its submission, in one transaction.

    Returns (video, created); a repeated Idempotency-Key returns the first video (created=False).
    """
    from billing.selectors import plan_entitlements
    from videos.tasks import video_submit_task

    duration = 5 if duration == 5 else settings.KIE_LONG_DURATION
    if quality == "1080p" and plan_entitlements(plan_type=user.profile.plan_type)["maxQuality"] != "1080p":
        raise PlanUpgradeRequired(details={"required": "pro", "quality": quality})
    cost = generation_cost(duration=duration, quality=quality)
    if cost is None:
        raise ValidationFailed(
            "This duration and quality are not offered together.",
            details=[{"field": "quality", "message": "Not offered with this duration."}],
        )
    enhanced = prompt_enhance(prompt=prompt, triggers=triggers)
    fields = {
        "prompt": prompt,
        "enhanced_prompt": enhanced,
        "triggers": triggers,
        "duration": duration,
        "quality": quality,
        "aspect_ratio": aspect_ratio,
        "image_url": image_url,
        "watermark": watermark,
    }
    if idempotency_key:
        existing = Video.objects.filter(user=user, idempotency_key=idempotency_key).first()
        if existing is not None:
            return _idempotent_replay(existing, fields), False
    try:
        with transaction.atomic():
            # The debit is written first, naming the video about to be inserted (its UUID is set already;
            # foreign keys are checked at commit), so the video row goes in once, complete with its debit.
            video = Video(user=user, credit_cost=cost, idempotency_key=idempotency_key or None, **fields)
            video.debit = credits_spend(
                user=user,
                amount=cost,
                description=f"Video generation ({duration}s, {quality})",
                video=video,
                counts_video=True,
            )
            video.save(force_insert=True)
            _event(video.pk, VideoEvent.Source.SYSTEM, "accepted; credits reserved", {"cost": cost})
            _enqueue(video_submit_task, video_id=str(video.pk))
    except IntegrityError:
        if not idempotency_key:
            raise
        # A concurrent request with the same key won the insert: answer with its video.
        existing = Video.objects.get(user=user, idempotency_key=idempotency_key)
        return _idempotent_replay(existing, fields), False
    business_log.info(
        "generation started", extra={"event": "generation_started", "video": str(video.pk), "cost": cost}
    )
    return video, True


def _idempotent_replay(video: Video, fields: dict) -> Video:
    different = [
        name for name, value in fields.items() if name != "enhanced_prompt" and getattr(video, name) != value
    ]
    if different:
        raise Conflict(
            "This Idempotency-Key was used for a different request.",
            code="IDEMPOTENCY_KEY_REUSED",
            details={"fields": different},
        )
    return video


# --- submit --------------------------------------------------------------------------------------


def video_submit(*, video_id) -> None:
    """Sends a queued video to KIE (outside any transaction) and records the task id.

    Claiming sets `submit_started_at`, so a job is never sent twice; only answers that prove no job was
    created (429, 455, unreachable) release the claim for a retry with backoff.
    """
    from videos.tasks import video_submit_task

    now = timezone.now()
    claimed = Video.objects.filter(
        pk=video_id, status=VideoStatus.QUEUED, submit_started_at__isnull=True
    ).update(submit_started_at=now, submit_attempts=F("submit_attempts") + 1, updated_at=now)
    video = Video.objects.filter(pk=video_id).first() if claimed else None
    if video is None:
        return
    try:
        result = kie_client().generate(
            prompt=video.enhanced_prompt,
            duration=video.duration,
            quality=video.quality,
            aspect_ratio=video.aspect_ratio,
            image_url=video.image_url,
            watermark=video.watermark,
            callback_url=callback_url_for(video),
        )
    except KieOutcomeUnknown as exc:
        # KIE may have started (and billed) a job: never re-send. A callback carrying our video id
        # reconciles it; otherwise the sweep fails and refunds it after GENERATION_SUBMIT_UNKNOWN_SECONDS.
        with transaction.atomic():
            Video.objects.filter(pk=video_id, status=VideoStatus.QUEUED).update(
                submit_outcome_unknown=True, updated_at=timezone.now()
            )
            _event(video_id, VideoEvent.Source.SUBMIT, f"outcome unknown: {exc.message}", {"code": exc.code})
        return
    except KieError as exc:
        payload = {"code": exc.code, "providerCode": exc.kie_code, "message": exc.message}
        if exc.retryable and video.submit_attempts < settings.GENERATION_SUBMIT_MAX_ATTEMPTS:
            with transaction.atomic():
                released = Video.objects.filter(
                    pk=video_id, status=VideoStatus.QUEUED, submit_started_at=now
                ).update(submit_started_at=None, updated_at=timezone.now())
                _event(
                    video_id, VideoEvent.Source.SUBMIT, f"rejected for now ({exc.code}); will retry", payload
                )
                if released:
                    _enqueue(
                        video_submit_task,
                        run_after=timezone.now() + _backoff(video.submit_attempts),
                        video_id=str(video_id),
                    )
            return
        _event(video_id, VideoEvent.Source.SUBMIT, f"rejected ({exc.code})", payload)
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
        _event(video_id, VideoEvent.Source.SUBMIT, "accepted by KIE", {"taskId": result.task_id})


# --- settle --------------------------------------------------------------------------------------


def video_fail(
    *,
    video,
    error_code: str,
    message: str,
    from_statuses=OPEN_STATUSES,
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
        refund = _refund(video.pk, reason=f"Refund: video {status} ({error_code})")
        _event(
            video.pk,
            source,
            f"{status}: {error_code}",
            {"message": message, "refund": refund.amount if refund else 0},
        )
    business_log.info(
        "generation failed", extra={"event": "generation_failed", "video": str(video.pk), "code": error_code}
    )
    return True


def video_mark_generated(
    *, video, provider_video_id: str, video_url: str, image_url: str, confirmed: bool
) -> bool:
    """KIE says success: move to storing and enqueue the copy (once). Returns True when it moved.

    URLs are kept only when KIE's record confirmed them or they are on a configured KIE file host.
    """
    from videos.tasks import video_copy_task

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
            updated_at=now,
            **urls,
        )
        if moved:
            _enqueue(video_copy_task, video_id=str(video.pk))
        elif confirmed and urls:
            Video.objects.filter(pk=video.pk, status=VideoStatus.STORING).update(**urls)
    return bool(moved)


CALLBACK_ERRORS = {400: "GENERATION_REJECTED", 500: "GENERATION_FAILED"}


def _record_error_code(record: RecordDetail) -> str:
    try:
        code = int(record.fail_code)
    except ValueError:
        return "GENERATION_FAILED"
    return CALLBACK_ERRORS.get(code, "GENERATION_REJECTED" if 400 <= code < 500 else "GENERATION_FAILED")


def _has_nul(value) -> bool:
    stack = [value]
    while stack:
        node = stack.pop()
        if isinstance(node, str) and "\x00" in node:
            return True
        if isinstance(node, dict):
            stack.extend([*node.keys(), *node.values()])
        elif isinstance(node, list):
            stack.extend(node)
    return False


def parse_callback(body) -> dict:
    """KIE's runway callback (snake_case; camelCase tolerated). Raises INVALID_CALLBACK when malformed."""
    problems = []
    if not isinstance(body, dict):
        raise ValidationFailed("The callback body must be a JSON object.", code="INVALID_CALLBACK")
    if _has_nul(body):  # PostgreSQL text and jsonb cannot hold NUL: malformed, not a 500
        raise ValidationFailed("The callback holds a NUL character.", code="INVALID_CALLBACK")
    data = body.get("data")
    try:
        code = int(body.get("code"))
    except (TypeError, ValueError):
        code = None
        problems.append({"field": "code", "message": "An integer is required."})
    if not isinstance(data, dict):
        problems.append({"field": "data", "message": "An object is required."})
        data = {}
    task_id = data.get("task_id") or data.get("taskId")
    if not isinstance(task_id, str) or not task_id.strip() or len(task_id) > 128:
        problems.append({"field": "data.task_id", "message": "A task id is required."})
    values = {}
    for name, alias in (("video_id", "videoId"), ("video_url", "videoUrl"), ("image_url", "imageUrl")):
        value = data.get(name, data.get(alias)) or ""
        if not isinstance(value, str) or len(value) > 2000:
            problems.append({"field": f"data.{name}", "message": "A string is required."})
            value = ""
        values[name] = value
    if problems:
        raise ValidationFailed("The callback is malformed.", code="INVALID_CALLBACK", details=problems)
    return {"code": code, "msg": str(body.get("msg") or "")[:500], "task_id": task_id.strip(), **values}


def kie_callback_handle(*, callback: dict, video_hint: str | None, raw: dict) -> bool:
    """Settles a video from an authenticated callback; idempotent. Returns False for an unknown task."""
    task_id = callback["task_id"]
    video = Video.objects.filter(provider_task_id=task_id).first()
    if video is None and video_hint:
        video = _adopt_task(video_hint=video_hint, task_id=task_id)
    if video is None:
        logger.warning(
            "callback for an unknown task", extra={"event": "kie_callback_unknown", "task": task_id}
        )
        return False
    _event(video.pk, VideoEvent.Source.CALLBACK, f"callback {callback['code']}: {callback['msg'][:200]}", raw)
    if callback["code"] == 200:
        video_mark_generated(
            video=video,
            provider_video_id=callback["video_id"],
            video_url=callback["video_url"],
            image_url=callback["image_url"],
            confirmed=False,
        )
    else:
        video_fail(
            video=video,
            error_code=CALLBACK_ERRORS.get(callback["code"], "GENERATION_FAILED"),
            message=callback["msg"] or "The provider could not generate the video.",
            from_statuses=PRE_STORING,
            source=VideoEvent.Source.CALLBACK,
        )
    return True


def _adopt_task(*, video_hint: str, task_id: str) -> Video | None:
    """A callback for a job whose submission outcome we never learned: attach its task id once."""
    try:
        video_hint = uuid.UUID(str(video_hint))
    except ValueError:
        return None
    try:
        with transaction.atomic():
            adopted = Video.objects.filter(
                pk=video_hint, provider_task_id__isnull=True, submit_started_at__isnull=False
            ).update(provider_task_id=task_id, submitted_at=timezone.now(), submit_outcome_unknown=False)
    except IntegrityError:  # the task id already belongs to another video
        return None
    return Video.objects.filter(pk=video_hint, provider_task_id=task_id).first() if adopted else None


def video_apply_record(*, video, record: RecordDetail) -> None:
    """Settles a video from KIE's record-detail answer (a poll)."""
    now = timezone.now()
    _event(video.pk, VideoEvent.Source.POLL, f"record: {record.state or 'unknown'}", record.raw)
    Video.objects.filter(pk=video.pk, status__in=OPEN_STATUSES).update(
        last_synced_at=now, provider_state=record.state or F("provider_state")
    )
    if record.state in ("queueing", "generating"):
        Video.objects.filter(pk=video.pk, status=VideoStatus.SUBMITTED).update(
            status=VideoStatus.PROCESSING, updated_at=now
        )
    elif record.state == "success":
        if record.expired:
            video_fail(
                video=video,
                error_code="PROVIDER_FILES_EXPIRED",
                message="The provider no longer has the files.",
                source=VideoEvent.Source.POLL,
            )
        else:
            video_mark_generated(
                video=video,
                provider_video_id=record.video_id,
                video_url=record.video_url,
                image_url=record.image_url,
                confirmed=True,
            )
    elif record.state == "fail":
        video_fail(
            video=video,
            error_code=_record_error_code(record),
            message=record.fail_msg or "The provider could not generate the video.",
            from_statuses=PRE_STORING,
            source=VideoEvent.Source.POLL,
        )


def video_sync_from_kie(*, video) -> Video:
    """Asks KIE's record for this job and settles the video. No transaction is open during the call."""
    if not video.provider_task_id:
        return Video.objects.get(pk=video.pk)
    record = kie_client().record_detail(video.provider_task_id)
    video_apply_record(video=video, record=record)
    return Video.objects.get(pk=video.pk)


def video_refresh_if_stale(*, video) -> Video:
    """For the status endpoint: a job with no news for a while is refreshed from KIE (throttled)."""
    if video.status not in (VideoStatus.SUBMITTED, VideoStatus.PROCESSING) or not video.provider_task_id:
        return video
    now = timezone.now()
    threshold = now - timedelta(seconds=settings.GENERATION_STATUS_REFRESH_SECONDS)
    if video.last_synced_at and video.last_synced_at > threshold:
        return video
    if video.submitted_at and video.submitted_at > threshold:
        return video
    # Only one request per interval gets to ask KIE.
    previous = (
        Q(last_synced_at__isnull=True)
        if video.last_synced_at is None
        else Q(last_synced_at=video.last_synced_at)
    )
    if not Video.objects.filter(previous, pk=video.pk).update(last_synced_at=now):
        return video
    try:
        return video_sync_from_kie(video=video)
    except KieError as exc:
        logger.warning("status refresh failed", extra={"event": "kie_refresh_failed", "code": exc.code})
        return Video.objects.get(pk=video.pk)


# --- copy ----------------------------------------------------------------------------------------


def video_copy_media(*, video_id) -> None:
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
            record = client.record_detail(video.provider_task_id) if video.provider_task_id else None
            if record is None or record.state != "success" or not record.video_url:
                raise KieDownloadError("KIE's record does not confirm the files yet.")
            if record.expired:
                raise MediaRejected("The provider no longer has the files.")
            video_url, image_url, trusted = record.video_url, record.image_url, True
            Video.objects.filter(pk=video_id).update(
                provider_video_url=video_url[:2000], provider_thumbnail_url=image_url[:2000]
            )
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
            _event(
                video_id,
                VideoEvent.Source.SYSTEM,
                "stored",
                {"video": video_name, "thumbnail": thumb_name, "size": size},
            )
    if not done:  # deleted or settled meanwhile: do not leave orphans behind
        from videos.tasks import storage_files_delete

        storage_files_delete.call(paths=[name for name in (video_name, thumb_name) if name])
        return
    business_log.info("video ready", extra={"event": "video_ready", "video": str(video_id), "size": size})


def _copy_retry(video: Video, exc: Exception) -> None:
    from videos.tasks import video_copy_task

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
        _event(
            video.pk,
            VideoEvent.Source.SYSTEM,
            f"copy attempt {attempts} failed" + ("; retrying" if retry else "; left to the sweep"),
            {"error": message},
        )
        if retry:
            _enqueue(video_copy_task, run_after=timezone.now() + _backoff(attempts), video_id=str(video.pk))


# --- user actions --------------------------------------------------------------------------------


def video_cancel(*, video) -> Video:
    """Cancels a job KIE has not been sent yet, and refunds it; once sent, CANCELLATION_NOT_SUPPORTED."""
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
    if current.status != VideoStatus.CANCELLED:
        raise Conflict(
            "The provider already has this job, or it has finished; it cannot be cancelled.",
            code="CANCELLATION_NOT_SUPPORTED",
        )
    return current


def video_favorite_set(*, video, favorite: bool) -> Video:
    Video.objects.filter(pk=video.pk).update(is_favorite=favorite, updated_at=timezone.now())
    video.is_favorite = favorite
    return video


def video_delete(*, video) -> None:
    """Deletes the record; its stored files are removed after the commit. An open job is refunded first."""
    from videos.tasks import storage_files_delete

    if video.status in PRE_STORING and video.submit_started_at is None:
        video_cancel(video=video)
    paths = [name for name in (video.video_file.name, video.thumbnail_file.name) if name]
    with transaction.atomic():
        Video.objects.filter(pk=video.pk).delete()
        if paths:
            _enqueue(storage_files_delete, paths=paths)


def user_videos_delete(*, user) -> None:
    """Deletes the user's videos; their stored files are removed after the commit."""
    from videos.tasks import storage_files_delete

    paths = []
    for video in Video.objects.filter(user=user).only("id", "video_file", "thumbnail_file"):
        paths.extend(name for name in (video.video_file.name, video.thumbnail_file.name) if name)
    with transaction.atomic():
        Video.objects.filter(user=user).delete()
        if paths:
            _enqueue(storage_files_delete, paths=paths)


# --- staff ---------------------------------------------------------------------------------------


def video_refund(*, video, staff_user) -> CreditTransaction | None:
    """Staff refund of a settled video's charge, exactly once. None when already refunded or never charged."""
    current = Video.objects.get(pk=video.pk)
    if current.status in OPEN_STATUSES:
        raise Conflict("The video is still being generated; it settles itself.", code="VIDEO_NOT_SETTLED")
    with transaction.atomic():
        refund = _refund(video.pk, reason=f"Staff refund of video {video.pk}", staff_user=staff_user)
        if refund is not None:
            _event(video.pk, VideoEvent.Source.SYSTEM, "refunded by staff", {"staff": str(staff_user.pk)})
    return refund


# --- sweep ---------------------------------------------------------------------------------------


def generations_sweep(*, limit: int = 500, report=None) -> dict:
    """Settles what callbacks and tasks left behind; safe to run every minute (every move is conditional).

    1. queued jobs never claimed (a lost task) are re-queued;
    2. submissions whose outcome stayed unknown past GENERATION_SUBMIT_UNKNOWN_SECONDS fail and refund;
    3. jobs without news past GENERATION_CALLBACK_GRACE_SECONDS are settled from KIE's record;
    4. jobs still unsettled past GENERATION_DEADLINE_SECONDS fail and refund;
    5. stuck copies are re-queued, and fail and refund past GENERATION_STORING_DEADLINE_SECONDS;
    6. tasks a dead worker left running past WORKER_STALE_SECONDS are closed and run again.
    """
    from videos.tasks import video_copy_task, video_submit_task

    report = report or (lambda message: None)
    now = timezone.now()
    counts = dict.fromkeys(
        ("requeued", "unconfirmed", "polled", "settled", "timed_out", "copies", "copy_failed", "tasks_rerun"), 0
    )
    stale = now - timedelta(seconds=settings.GENERATION_STALE_SECONDS)

    lost = Video.objects.filter(
        status=VideoStatus.QUEUED, submit_started_at__isnull=True, updated_at__lt=stale
    )
    for video_id in list(lost.values_list("pk", flat=True)[:limit]):
        with transaction.atomic():
            if Video.objects.filter(pk=video_id, submit_started_at__isnull=True).update(updated_at=now):
                _enqueue(video_submit_task, video_id=str(video_id))
                counts["requeued"] += 1
    report(f"re-queued submissions: {counts['requeued']}")

    unknown_before = now - timedelta(seconds=settings.GENERATION_SUBMIT_UNKNOWN_SECONDS)
    unconfirmed = Video.objects.filter(
        status=VideoStatus.QUEUED, provider_task_id__isnull=True, submit_started_at__lt=unknown_before
    )
    for video in list(unconfirmed[:limit]):
        if video_fail(
            video=video,
            error_code="SUBMISSION_UNCONFIRMED",
            message="The provider never confirmed the job.",
            from_statuses=(VideoStatus.QUEUED,),
        ):
            counts["unconfirmed"] += 1
    report(f"unconfirmed submissions failed and refunded: {counts['unconfirmed']}")

    grace = now - timedelta(seconds=settings.GENERATION_CALLBACK_GRACE_SECONDS)
    silent = Video.objects.filter(
        Q(last_synced_at__isnull=True) | Q(last_synced_at__lt=grace),
        status__in=PRE_STORING,
        provider_task_id__isnull=False,
        submitted_at__lt=grace,
    ).order_by("submitted_at")
    for video in list(silent[:limit]):
        try:
            after = video_sync_from_kie(video=video)
        except KieError as exc:
            report(f"  {video.pk}: KIE record failed ({exc.code})")
            continue
        counts["polled"] += 1
        if after.status != video.status:
            counts["settled"] += 1
            report(f"  {video.pk}: {video.status} -> {after.status}")
    report(f"polled from KIE: {counts['polled']} (settled {counts['settled']})")

    deadline = now - timedelta(seconds=settings.GENERATION_DEADLINE_SECONDS)
    for video in list(Video.objects.filter(status__in=PRE_STORING, created_at__lt=deadline)[:limit]):
        if video_fail(
            video=video,
            error_code="GENERATION_TIMEOUT",
            message="The provider did not finish in time.",
            from_statuses=PRE_STORING,
        ):
            counts["timed_out"] += 1
    report(f"past the deadline, failed and refunded: {counts['timed_out']}")

    storing_deadline = now - timedelta(seconds=settings.GENERATION_STORING_DEADLINE_SECONDS)
    stuck = Video.objects.filter(
        Q(copy_lease_until__isnull=True) | Q(copy_lease_until__lt=now),
        status=VideoStatus.STORING,
        updated_at__lt=stale,
    )
    for video in list(stuck[:limit]):
        if video.created_at < storing_deadline:
            if video_fail(
                video=video,
                error_code="STORAGE_FAILED",
                message="The files could not be copied.",
                from_statuses=(VideoStatus.STORING,),
            ):
                counts["copy_failed"] += 1
            continue
        with transaction.atomic():
            if Video.objects.filter(
                pk=video.pk, status=VideoStatus.STORING, updated_at=video.updated_at
            ).update(updated_at=now):
                _enqueue(video_copy_task, video_id=str(video.pk))
                counts["copies"] += 1
    report(f"copies re-queued: {counts['copies']}; copies given up and refunded: {counts['copy_failed']}")

    counts["tasks_rerun"] = _abandoned_tasks_rerun(now=now, limit=limit)
    report(f"tasks abandoned by a stopped worker, run again: {counts['tasks_rerun']}")
    return counts


def _abandoned_tasks_rerun(*, now, limit: int) -> int:
    """The task library never reclaims a task whose worker died (killed, OOM, machine lost): its row stays
    RUNNING. Past WORKER_STALE_SECONDS such a row is closed as failed (WorkerLost) and the task enqueued
    again. Every task here is safe to run twice: claims, leases and conditional moves see to it."""
    from django_tasks import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    abandoned_before = now - timedelta(seconds=settings.WORKER_STALE_SECONDS)
    abandoned = DBTaskResult.objects.filter(status=TaskResultStatus.RUNNING, started_at__lt=abandoned_before)
    rerun = 0
    for row in list(abandoned.order_by("started_at")[:limit]):
        try:
            task = row.task
        except (ImportError, SuspiciousOperation):  # the code no longer has this task: close it only
            task = None
        with transaction.atomic():
            closed = DBTaskResult.objects.filter(pk=row.pk, status=TaskResultStatus.RUNNING).update(
                status=TaskResultStatus.FAILED,
                finished_at=now,
                exception_class_path="videos.tasks.WorkerLost",
                traceback=f"The worker stopped before finishing this task ({now.isoformat()}).",
            )
            if closed and task is not None:
                arguments = row.args_kwargs
                task.enqueue(*arguments["args"], **arguments["kwargs"])
                rerun += 1
                logger.warning(
                    "task abandoned by a stopped worker, run again",
                    extra={"event": "task_rerun", "task": str(row.pk), "path": row.task_path},
                )
    return rerun
