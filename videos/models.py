import datetime
import uuid

from django.conf import settings
from django.db import models


class VideoStatus(models.TextChoices):
    QUEUED = "queued", "Queued"  # accepted, credits reserved, not yet sent to KIE
    SUBMITTED = "submitted", "Submitted"  # KIE has a task id
    PROCESSING = "processing", "Processing"  # KIE says queueing/generating
    STORING = "storing", "Storing"  # KIE succeeded; copying files into our storage
    READY = "ready", "Ready"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"


OPEN_STATUSES = (VideoStatus.QUEUED, VideoStatus.SUBMITTED, VideoStatus.PROCESSING, VideoStatus.STORING)
FINAL_STATUSES = (VideoStatus.READY, VideoStatus.FAILED, VideoStatus.CANCELLED)

# One colour per status for the back office (list badges and dashboard charts): blues darken as a job advances.
STATUS_COLORS = {
    VideoStatus.QUEUED: "#9db4d0",
    VideoStatus.SUBMITTED: "#6f95c2",
    VideoStatus.PROCESSING: "#3f73b0",
    VideoStatus.STORING: "#26558f",
    VideoStatus.READY: "#2e8b57",
    VideoStatus.FAILED: "#c0392b",
    VideoStatus.CANCELLED: "#8e8e8e",
}

# The mobile app's view of the lifecycle.
MOBILE_STATUS = {
    VideoStatus.QUEUED: "pending",
    VideoStatus.SUBMITTED: "pending",
    VideoStatus.PROCESSING: "processing",
    VideoStatus.STORING: "processing",
    VideoStatus.READY: "completed",
    VideoStatus.FAILED: "failed",
    VideoStatus.CANCELLED: "failed",
}


# The Supabase `videos` row's status (what Express stored and the app decodes in a video row).
ROW_STATUS = {
    VideoStatus.QUEUED: "processing",
    VideoStatus.SUBMITTED: "processing",
    VideoStatus.PROCESSING: "processing",
    VideoStatus.STORING: "processing",
    VideoStatus.READY: "ready",
    VideoStatus.FAILED: "failed",
    VideoStatus.CANCELLED: "failed",
}


# What the public gallery shows: published by the owner, ready, not hidden by staff.
GALLERY_FILTER = models.Q(is_public=True, is_hidden=False, status=VideoStatus.READY)


def video_upload_to(instance, filename):
    return f"videos/{instance.user_id}/{instance.id}.mp4"


def thumbnail_upload_to(instance, filename):
    return f"thumbnails/{instance.user_id}/{instance.id}.jpg"


class Video(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="videos")
    status = models.CharField(max_length=16, choices=VideoStatus.choices, default=VideoStatus.QUEUED)
    prompt = models.TextField()
    enhanced_prompt = models.TextField()
    triggers = models.JSONField(default=list, blank=True)
    duration = models.PositiveSmallIntegerField()
    quality = models.CharField(max_length=8)
    aspect_ratio = models.CharField(max_length=8, default="16:9")
    image_url = models.URLField(max_length=1000, blank=True)
    watermark = models.CharField(max_length=100, blank=True)
    credit_cost = models.PositiveIntegerField()
    # The usage charge this video came from, set when the video is created: the one link from a video to
    # its charge (and, through the charge's `reversal`, to its refund).
    debit = models.OneToOneField(
        "credits.CreditTransaction",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="charged_video",
    )
    idempotency_key = models.CharField(max_length=128, null=True, blank=True)

    provider = models.CharField(max_length=16, default="kie")
    provider_task_id = models.CharField(max_length=128, null=True, blank=True, unique=True)
    provider_video_id = models.CharField(max_length=128, blank=True)
    provider_video_url = models.URLField(max_length=2000, blank=True)
    provider_thumbnail_url = models.URLField(max_length=2000, blank=True)
    provider_state = models.CharField(max_length=16, blank=True, help_text="KIE's last known state.")
    submit_attempts = models.PositiveSmallIntegerField(default=0)
    # Set when a submission is claimed: the job may exist at KIE from then on (never re-sent blindly).
    submit_started_at = models.DateTimeField(null=True, blank=True)
    submit_outcome_unknown = models.BooleanField(
        default=False, help_text="A generate call timed out after sending: reconciled by callback or failed."
    )
    copy_lease_until = models.DateTimeField(null=True, blank=True)
    copy_attempts = models.PositiveSmallIntegerField(default=0)
    last_synced_at = models.DateTimeField(null=True, blank=True)

    video_file = models.FileField(upload_to=video_upload_to, max_length=500, blank=True)
    thumbnail_file = models.FileField(upload_to=thumbnail_upload_to, max_length=500, blank=True)
    file_size = models.BigIntegerField(null=True, blank=True)

    is_favorite = models.BooleanField(default=False)
    # The public gallery (videos.services.gallery): the owner publishes a ready video (opt-in: nothing made
    # before publishing existed is shown), staff feature it or hide it; counters move by single UPDATEs.
    is_public = models.BooleanField(default=False)
    prompt_public = models.BooleanField(default=True, help_text="The gallery shows the prompt.")
    published_at = models.DateTimeField(null=True, blank=True)
    is_featured = models.BooleanField(default=False)
    is_hidden = models.BooleanField(default=False, help_text="Hidden from the gallery by staff.")
    likes_count = models.PositiveIntegerField(default=0)
    views_count = models.PositiveBigIntegerField(default=0)
    error_code = models.CharField(max_length=64, blank=True)
    error_message = models.CharField(max_length=500, blank=True)

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "videos"
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["user", "-created_at", "-id"], name="video_user_recent"),
            models.Index(fields=["status", "updated_at"], name="video_status_updated"),
            models.Index(
                fields=["-is_featured", "-published_at", "-id"],
                name="video_gallery_order",
                condition=models.Q(is_public=True, is_hidden=False),
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "idempotency_key"],
                condition=models.Q(idempotency_key__isnull=False),
                name="video_user_idempotency_unique",
            ),
        ]

    def __str__(self):
        return f"Video {self.id} ({self.status})"

    @property
    def mobile_status(self) -> str:
        return MOBILE_STATUS[self.status]

    @property
    def row_status(self) -> str:
        return ROW_STATUS[self.status]

    @property
    def title(self) -> str:
        """Express's title rule: `ASMR Video <creation date, UTC, YYYY-MM-DD>`."""
        return f"ASMR Video {self.created_at.astimezone(datetime.UTC):%Y-%m-%d}"


class VideoEvent(models.Model):
    """What KIE (or the service) said about a job: submissions, callbacks, polls; for staff to inspect."""

    class Source(models.TextChoices):
        SUBMIT = "submit", "Submit"
        CALLBACK = "callback", "Callback"
        POLL = "poll", "Poll"
        SYSTEM = "system", "System"

    video = models.ForeignKey(Video, on_delete=models.CASCADE, related_name="events")
    source = models.CharField(max_length=16, choices=Source.choices)
    summary = models.CharField(max_length=255, blank=True)
    payload = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "video_events"
        ordering = ["created_at", "id"]

    def __str__(self):
        return f"{self.source}: {self.summary}"


class VideoLike(models.Model):
    """One like of one user on one video (the unique pair keeps `Video.likes_count` exact)."""

    video = models.ForeignKey(Video, on_delete=models.CASCADE, related_name="likes")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="video_likes")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "video_likes"
        constraints = [models.UniqueConstraint(fields=["video", "user"], name="video_like_once_per_user")]

    def __str__(self):
        return f"{self.user_id} likes {self.video_id}"
