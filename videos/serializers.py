"""Input validation for generation and the shapes of videos and job status in the API."""

import re

from django.conf import settings
from django.utils import timezone
from rest_framework import serializers

from aiasmr.api.pagination import PaginationSerializer
from videos.input_checks import has_control_chars, public_https_url_error
from videos.media import media_url
from videos.uploads import looks_like_upload

ASPECT_RATIOS = ("16:9", "4:3", "1:1", "3:4", "9:16")
QUALITIES = ("720p", "1080p")
TRIGGER_RE = re.compile(r"^[a-z][a-z-]{0,19}$")


class GenerateSerializer(serializers.Serializer):
    prompt = serializers.CharField(min_length=10, max_length=1800, trim_whitespace=True)
    triggers = serializers.ListField(
        child=serializers.CharField(max_length=20, trim_whitespace=True),
        max_length=3,
        required=False,
        default=list,
    )
    model = serializers.CharField(
        max_length=32,
        required=False,
        default="runway",
        help_text="A model id from GET /api/models (runway, veo3_fast, veo3); its options and price apply.",
    )
    duration = serializers.IntegerField(
        required=False, help_text="Seconds, one the model offers; default its first (Runway 5, Veo 8)."
    )
    quality = serializers.ChoiceField(
        choices=QUALITIES,
        required=False,
        help_text="Default 720p; Veo: 1080p for 16:9 when the plan includes it (fetched after success).",
    )
    aspectRatio = serializers.ChoiceField(choices=ASPECT_RATIOS, required=False, default="16:9")  # noqa: N815
    imageUrl = serializers.CharField(  # noqa: N815
        max_length=1000,
        required=False,
        allow_blank=True,
        default="",
        help_text="An upload id (POST /api/uploads/images), its URL, or a public https URL.",
    )
    imageUrls = serializers.ListField(  # noqa: N815
        child=serializers.CharField(max_length=1000),
        max_length=2,
        required=False,
        default=list,
        help_text="0-2 images (upload ids, their URLs or public https URLs), as many as the model takes; "
        "Veo: one image to start from, or the first and last frames.",
    )
    waterMark = serializers.CharField(  # noqa: N815
        max_length=100, required=False, allow_blank=True, default="", help_text='Watermark text; "" for none.'
    )

    def validate_prompt(self, value):
        if has_control_chars(value, allow_newlines=True):
            raise serializers.ValidationError("Control characters are not allowed.")
        return value

    def validate_triggers(self, value):
        words = []
        for raw in value:
            word = raw.strip().lower()
            if not TRIGGER_RE.match(word):
                raise serializers.ValidationError(
                    "Each trigger is one short plain word (letters and hyphens)."
                )
            if word not in words:
                words.append(word)
        return words

    def validate_duration(self, value):
        if value not in (5, 8, settings.KIE_LONG_DURATION):
            raise serializers.ValidationError("Duration must be 5 or 8 seconds.")
        return value

    def validate_imageUrl(self, value):  # noqa: N802 - DRF's naming
        value = value.strip()
        if value and not looks_like_upload(value):  # uploads are checked against their owner when starting
            problem = public_https_url_error(value)
            if problem:
                raise serializers.ValidationError(problem)
        return value

    def validate_imageUrls(self, value):  # noqa: N802
        return [self.validate_imageUrl(item) for item in value if item.strip()]

    def validate_waterMark(self, value):  # noqa: N802
        if has_control_chars(value, allow_newlines=False) or "<" in value or ">" in value:
            raise serializers.ValidationError("Plain text only.")
        return value.strip()

    def validate(self, attrs):
        runway = attrs["model"] == "runway"
        if runway and attrs.get("duration", 5) != 5 and attrs.get("quality") == "1080p":
            raise serializers.ValidationError({"quality": "The long duration is offered in 720p only."})
        return attrs


class FavoriteSerializer(serializers.Serializer):
    favorite = serializers.BooleanField()


