"""The generation answers: the started job, its status (one serializer per state), KIE's callback ack."""

from django.conf import settings
from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from videos.serializers import MediaUrlField, NullIfBlankCharField
from videos.uploads import UPLOAD_REF_PREFIX


class GenerateParametersSerializer(serializers.Serializer):
    model = serializers.CharField()
    duration = serializers.IntegerField()
    quality = serializers.CharField()
    aspectRatio = serializers.CharField(source="aspect_ratio")  # noqa: N815
    triggers = serializers.ListField(child=serializers.CharField())
    imageUrl = serializers.CharField(source="image_url", allow_blank=True)  # noqa: N815
    imageUrls = serializers.SerializerMethodField(help_text="The images: upload ids, or public URLs.")  # noqa: N815
    waterMark = serializers.CharField(source="watermark", allow_blank=True)  # noqa: N815


    def get_imageUrls(self, video) -> list[str]:  # noqa: N802
        # As the client referred to them: an upload by its id, other images by their URL.
        return [ref.removeprefix(UPLOAD_REF_PREFIX) for ref in video.image_refs]


class GenerateResultSerializer(serializers.Serializer):
    """The started job; context `remaining_credits`: the balance after the charge."""

    taskId = serializers.CharField(source="pk", help_text="Poll /generate/status/{taskId}; equals videoId.")  # noqa: N815
    videoId = serializers.UUIDField(source="pk")  # noqa: N815
    status = serializers.CharField(source="mobile_status")
    creditsDeducted = serializers.IntegerField(source="credit_cost")  # noqa: N815
    remainingCredits = serializers.SerializerMethodField()  # noqa: N815
    estimatedTime = serializers.SerializerMethodField(help_text="Seconds.")  # noqa: N815
    prompt = serializers.CharField(
        source="enhanced_prompt", help_text="The enhanced prompt sent to the provider."
    )
    parameters = GenerateParametersSerializer(source="*")

    def get_remainingCredits(self, _video) -> int:  # noqa: N802 - DRF's naming
        return self.context["remaining_credits"]

    def get_estimatedTime(self, _video) -> int:  # noqa: N802
        return settings.GENERATION_ESTIMATED_SECONDS


class RefundSerializer(serializers.Serializer):
    credits = serializers.IntegerField(source="amount")
    transactionId = serializers.IntegerField(source="pk")  # noqa: N815


PROVIDER_PROGRESS = {"": 5, "wait": 10, "queueing": 25, "generating": 40, "success": 90}


def video_progress(video) -> int:
    if video.status == "ready":
        return 100
    if video.status in ("failed", "cancelled", "queued"):
        return 0
    if video.status == "storing":
        return 90
    progress = PROVIDER_PROGRESS.get(video.provider_state, 5)
    if video.provider_state == "generating" and video.submitted_at:
        elapsed = (timezone.now() - video.submitted_at).total_seconds()
        progress += int(45 * min(1.0, elapsed / max(1, settings.GENERATION_ESTIMATED_SECONDS)))
    return min(progress, 89)


class _JobStatusSerializer(serializers.Serializer):
    """What every status answer has; context `task_id`: the id the app asked with (echoed)."""

    taskId = serializers.SerializerMethodField(help_text="The task id asked for, echoed.")  # noqa: N815
    videoId = serializers.UUIDField(source="pk")  # noqa: N815
    status = serializers.CharField(source="mobile_status")  # narrowed by each state's serializer
    state = serializers.CharField(
        source="status", help_text="queued, submitted, processing, storing, ready, failed, cancelled"
    )
    progress = serializers.SerializerMethodField()
    estimatedTimeRemaining = serializers.SerializerMethodField(help_text="Seconds.")  # noqa: N815

    def get_taskId(self, video) -> str:  # noqa: N802 - DRF's naming
        return self.context.get("task_id") or str(video.pk)

    def get_progress(self, video) -> int:
        return video_progress(video)

    def get_estimatedTimeRemaining(self, video) -> int:  # noqa: N802
        return 0


class RunningVideoSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    title = serializers.CharField()
    prompt = serializers.CharField(source="enhanced_prompt")
    triggers = serializers.ListField(child=serializers.CharField())
    createdAt = serializers.DateTimeField(source="created_at")  # noqa: N815
    updatedAt = serializers.DateTimeField(source="updated_at")  # noqa: N815


class JobRunningSerializer(_JobStatusSerializer):
    status = serializers.ChoiceField(choices=["pending", "processing"], source="mobile_status")
    video = RunningVideoSerializer(source="*")

    def get_estimatedTimeRemaining(self, video) -> int:  # noqa: N802
        return 120 if video.mobile_status == "pending" else 60


class CompletedResultSerializer(serializers.Serializer):
    videoUrl = MediaUrlField(source="video_file")  # noqa: N815
    thumbnailUrl = MediaUrlField(source="thumbnail_file")  # noqa: N815
    duration = serializers.CharField(help_text='Seconds, as text: "5" or "8".')


class CompletedVideoSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    title = serializers.CharField()
    createdAt = serializers.DateTimeField(source="created_at")  # noqa: N815
    fileSize = serializers.IntegerField(source="file_size", allow_null=True)  # noqa: N815
    quality = serializers.CharField()
    aspectRatio = serializers.CharField(source="aspect_ratio")  # noqa: N815


class JobCompletedSerializer(_JobStatusSerializer):
    status = serializers.ChoiceField(choices=["completed"], source="mobile_status")
    result = CompletedResultSerializer(source="*")
    video = CompletedVideoSerializer(source="*")


class JobFailedSerializer(_JobStatusSerializer):
    """A failed or cancelled job; context `refund`: the ledger row that gave the credits back, if any."""

    status = serializers.ChoiceField(choices=["failed"], source="mobile_status")
    error = serializers.SerializerMethodField(help_text="What went wrong, for the user.")
    errorCode = NullIfBlankCharField(source="error_code", allow_null=True)  # noqa: N815
    refund = serializers.SerializerMethodField()

    def get_error(self, video) -> str:
        return video.error_message or "Video generation failed"

    @extend_schema_field(RefundSerializer(allow_null=True))
    def get_refund(self, _video):
        refund = self.context.get("refund")
        return RefundSerializer(refund).data if refund else None


JOB_STATUS_SERIALIZERS = (JobRunningSerializer, JobCompletedSerializer, JobFailedSerializer)


def job_status_serializer(video, *, task_id: str, refund=None) -> serializers.Serializer:
    """The status answer of the video's state (running, completed, failed)."""
    if video.status == "ready":
        serializer_class = JobCompletedSerializer
    elif video.status in ("failed", "cancelled"):
        serializer_class = JobFailedSerializer
    else:
        serializer_class = JobRunningSerializer
    return serializer_class(video, context={"task_id": task_id, "refund": refund})


# --- KIE's callback ----------------------------------------------------------------------------------


class KieAckSerializer(serializers.Serializer):
    """The callback's acknowledgement, from {known, task_id}: KIE's code/msg and Express's message/taskId."""

    plain_body = True  # the whole body, not wrapped in the envelope (aiasmr.api.schema)

    success = serializers.SerializerMethodField()
    code = serializers.SerializerMethodField()
    msg = serializers.SerializerMethodField()
    message = serializers.SerializerMethodField()
    taskId = serializers.CharField(source="task_id", help_text="KIE's task id from the callback.")  # noqa: N815

    def get_success(self, _ack) -> bool:
        return True

    def get_code(self, _ack) -> int:
        return 200

    def get_msg(self, ack) -> str:
        return "success" if ack["known"] else "unknown task"

    def get_message(self, ack) -> str:
        return "Callback processed successfully" if ack["known"] else "Callback received for an unknown task"


class KieCallbackHealthSerializer(serializers.Serializer):
    plain_body = True
    success = serializers.SerializerMethodField()
    message = serializers.SerializerMethodField()
    timestamp = serializers.DateTimeField()
    version = serializers.SerializerMethodField()

    def get_success(self, _health) -> bool:
        return True

    def get_message(self, _health) -> str:
        return "KIE callback service is healthy"

    def get_version(self, _health) -> str:
        return settings.VERSION
