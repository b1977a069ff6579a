"""Generation, KIE callback and videos endpoints: validate, call one service or selector, serialize."""

import hmac

from django.conf import settings
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    PolymorphicProxySerializer,
    extend_schema,
    inline_serializer,
)
from rest_framework import serializers, viewsets
from rest_framework.permissions import AllowAny
from rest_framework.response import Response

from accounts.models import Profile
from aiasmr.api.exceptions import ApiError
from aiasmr.api.idempotency import IDEMPOTENCY_HEADER, idempotency_key
from aiasmr.api.pagination import page_parameters, page_params, paginate
from aiasmr.api.ratelimit import rate_limit
from aiasmr.api.renderers import envelope
from aiasmr.api.schema import error_response
from videos import selectors, services
from videos.job_serializers import (
    JOB_STATUS_SERIALIZERS,
    GenerateResultSerializer,
    JobFailedSerializer,
    KieAckSerializer,
    KieCallbackHealthSerializer,
    job_status_serializer,
)
from videos.kie.signing import webhook_signature_valid
from videos.serializers import (
    FavoriteSerializer,
    GenerateSerializer,
    VideoAnswerSerializer,
    VideoListSerializer,
    VideoStatsSerializer,
    video_row_data,
)


class InvalidCallbackAuth(ApiError):
    status_code = 401
    code = "INVALID_CALLBACK_AUTH"
    default_message = "The callback is not authenticated."


GENERATION_STATUS = PolymorphicProxySerializer(
    component_name="GenerationStatus",
    serializers=list(JOB_STATUS_SERIALIZERS),
    resource_type_field_name=None,
)


class GenerationViewSet(viewsets.ViewSet):
    @extend_schema(
        request=GenerateSerializer,
        parameters=[IDEMPOTENCY_HEADER],
        responses={
            200: GenerateResultSerializer,
            400: error_response(
                "INSUFFICIENT_CREDITS (details {required, available}), VALIDATION_ERROR (an option the model "
                "does not offer, another user's upload), MODEL_NOT_AVAILABLE"
            ),
            403: error_response("PLAN_UPGRADE_REQUIRED (1080p or the model needs a higher plan)"),
            409: error_response("IDEMPOTENCY_KEY_REUSED (same key, different request)"),
        },
        summary="Start a generation: reserves the credits and queues the job",
    )
    @rate_limit("generate", key="user")
    def generate(self, request):
        serializer = GenerateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        video, created = services.video_generation_start(
            user=request.user,
            prompt=data["prompt"],
            triggers=data["triggers"],
            duration=data.get("duration"),
            quality=data.get("quality"),
            aspect_ratio=data["aspectRatio"],
            image_url=data["imageUrl"],
            watermark=data["waterMark"],
            idempotency_key=idempotency_key(request),
            model=data["model"],
            image_urls=data["imageUrls"],
        )
        if created:
            remaining = video.debit.balance_after
        else:
            remaining = Profile.objects.get(user_id=request.user.pk).credits
        body = GenerateResultSerializer(video, context={"remaining_credits": remaining}).data
        message = (
            "Generation started." if created else "Generation already started with this Idempotency-Key."
        )
        return Response(envelope(body, message))

    @extend_schema(
        responses={200: GENERATION_STATUS, 404: error_response("TASK_NOT_FOUND")},
        summary="A job's status (taskId: the video id, or KIE's task id)",
    )
    def status(self, request, task_id: str):
        video = selectors.video_get_by_task(user=request.user, task_id=task_id)
        video = services.video_refresh_if_stale(video=video)
        refund = None
        if video.status in ("failed", "cancelled"):
            refund = selectors.video_refund_entry(video=video)
        return Response(envelope(job_status_serializer(video, task_id=task_id, refund=refund).data))

    @extend_schema(
        request=None,
        responses={
            200: JobFailedSerializer,
            400: error_response("CANNOT_CANCEL_COMPLETED, ALREADY_FAILED"),
            404: error_response("TASK_NOT_FOUND"),
        },
        summary="Cancel a job not yet sent to the provider (refunds it)",
        description=(
            "Once the provider has the job the answer is HTTP 200 with `success: false` and "
            "`error.code` CANCELLATION_NOT_SUPPORTED (as Express answered it)."
        ),
    )
    def cancel(self, request, task_id: str):
        video = selectors.video_get_by_task(user=request.user, task_id=task_id)
        video = services.video_cancel(video=video)
        refund = selectors.video_refund_entry(video=video)
        data = job_status_serializer(video, task_id=task_id, refund=refund).data
        return Response(envelope(data, "Generation cancelled."))