class VideoErrorSerializer(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()


class VideoSerializer(serializers.Serializer):
    """A video as the app sees it; URLs point at the stored copies (signed when the bucket is private)."""

    id = serializers.UUIDField()
    taskId = serializers.CharField(help_text="The id to poll /generate/status with (the video id).")  # noqa: N815
    providerTaskId = serializers.CharField(allow_null=True)  # noqa: N815
    status = serializers.ChoiceField(choices=["pending", "processing", "completed", "failed"])
    state = serializers.CharField(
        help_text="queued, submitted, processing, storing, ready, failed, cancelled"
    )
    prompt = serializers.CharField()
    enhancedPrompt = serializers.CharField()  # noqa: N815
    triggers = serializers.ListField(child=serializers.CharField())
    duration = serializers.IntegerField()
    quality = serializers.CharField()
    aspectRatio = serializers.CharField()  # noqa: N815
    imageUrl = serializers.CharField(allow_blank=True)  # noqa: N815
    waterMark = serializers.CharField(allow_blank=True)  # noqa: N815
    creditCost = serializers.IntegerField()  # noqa: N815
    videoUrl = serializers.CharField(allow_null=True)  # noqa: N815
    thumbnailUrl = serializers.CharField(allow_null=True)  # noqa: N815
    fileSize = serializers.IntegerField(allow_null=True)  # noqa: N815
    isFavorite = serializers.BooleanField()  # noqa: N815
    error = VideoErrorSerializer(allow_null=True)
    createdAt = serializers.DateTimeField()  # noqa: N815
    submittedAt = serializers.DateTimeField(allow_null=True)  # noqa: N815
    completedAt = serializers.DateTimeField(allow_null=True)  # noqa: N815


class VideoListSerializer(serializers.Serializer):
    videos = VideoSerializer(many=True)
    pagination = PaginationSerializer()


class VideoStatsSerializer(serializers.Serializer):
    total = serializers.IntegerField()
    byStatus = serializers.DictField(
        child=serializers.IntegerField(), help_text="pending/processing/completed/failed"
    )  # noqa: N815
    favorites = serializers.IntegerField()
    totalDuration = serializers.IntegerField(help_text="Seconds of completed video.")  # noqa: N815


class GenerateParametersSerializer(serializers.Serializer):
    model = serializers.CharField()
    duration = serializers.IntegerField()
    quality = serializers.CharField()
    aspectRatio = serializers.CharField()  # noqa: N815
    triggers = serializers.ListField(child=serializers.CharField())
    imageUrl = serializers.CharField(allow_blank=True)  # noqa: N815
    imageUrls = serializers.ListField(  # noqa: N815
        child=serializers.CharField(), help_text="The images: upload ids, or public URLs."
    )
    waterMark = serializers.CharField(allow_blank=True)  # noqa: N815


class GenerateResultSerializer(serializers.Serializer):
    taskId = serializers.CharField(help_text="Poll /generate/status/{taskId}; equals videoId.")  # noqa: N815
    videoId = serializers.UUIDField()  # noqa: N815
    status = serializers.CharField()
    creditsDeducted = serializers.IntegerField()  # noqa: N815
    remainingCredits = serializers.IntegerField()  # noqa: N815
    estimatedTime = serializers.IntegerField(help_text="Seconds.")  # noqa: N815
    prompt = serializers.CharField(help_text="The enhanced prompt sent to the provider.")
    parameters = GenerateParametersSerializer()


class StatusResultSerializer(serializers.Serializer):
    videoUrl = serializers.CharField(allow_null=True)  # noqa: N815
    thumbnailUrl = serializers.CharField(allow_null=True)  # noqa: N815
    duration = serializers.IntegerField()


class RefundSerializer(serializers.Serializer):
    credits = serializers.IntegerField()
    transactionId = serializers.IntegerField()  # noqa: N815


class GenerationStatusSerializer(serializers.Serializer):
    taskId = serializers.CharField()  # noqa: N815
    videoId = serializers.UUIDField()  # noqa: N815
    status = serializers.ChoiceField(choices=["pending", "processing", "completed", "failed"])
    state = serializers.CharField()
    progress = serializers.IntegerField(min_value=0, max_value=100)
    result = StatusResultSerializer(required=False)
    video = VideoSerializer(required=False)
    error = VideoErrorSerializer(required=False)
    refund = RefundSerializer(required=False, allow_null=True)


# --- representations (plain dicts in the shapes above) ---------------------------------------------


def image_refs_data(video) -> list[str]:
    """The images as the client refers to them: upload ids, or public URLs."""
    return [ref.removeprefix("upload:") for ref in video.image_refs]


def video_data(video) -> dict:
    return {
        "id": str(video.pk),
        "taskId": str(video.pk),
        "providerTaskId": video.provider_task_id,
        "status": video.mobile_status,
        "state": video.status,
        "prompt": video.prompt,
        "enhancedPrompt": video.enhanced_prompt,
        "triggers": video.triggers,
        "duration": video.duration,
        "quality": video.quality,
        "aspectRatio": video.aspect_ratio,
        "imageUrl": video.image_url,
        "waterMark": video.watermark,
        "creditCost": video.credit_cost,
        "videoUrl": media_url(video.video_file),
        "thumbnailUrl": media_url(video.thumbnail_file),
        "fileSize": video.file_size,
        "isFavorite": video.is_favorite,
        "error": {"code": video.error_code, "message": video.error_message}
        if video.status in ("failed", "cancelled")
        else None,
        "createdAt": video.created_at.isoformat(),
        "submittedAt": video.submitted_at.isoformat() if video.submitted_at else None,
        "completedAt": video.completed_at.isoformat() if video.completed_at else None,
    }


PROVIDER_PROGRESS = {"": 5, "wait": 10, "queueing": 25, "generating": 40, "success": 90}


def video_progress(video) -> int:
    if video.status == "ready":
        return 100
    if video.status in ("failed", "cancelled"):
        return 0
    if video.status == "queued":
        return 0
    if video.status == "storing":
        return 90
    progress = PROVIDER_PROGRESS.get(video.provider_state, 5)
    if video.provider_state == "generating" and video.submitted_at:
        elapsed = (timezone.now() - video.submitted_at).total_seconds()
        progress += int(45 * min(1.0, elapsed / max(1, settings.GENERATION_ESTIMATED_SECONDS)))
    return min(progress, 89)


def generation_status_data(video, *, refund=None) -> dict:
    data = {
        "taskId": str(video.pk),
        "videoId": str(video.pk),
        "status": video.mobile_status,
        "state": video.status,
        "progress": video_progress(video),
    }
    if video.status == "ready":
        represented = video_data(video)
        data["result"] = {
            "videoUrl": represented["videoUrl"],
            "thumbnailUrl": represented["thumbnailUrl"],
            "duration": video.duration,
        }
        data["video"] = represented
    elif video.status in ("failed", "cancelled"):
        data["error"] = {"code": video.error_code, "message": video.error_message}
        data["refund"] = {"credits": refund.amount, "transactionId": refund.pk} if refund else None
    return data
