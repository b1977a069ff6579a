"""Input validation for generation and favourites, and the video row (the one shape of a video)."""

import datetime
import re

from django.conf import settings
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from aiasmr.api.pagination import PaginationSerializer
from credits.serializers import iso_datetime
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


@extend_schema_field(OpenApiTypes.BOOL)
class JsBooleanField(serializers.Field):
    """Coerced like JavaScript's `Boolean(value)`: null, false, 0, NaN and "" are false, anything else true."""

    def validate_empty_values(self, data):
        if data is None:  # Boolean(null)
            return True, False
        return super().validate_empty_values(data)

    def to_internal_value(self, data):
        if data is False or data == "":
            return False
        if isinstance(data, int | float) and not isinstance(data, bool):
            return bool(data) and data == data  # 0 and NaN are false
        return True

    def to_representation(self, value):
        return bool(value)


class FavoriteSerializer(serializers.Serializer):
    favorite = JsBooleanField(required=False, default=False, help_text="Any JSON value; missing is false.")


class _Constant:
    """A read-only field that always shows one value (a Supabase column this service does not keep)."""

    def __init__(self, value, **kwargs):
        super().__init__(read_only=True, source="*", **kwargs)
        self.constant = value

    def to_representation(self, _instance):
        return self.constant


class ConstantInt(_Constant, serializers.IntegerField):
    pass


class ConstantChar(_Constant, serializers.CharField):
    pass


class NullIfBlankCharField(serializers.CharField):
    """A text column whose "" means "none": shown as null, as Express had it."""

    def get_attribute(self, instance):
        return super().get_attribute(instance) or None


def client_url(file_field) -> str | None:
    """The client URL of a stored file, or None. preview_url and download_url are the same file: it is
    signed once per video (the FieldFile is cached on the instance, the URL on the FieldFile)."""
    if not file_field:
        return None
    url = getattr(file_field, "_client_url", None)
    if url is None:
        url = file_field._client_url = media_url(file_field)
    return url


@extend_schema_field({"type": "string", "format": "uri", "nullable": True})
class MediaUrlField(serializers.Field):
    """The client URL of a stored file (signed and expiring when the bucket is private), or null."""

    def __init__(self, **kwargs):
        super().__init__(read_only=True, **kwargs)

    def to_representation(self, value):
        return client_url(value)

    def get_attribute(self, instance):
        return super().get_attribute(instance) or None


class VideoRowSerializer(serializers.Serializer):
    """A video as the Supabase `videos` row Express answered (`select('*')`), snake_case.

    The one shape of a video in the API: the list, one video, the favourite answer. Columns Express had
    and this service does not keep show Express's defaults.
    """

    id = serializers.UUIDField()
    user_id = serializers.UUIDField()
    title = serializers.CharField(help_text="ASMR Video <creation date YYYY-MM-DD>")
    description = ConstantChar("AI-generated ASMR video via KIE API", allow_null=True)
    prompt = serializers.CharField(source="enhanced_prompt", help_text="The enhanced prompt sent to KIE.")
    original_prompt = serializers.CharField(source="prompt", help_text="The prompt as the user typed it.")
    triggers = serializers.ListField(child=serializers.CharField())
    category = ConstantChar("Object")
    status = serializers.ChoiceField(choices=["processing", "ready", "failed"], source="row_status")
    credit_cost = serializers.IntegerField()
    duration = serializers.CharField(allow_null=True, help_text='Seconds, as text: "5" or "8".')
    resolution = serializers.CharField(source="quality", allow_null=True)
    thumbnail_url = MediaUrlField(source="thumbnail_file")
    preview_url = MediaUrlField(source="video_file")
    download_url = MediaUrlField(source="video_file")
    file_size = serializers.IntegerField(allow_null=True)
    views_count = serializers.IntegerField()
    likes_count = serializers.IntegerField()
    shares_count = ConstantInt(0)
    is_public = serializers.BooleanField(help_text="Published in the public gallery by the owner")
    is_featured = serializers.BooleanField(help_text="Featured in the gallery by staff")
    generation_started_at = serializers.DateTimeField(source="submitted_at", allow_null=True)
    generation_completed_at = serializers.DateTimeField(source="completed_at", allow_null=True)
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    aspect_ratio = serializers.ChoiceField(choices=ASPECT_RATIOS)
    provider = ConstantChar("kie-runway", allow_null=True)
    quality = serializers.ChoiceField(choices=QUALITIES)
    task_id = serializers.SerializerMethodField(
        help_text="KIE's task id; the video id until KIE has the job."
    )
    is_favorite = serializers.BooleanField()
    error_message = NullIfBlankCharField(allow_null=True)
    error_code = NullIfBlankCharField(allow_null=True)
    image_url = NullIfBlankCharField(allow_null=True)
    watermark = serializers.CharField(allow_blank=True, help_text='Watermark text; "" for none.')

    @extend_schema_field(OpenApiTypes.STR)
    def get_task_id(self, video) -> str:
        return video.provider_task_id or str(video.pk)


