"""The public gallery's shapes: a card carries no owner data, and no prompt when the owner hid it."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from aiasmr.api.pagination import PaginationSerializer
from videos.serializers import MediaUrlField


class GalleryVideoSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    prompt = serializers.SerializerMethodField(help_text="null when the owner hid the prompt")
    triggers = serializers.SerializerMethodField(help_text="[] when the owner hid the prompt")
    duration = serializers.IntegerField(help_text="Seconds")
    quality = serializers.CharField()
    aspect_ratio = serializers.CharField()
    thumbnail_url = MediaUrlField(source="thumbnail_file")
    preview_url = MediaUrlField(source="video_file")
    is_featured = serializers.BooleanField()
    likes_count = serializers.IntegerField()
    views_count = serializers.IntegerField()
    published_at = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()

    @extend_schema_field({"type": "string", "nullable": True})
    def get_prompt(self, video) -> str | None:
        return video.prompt if video.prompt_public else None

    @extend_schema_field({"type": "array", "items": {"type": "string"}})
    def get_triggers(self, video) -> list:
        return list(video.triggers or []) if video.prompt_public else []


class GalleryListSerializer(serializers.Serializer):
    videos = GalleryVideoSerializer(many=True)
    pagination = PaginationSerializer()


class PublishSerializer(serializers.Serializer):
    showPrompt = serializers.BooleanField(  # noqa: N815
        required=False, default=True, help_text="false keeps the prompt out of the gallery"
    )


class LikeResultSerializer(serializers.Serializer):
    liked = serializers.BooleanField()
    likes_count = serializers.IntegerField()


class ViewResultSerializer(serializers.Serializer):
    counted = serializers.BooleanField()
