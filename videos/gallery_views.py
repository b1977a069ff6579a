"""The public gallery, publishing, likes and views: validate, call one service or selector, serialize."""

import uuid

from django.utils.cache import patch_cache_control
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import viewsets
from rest_framework.permissions import AllowAny
from rest_framework.response import Response

from aiasmr.api.exceptions import ValidationFailed
from aiasmr.api.pagination import page_parameters, page_params, paginate
from aiasmr.api.renderers import envelope
from aiasmr.api.schema import error_response
from videos import selectors, services
from videos.gallery_serializers import (
    GalleryListSerializer,
    LikeResultSerializer,
    PublishSerializer,
    ViewResultSerializer,
)
from videos.serializers import VideoAnswerSerializer

VIDEO_ID = OpenApiParameter("video_id", OpenApiTypes.UUID, OpenApiParameter.PATH)
# Shared caches may keep a gallery page this long: a hidden or unpublished video is gone from every
# answer at once, and from cached copies within this many seconds.
GALLERY_MAX_AGE = 30


def _video_id(raw: str) -> uuid.UUID:
    try:
        return uuid.UUID(str(raw))
    except ValueError:
        raise ValidationFailed(details=[{"field": "id", "message": "Must be a valid UUID."}]) from None


class GalleryViewSet(viewsets.ViewSet):
    authentication_classes: list = []
    permission_classes = [AllowAny]

    @extend_schema(
        parameters=page_parameters(default_limit=20),
        responses={200: GalleryListSerializer, 400: error_response("VALIDATION_ERROR")},
        summary="Public videos (no login): featured first, then the newest published",
        auth=[],
    )
    def list(self, request):
        page, limit = page_params(request, default_limit=20)
        items, pagination = paginate(selectors.gallery_videos(), page=page, limit=limit)
        response = Response(envelope(GalleryListSerializer({"videos": items, "pagination": pagination}).data))
        patch_cache_control(response, public=True, max_age=GALLERY_MAX_AGE)
        return response

    @extend_schema(
        request=None,
        parameters=[VIDEO_ID],
        responses={200: ViewResultSerializer, 400: error_response("VALIDATION_ERROR")},
        summary="Count one view of a gallery video (no login)",
        auth=[],
    )
    def view(self, request, video_id: str):
        counted = services.video_view_count(video_id=_video_id(video_id))
        return Response(envelope(ViewResultSerializer({"counted": counted}).data))


class VideoPublishViewSet(viewsets.ViewSet):
    @extend_schema(
        request=PublishSerializer,
        parameters=[VIDEO_ID],
        responses={
            200: VideoAnswerSerializer,
            404: error_response("VIDEO_NOT_FOUND"),
            409: error_response("VIDEO_NOT_PUBLISHABLE (not completed)"),
        },
        summary="Publish my completed video in the public gallery",
    )
    def publish(self, request, video_id: str):
        data = PublishSerializer(data=request.data if isinstance(request.data, dict) else {})
        data.is_valid(raise_exception=True)
        video = selectors.video_get_for_user(user=request.user, video_id=video_id)
        video = services.video_publish(video=video, prompt_public=data.validated_data["showPrompt"])
        return Response(envelope(VideoAnswerSerializer({"video": video}).data))

    @extend_schema(
        parameters=[VIDEO_ID],
        responses={200: VideoAnswerSerializer, 404: error_response("VIDEO_NOT_FOUND")},
        summary="Take my video out of the public gallery",
    )
    def unpublish(self, request, video_id: str):
        video = selectors.video_get_for_user(user=request.user, video_id=video_id)
        return Response(envelope(VideoAnswerSerializer({"video": services.video_unpublish(video=video)}).data))


class VideoLikeViewSet(viewsets.ViewSet):
    @extend_schema(
        request=None,
        parameters=[VIDEO_ID],
        responses={200: LikeResultSerializer, 404: error_response("VIDEO_NOT_FOUND")},
        summary="Like a gallery video (once per user; again changes nothing)",
    )
    def like(self, request, video_id: str):
        count = services.video_like(user=request.user, video_id=_video_id(video_id))
        return Response(envelope(LikeResultSerializer({"liked": True, "likes_count": count}).data))

    @extend_schema(
        parameters=[VIDEO_ID],
        responses={200: LikeResultSerializer, 404: error_response("VIDEO_NOT_FOUND")},
        summary="Withdraw my like",
    )
    def unlike(self, request, video_id: str):
        count = services.video_unlike(user=request.user, video_id=_video_id(video_id))
        return Response(envelope(LikeResultSerializer({"liked": False, "likes_count": count}).data))
