"""Starting a generation: check the model and plan, charge the catalogue price, create the video, enqueue
its submission."""

from __future__ import annotations

from django.conf import settings
from django.db import IntegrityError, transaction

from accounts.models import User
from aiasmr.api.exceptions import Conflict
from aiasmr.api.logging import business_log
from aiasmr.api.metrics import GENERATIONS, count_on_commit
from credits.services import credits_spend
from videos.catalog import DEFAULT_MODEL, generation_options_resolve
from videos.models import KieApi, Video, VideoEvent
from videos.prompts import prompt_enhance
from videos.services.queue import VIDEO_SUBMIT_TASK, task_enqueue
from videos.uploads import UPLOAD_REF_PREFIX, image_refs_resolve, uploads_mark_used


def video_generation_start(
    *,
    user: User,
    prompt: str,
    triggers: list[str],
    duration: int | None,
    quality: str | None,
    aspect_ratio: str | None,
    image_url: str = "",
    watermark: str = "",
    idempotency_key: str | None = None,
    model: str = DEFAULT_MODEL,
    image_urls: list[str] | None = None,
) -> tuple[Video, bool]:
    """Reserves the credits, creates the video and enqueues its submission, in one transaction.

    `model` names a catalogue model; its price in force now is charged and recorded on the video.
    `image_url` and `image_urls` (upload ids, upload URLs or public https URLs) are the job's images.
    Returns (video, created); a repeated Idempotency-Key returns the first video (created=False).
    """
    images = ([image_url] if image_url else []) + list(image_urls or [])
    options = generation_options_resolve(
        profile=user.profile,
        model_code=model,
        duration=duration,
        quality=quality,
        aspect_ratio=aspect_ratio,
        image_count=len(images),
    )
    refs = image_refs_resolve(user=user, values=images) if images else []
    duration = options.duration
    if options.model.kie_api == KieApi.RUNWAY:
        duration = 5 if duration == 5 else settings.KIE_LONG_DURATION
    quality, cost = options.quality, options.cost
    # An external URL keeps its Express-era place; an upload is only a ref (its URL is made at submission).
    external_url = image_url if image_url and refs and not refs[0].startswith(UPLOAD_REF_PREFIX) else ""
    enhanced = prompt_enhance(prompt=prompt, triggers=triggers)
    fields = {
        "prompt": prompt,
        "enhanced_prompt": enhanced,
        "triggers": triggers,
        "duration": duration,
        "quality": quality,
        "aspect_ratio": options.aspect_ratio,
        "image_url": external_url,
        "watermark": watermark,
        "model": options.model.code,
        "image_refs": refs,
    }
    if idempotency_key:
        existing = Video.objects.filter(user=user, idempotency_key=idempotency_key).first()
        if existing is not None:
            return _idempotent_replay(existing, fields), False
    try:
        with transaction.atomic():
            # The debit is written first, naming the video about to be inserted (its UUID is set already;
            # foreign keys are checked at commit), so the video row goes in once, complete with its debit.
            video = Video(
                user=user,
                credit_cost=cost,
                kie_api=options.model.kie_api,
                wants_1080p=options.wants_1080p,
                idempotency_key=idempotency_key or None,
                **fields,
            )
            video.debit = credits_spend(
                user=user,
                amount=cost,
                description=_charge_description(options.model, duration=duration, quality=quality),
                video=video,
                counts_video=True,
            )
            video.save(force_insert=True)
            uploads_mark_used(refs=refs)
            # No row lock (video_event_record's): no other transaction can see this video yet.
            VideoEvent.objects.create(
                video=video,
                source=VideoEvent.Source.SYSTEM,
                summary="accepted; credits reserved",
                payload={"cost": cost, "model": options.model.code},
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


def _charge_description(model, *, duration: int, quality: str) -> str:
    # Runway's charges keep the Express-era wording the app already shows in the history.
    named = "" if model.code == DEFAULT_MODEL else f"{model.name}, "
    return f"Video generation ({named}{duration}s, {quality})"


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
