"""What KIE tells us about a job: its callback (parsed, then applied) and its record (polled on demand)."""

from __future__ import annotations

import uuid
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from aiasmr.api.exceptions import ValidationFailed
from videos.kie.client import KieError, RecordDetail
from videos.models import OPEN_STATUSES, Video, VideoEvent, VideoStatus
from videos.services.common import PRE_STORING, logger, video_event_record
from videos.services.provider import provider_record
from videos.services.settlement import video_fail, video_mark_generated

# Callback codes of both APIs (Veo adds 422 rejected upstream and 501 generation failed).
CALLBACK_ERRORS = {
    400: "GENERATION_REJECTED",
    422: "GENERATION_REJECTED",
    500: "GENERATION_FAILED",
    501: "GENERATION_FAILED",
}


def _record_error_code(record: RecordDetail) -> str:
    try:
        code = int(record.fail_code)
    except (ValueError, OverflowError):
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


def parse_callback(*, body: object) -> dict:
    """KIE's runway callback (snake_case; camelCase tolerated). Raises INVALID_CALLBACK when malformed."""
    problems = []
    if not isinstance(body, dict):
        raise ValidationFailed("The callback body must be a JSON object.", code="INVALID_CALLBACK")
    if _has_nul(body):  # PostgreSQL text and jsonb cannot hold NUL: malformed, not a 500
        raise ValidationFailed("The callback holds a NUL character.", code="INVALID_CALLBACK")
    data = body.get("data")
    try:
        code = int(body.get("code"))
        if abs(code) > 2**31:  # KIE's codes are HTTP-like; a huge one is malformed, not a settlement
            raise ValueError(code)
    except (TypeError, ValueError, OverflowError):
        code = None
        problems.append({"field": "code", "message": "An integer is required."})
    if not isinstance(data, dict):
        problems.append({"field": "data", "message": "An object is required."})
        data = {}
    task_id = data.get("task_id") or data.get("taskId")
    if not isinstance(task_id, str) or not task_id.strip() or len(task_id) > 128:
        problems.append({"field": "data.task_id", "message": "A task id is required."})
    if "info" in data:  # Veo's shape: {taskId, info: {resultUrls, originUrls, resolution}, fallbackFlag}
        return _parse_veo_callback(code=code, body=body, data=data, task_id=task_id, problems=problems)
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


def _parse_veo_callback(*, code, body: dict, data: dict, task_id, problems: list) -> dict:
    info = data.get("info")
    if info is None:
        info = {}
    if not isinstance(info, dict):
        problems.append({"field": "data.info", "message": "An object is required."})
        info = {}
    urls = info.get("resultUrls") or info.get("result_urls") or []
    if isinstance(urls, str):
        urls = [urls]
    if not isinstance(urls, list) or not all(isinstance(url, str) and len(url) <= 2000 for url in urls):
        problems.append({"field": "data.info.resultUrls", "message": "A list of URLs is required."})
        urls = []
    if problems:
        raise ValidationFailed("The callback is malformed.", code="INVALID_CALLBACK", details=problems)
    return {
        "code": code,
        "msg": str(body.get("msg") or "")[:500],
        "task_id": task_id.strip(),
        "video_id": "",
        "video_url": urls[0] if urls else "",
        "image_url": "",
    }


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
    video_event_record(
        video_id=video.pk,
        source=VideoEvent.Source.CALLBACK,
        summary=f"callback {callback['code']}: {callback['msg'][:200]}",
        payload=raw,
    )
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


def video_apply_record(*, video: Video, record: RecordDetail) -> None:
    """Settles a video from KIE's record-detail answer (a poll)."""
    now = timezone.now()
    video_event_record(
        video_id=video.pk,
        source=VideoEvent.Source.POLL,
        summary=f"record: {record.state or 'unknown'}",
        payload=record.raw,
    )
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


def video_sync_from_kie(*, video: Video) -> Video:
    """Asks KIE's record for this job and settles the video. No transaction is open during the call."""
    if not video.provider_task_id:
        return Video.objects.get(pk=video.pk)
    record = provider_record(video=video)
    video_apply_record(video=video, record=record)
    return Video.objects.get(pk=video.pk)


def video_refresh_if_stale(*, video: Video) -> Video:
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
