"""Shapes of the model catalogue, prompt templates and image uploads in the API (and their schema)."""

from rest_framework import serializers

from videos.media import media_url
from videos.uploads import upload_url


class ModelPriceSerializer(serializers.Serializer):
    duration = serializers.IntegerField()
    quality = serializers.CharField()
    credits = serializers.IntegerField()


class GenerationModelSerializer(serializers.Serializer):
    id = serializers.CharField(help_text="Send it as `model` to POST /api/generate.")
    name = serializers.CharField()
    description = serializers.CharField(allow_blank=True)
    provider = serializers.CharField(help_text="runway or veo")
    durations = serializers.ListField(child=serializers.IntegerField())
    qualities = serializers.ListField(child=serializers.CharField())
    aspectRatios = serializers.ListField(child=serializers.CharField())  # noqa: N815
    maxImages = serializers.IntegerField(help_text="How many images it takes (imageUrls): 0, 1 or 2.")  # noqa: N815
    requiredPlan = serializers.CharField(help_text="The lowest plan that may use it.")  # noqa: N815
    isDefault = serializers.BooleanField()  # noqa: N815
    prices = ModelPriceSerializer(many=True, help_text="Credits per duration and quality.")


class ModelListSerializer(serializers.Serializer):
    models = GenerationModelSerializer(many=True)


class PromptTemplateSerializer(serializers.Serializer):
    id = serializers.CharField(help_text="The template's slug.")
    title = serializers.CharField()
    prompt = serializers.CharField()
    triggers = serializers.ListField(child=serializers.CharField())
    suggestedModel = serializers.CharField(allow_null=True)  # noqa: N815
    coverUrl = serializers.CharField(allow_null=True)  # noqa: N815


class PromptTemplateListSerializer(serializers.Serializer):
    templates = PromptTemplateSerializer(many=True)


class ImageUploadSerializer(serializers.Serializer):
    file = serializers.FileField(
        allow_empty_file=False, help_text="PNG, JPEG or WebP; at most 10 MB and 4096 px a side."
    )


class UploadSerializer(serializers.Serializer):
    id = serializers.UUIDField(help_text="Send it in imageUrl / imageUrls of POST /api/generate.")
    url = serializers.CharField(help_text="Where the re-encoded image can be fetched (signed, expiring).")
    contentType = serializers.CharField()  # noqa: N815
    width = serializers.IntegerField()
    height = serializers.IntegerField()
    size = serializers.IntegerField()
    createdAt = serializers.DateTimeField()  # noqa: N815


def model_data(model, *, default_code: str) -> dict:
    return {
        "id": model.code,
        "name": model.name,
        "description": model.description,
        "provider": model.kie_api,
        "durations": model.durations,
        "qualities": model.qualities,
        "aspectRatios": model.aspect_ratios,
        "maxImages": model.max_images,
        "requiredPlan": model.required_plan,
        "isDefault": model.code == default_code,
        "prices": [
            {"duration": price.duration, "quality": price.quality, "credits": price.credits}
            for price in model.prices.all()
        ],
    }


def prompt_template_data(template) -> dict:
    return {
        "id": template.slug,
        "title": template.title,
        "prompt": template.prompt,
        "triggers": template.triggers,
        "suggestedModel": template.suggested_model.code if template.suggested_model else None,
        "coverUrl": media_url(template.cover_image),
    }


def upload_data(upload) -> dict:
    return {
        "id": str(upload.pk),
        "url": upload_url(upload=upload),
        "contentType": upload.content_type,
        "width": upload.width,
        "height": upload.height,
        "size": upload.size,
        "createdAt": upload.created_at.isoformat(),
    }
