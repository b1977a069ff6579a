"""Starting a generation: check the plan, reserve the credits, create the video, enqueue its submission."""

from __future__ import annotations

from django.conf import settings
from django.db import IntegrityError, transaction

from accounts.models import User
from accounts.selectors import plan_entitlements
from aiasmr.api.exceptions import AccessDenied, Conflict, ValidationFailed
from aiasmr.api.logging import business_log
from aiasmr.api.metrics import GENERATIONS, count_on_commit
from credits.services import credits_spend
from videos.models import Video, VideoEvent
from videos.prompts import prompt_enhance
from videos.services.common import video_event_record
from videos.services.queue import VIDEO_SUBMIT_TASK, task_enqueue


class PlanUpgradeRequired(AccessDenied):
    code = "PLAN_UPGRADE_REQUIRED"
    default_message = "Your plan does not include this quality; upgrade to generate it."


def generation_cost(*, duration: int, quality: str) -> int | None:
    key = f"{5 if duration == 5 else 8}:{quality}"
    cost = settings.GENERATION_COSTS.get(key)
    return int(cost) if cost else None


def video_generation_start(
    *,
    user: User,
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
    duration = 5 if duration == 5 else settings.KIE_LONG_DURATION
    if quality == "1080p" and plan_entitlements(profile=user.profile)["maxQuality"] != "1080p":
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
            video_event_record(
                video_id=video.pk,
                source=VideoEvent.Source.SYSTEM,
                summary="accepted; credits reserved",
                payload={"cost": cost},
            )
            task_enqueue(task_path=VIDEO_SUBMIT_TASK, video_id=str(video.pk))
            count_on_commit(GENERATIONS.labels(video.provider, quality, "started").inc)
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
