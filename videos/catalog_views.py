"""The model catalogue, prompt templates and image uploads: validate, call one service or selector, serialize."""

from drf_spectacular.utils import extend_schema
from rest_framework import status, viewsets
from rest_framework.parsers import MultiPartParser
from rest_framework.permissions import AllowAny
from rest_framework.response import Response

from aiasmr.api.ratelimit import rate_limit
from aiasmr.api.renderers import envelope
from aiasmr.api.schema import error_response
from videos.catalog import DEFAULT_MODEL, models_available, prompt_templates_available
from videos.catalog_serializers import (
    ImageUploadSerializer,
    ModelListSerializer,
    PromptTemplateListSerializer,
    UploadSerializer,
    model_data,
    prompt_template_data,
    upload_data,
)
from videos.uploads import image_upload_create


class CatalogViewSet(viewsets.ViewSet):
    authentication_classes: list = []
    permission_classes = [AllowAny]

    @extend_schema(
        responses={200: ModelListSerializer},
        summary="The models on sale, with their options and prices (public)",
    )
    def models(self, request):
        items = [model_data(model, default_code=DEFAULT_MODEL) for model in models_available()]
        return Response(envelope({"models": items}))

    @extend_schema(
        responses={200: PromptTemplateListSerializer}, summary="Curated ASMR prompt ideas (public)"
    )
    def prompt_templates(self, request):
        items = [prompt_template_data(template) for template in prompt_templates_available()]
        return Response(envelope({"templates": items}))


class UploadViewSet(viewsets.ViewSet):
    parser_classes = [MultiPartParser]

    @extend_schema(
        request={"multipart/form-data": ImageUploadSerializer},
        responses={
            201: UploadSerializer,
            400: error_response(
                "VALIDATION_ERROR (no file), UNSUPPORTED_IMAGE_TYPE (not PNG, JPEG or WebP by its bytes), "
                "INVALID_IMAGE (truncated or corrupt), IMAGE_DIMENSIONS_TOO_LARGE (over 4096 px a side, "
                "decompression bombs)"
            ),
            413: error_response("PAYLOAD_TOO_LARGE (over 10 MB)"),
            415: error_response("UNSUPPORTED_MEDIA_TYPE (send multipart/form-data)"),
            429: error_response("UPLOAD_QUOTA_EXCEEDED (daily quota), UPLOAD_RATE_LIMIT_EXCEEDED"),
        },
        summary="Upload an image for image-to-video; its id goes in imageUrl / imageUrls",
    )
    @rate_limit("upload", key="user")
    def create(self, request):
        serializer = ImageUploadSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        upload = image_upload_create(user=request.user, file=serializer.validated_data["file"])
        return Response(envelope(upload_data(upload), "Image uploaded."), status=status.HTTP_201_CREATED)