def _iso(value) -> str | None:
    # DRF's DateTimeField shows the time in the current time zone (UTC here).
    return None if value is None else iso_datetime(value.astimezone(datetime.UTC))


def video_row_data(video) -> dict:
    """VideoRowSerializer's row built by hand: the hot path of the video list and of one video (measured in
    bench/video_row_serialization.py). Same keys, values and JSON types as the serializer, which stays the
    shape's source and its schema: tests/videos/test_video_rows_by_hand.py holds the two equal."""
    task_id = video.provider_task_id or str(video.pk)
    video_url = client_url(video.video_file)
    return {
        "id": str(video.pk),
        "user_id": str(video.user_id),
        "title": video.title,
        "description": "AI-generated ASMR video via KIE API",
        "prompt": video.enhanced_prompt,
        "original_prompt": video.prompt,
        "triggers": [None if trigger is None else str(trigger) for trigger in video.triggers],
        "category": "Object",
        "status": video.row_status,
        "credit_cost": video.credit_cost,
        "duration": str(video.duration),
        "resolution": video.quality,
        "thumbnail_url": client_url(video.thumbnail_file),
        "preview_url": video_url,
        "download_url": video_url,
        "file_size": video.file_size,
        "views_count": video.views_count,
        "likes_count": video.likes_count,
        "shares_count": 0,
        "is_public": video.is_public,
        "is_featured": video.is_featured,
        "generation_started_at": _iso(video.submitted_at),
        "generation_completed_at": _iso(video.completed_at),
        "created_at": _iso(video.created_at),
        "updated_at": _iso(video.updated_at),
        "aspect_ratio": video.aspect_ratio,
        "provider": "kie-runway",
        "quality": video.quality,
        "task_id": task_id,
        "is_favorite": video.is_favorite,
        "error_message": video.error_message or None,
        "error_code": video.error_code or None,
        "image_url": video.image_url or None,
        "watermark": video.watermark,
    }


class VideoListSerializer(serializers.Serializer):
    videos = VideoRowSerializer(many=True)
    pagination = PaginationSerializer()


class VideoAnswerSerializer(serializers.Serializer):
    """`data` of one video, the favourite answer included: the row under `video`."""

    video = VideoRowSerializer()


class VideoStatisticsSerializer(serializers.Serializer):
    total = serializers.IntegerField()
    completed = serializers.IntegerField()
    processing = serializers.IntegerField()
    failed = serializers.IntegerField()
    successRate = serializers.IntegerField(help_text="Percent of videos ready, rounded.")  # noqa: N815


class VideoStatsSerializer(serializers.Serializer):
    statistics = VideoStatisticsSerializer(help_text="Express's counts, by the row statuses.")
    total = serializers.IntegerField()
    byStatus = serializers.DictField(  # noqa: N815
        child=serializers.IntegerField(), help_text="pending/processing/completed/failed"
    )
    favorites = serializers.IntegerField()
    totalDuration = serializers.IntegerField(help_text="Seconds of completed video.")  # noqa: N815