class KieCallbackViewSet(viewsets.ViewSet):
    """KIE's callback: a secret in the URL, KIE's HMAC headers when a key is configured."""

    authentication_classes: list = []
    permission_classes = [AllowAny]

    @extend_schema(
        request=inline_serializer(
            "KieCallback",
            {
                "code": serializers.IntegerField(),
                "msg": serializers.CharField(),
                "data": inline_serializer(
                    "KieCallbackData",
                    {
                        "task_id": serializers.CharField(),
                        "video_id": serializers.CharField(required=False),
                        "video_url": serializers.CharField(required=False),
                        "image_url": serializers.CharField(required=False),
                    },
                ),
            },
        ),
        parameters=[
            OpenApiParameter("secret", str, OpenApiParameter.QUERY, description="KIE_CALLBACK_SECRET"),
            OpenApiParameter("videoId", str, OpenApiParameter.QUERY, required=False),
        ],
        responses={
            200: KieAckSerializer,
            400: error_response("INVALID_CALLBACK (malformed body; nothing changed)"),
            401: error_response("INVALID_CALLBACK_AUTH (wrong secret, bad or stale signature)"),
        },
        summary="KIE's job callback (not for apps)",
        auth=[],
    )
    def callback(self, request):
        secret = request.query_params.get("secret", "")
        if not hmac.compare_digest(secret.encode(), settings.KIE_CALLBACK_SECRET.encode()):
            raise InvalidCallbackAuth()
        callback = services.parse_callback(body=request.data)
        key = settings.KIE_WEBHOOK_HMAC_KEY
        if key and not webhook_signature_valid(
            key=key,
            task_id=callback["task_id"],
            timestamp=request.headers.get("X-Webhook-Timestamp", ""),
            signature=request.headers.get("X-Webhook-Signature", ""),
            tolerance=settings.KIE_WEBHOOK_TOLERANCE_SECONDS,
        ):
            raise InvalidCallbackAuth("The callback signature is missing, wrong or stale.")
        known = services.kie_callback_handle(
            callback=callback, video_hint=request.query_params.get("videoId"), raw=request.data
        )
        # A body with "success" is not wrapped in the envelope: KIE reads code/msg, Express sent message/taskId.
        return Response(KieAckSerializer({"known": known, "task_id": callback["task_id"]}).data)

    @extend_schema(responses={200: KieCallbackHealthSerializer}, summary="The callback route is up", auth=[])
    def health(self, request):
        return Response(KieCallbackHealthSerializer({"timestamp": timezone.now()}).data)


# Routed as a string so that a malformed id is Express's 400 VALIDATION_ERROR (field "id"), not a 404.
VIDEO_ID = OpenApiParameter("video_id", OpenApiTypes.UUID, OpenApiParameter.PATH)


class VideoViewSet(viewsets.ViewSet):
    @extend_schema(
        parameters=page_parameters(default_limit=20),
        responses={200: VideoListSerializer},
        summary="The user's videos, newest first",
    )
    def list(self, request):
        page, limit = page_params(request, default_limit=20)
        items, pagination = paginate(selectors.videos_for_user(user=request.user), page=page, limit=limit)
        # VideoListSerializer's shape (the schema's source), its rows built by video_row_data.
        return Response(envelope({"videos": [video_row_data(video) for video in items], "pagination": pagination}))

    @extend_schema(
        responses={200: VideoStatsSerializer}, summary="Counts by status, favourites, total duration"
    )
    def stats(self, request):
        return Response(envelope(VideoStatsSerializer(selectors.video_stats(user=request.user)).data))

    @extend_schema(
        responses={
            200: VideoAnswerSerializer,
            400: error_response("VALIDATION_ERROR (the id is not a uuid)"),
            404: error_response("VIDEO_NOT_FOUND"),
        },
        parameters=[VIDEO_ID],
        summary="One video",
    )
    def retrieve(self, request, video_id: str):
        video = selectors.video_get_for_user(user=request.user, video_id=video_id)
        # VideoAnswerSerializer's shape, its row built by video_row_data (the video is opened on every finish).
        return Response(envelope({"video": video_row_data(video)}))

    @extend_schema(
        request=FavoriteSerializer,
        responses={
            200: VideoAnswerSerializer,
            400: error_response("VALIDATION_ERROR (the id is not a uuid)"),
            404: error_response("VIDEO_NOT_FOUND"),
        },
        parameters=[VIDEO_ID],
        summary="Mark or unmark a favourite",
    )
    def favorite(self, request, video_id: str):
        serializer = FavoriteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        video = selectors.video_get_for_user(user=request.user, video_id=video_id)
        video = services.video_favorite_set(video=video, favorite=serializer.validated_data["favorite"])
        message = "Video added to favorites" if video.is_favorite else "Video removed from favorites"
        return Response(envelope(VideoAnswerSerializer({"video": video}).data, message))

    @extend_schema(
        request=None,
        responses={
            200: inline_serializer("VideoDeleted", {"deleted": serializers.BooleanField()}),
            400: error_response("VALIDATION_ERROR (the id is not a uuid)"),
            404: error_response("VIDEO_NOT_FOUND"),
        },
        parameters=[VIDEO_ID],
        summary="Delete a video and its stored files",
    )
    def destroy(self, request, video_id: str):
        video = selectors.video_get_for_user(user=request.user, video_id=video_id)
        services.video_delete(video=video)
        return Response(envelope({"deleted": True}, "Video deleted."))
