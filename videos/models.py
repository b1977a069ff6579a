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
    # The catalogue model this video was generated with (GenerationModel.code), and KIE's API family for it.
    model = models.CharField(max_length=32, default="runway")
    kie_api = models.CharField(max_length=16, default="runway", help_text="runway or veo: KIE's endpoints.")
    # The images as the user gave them: "upload:<uuid>" for our uploads (a fresh URL is made at submission),
    # otherwise a public https URL.
    image_refs = models.JSONField(default=list, blank=True)
    # Veo: fetch KIE's 1080p file after success (16:9 jobs of plans that include 1080p).
    wants_1080p = models.BooleanField(default=False)
    generated_at = models.DateTimeField(null=True, blank=True, help_text="When KIE said success.")
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


# --- the model catalogue: what can be generated, with what, for how many credits -------------------------


class KieApi(models.TextChoices):
    RUNWAY = "runway", "Runway (/runway/*)"
    VEO = "veo", "Veo 3.1 (/veo/*)"


class GenerationModel(models.Model):
    """A model the product sells: staff switch it on or off and edit what it offers in the admin."""

    code = models.SlugField(max_length=32, unique=True, help_text="The id clients send as `model`.")
    name = models.CharField(max_length=100)
    description = models.CharField(max_length=300, blank=True)
    kie_api = models.CharField(max_length=16, choices=KieApi.choices, default=KieApi.RUNWAY)
    provider_model = models.CharField(
        max_length=32, blank=True, help_text="KIE's `model` value (Veo: veo3 or veo3_fast); empty for Runway."
    )
    durations = models.JSONField(default=list, help_text="Seconds offered, e.g. [5, 8].")
    qualities = models.JSONField(default=list, help_text='e.g. ["720p", "1080p"].')
    aspect_ratios = models.JSONField(default=list, help_text='e.g. ["16:9", "9:16"].')
    max_images = models.PositiveSmallIntegerField(default=0, help_text="How many images it takes: 0, 1 or 2.")
    required_plan = models.CharField(
        max_length=16, default="free", help_text="The lowest plan that may use it: free, basic or pro."
    )
    is_active = models.BooleanField(default=True)
    sort_order = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "generation_models"
        ordering = ["sort_order", "code"]
        constraints = [
            models.CheckConstraint(condition=models.Q(max_images__lte=2), name="generation_model_max_images"),
        ]

    def __str__(self):
        return f"{self.name} ({self.code})"


class ModelPrice(models.Model):
    """Credits for one duration and quality of a model. A change applies to generations started after it:
    each video records the price it was charged (`Video.credit_cost`)."""

    model = models.ForeignKey(GenerationModel, on_delete=models.CASCADE, related_name="prices")
    duration = models.PositiveSmallIntegerField()
    quality = models.CharField(max_length=8)
    credits = models.PositiveIntegerField()
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "generation_model_prices"
        ordering = ["model", "duration", "quality"]
        constraints = [
            models.UniqueConstraint(fields=["model", "duration", "quality"], name="model_price_unique"),
            models.CheckConstraint(condition=models.Q(credits__gt=0), name="model_price_positive"),
        ]

    def __str__(self):
        return f"{self.model.code} {self.duration}s {self.quality}: {self.credits}"


# --- image uploads -------------------------------------------------------------------------------------


def upload_image_to(instance, filename):
    extension = filename.rsplit(".", 1)[-1]
    return f"uploads/{instance.user_id}/{instance.id}.{extension}"


class Upload(models.Model):
    """A user's image, re-encoded without metadata, for image-to-video; removed when unused for long."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="uploads")
    file = models.FileField(upload_to=upload_image_to, max_length=500)
    content_type = models.CharField(max_length=32)
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    size = models.PositiveIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)
    used_at = models.DateTimeField(null=True, blank=True, help_text="First used by a generation.")

    class Meta:
        db_table = "uploads"
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["user", "-created_at"], name="upload_user_recent"),
            models.Index(fields=["used_at", "created_at"], name="upload_unused_age"),
        ]

    def __str__(self):
        return f"Upload {self.id} ({self.width}x{self.height} {self.content_type})"


# --- prompt templates ----------------------------------------------------------------------------------


class PromptTemplate(models.Model):
    """A curated ASMR idea the app offers as a starting point."""

    slug = models.SlugField(max_length=64, unique=True)
    title = models.CharField(max_length=100)
    prompt = models.TextField(max_length=1800)
    triggers = models.JSONField(default=list, blank=True)
    suggested_model = models.ForeignKey(
        GenerationModel, on_delete=models.SET_NULL, null=True, blank=True, related_name="prompt_templates"
    )
    cover_image = models.ImageField(upload_to="prompt-templates/", max_length=500, blank=True)
    is_active = models.BooleanField(default=True)
    sort_order = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "prompt_templates"
        ordering = ["sort_order", "title"]

    def __str__(self):
        return self.title


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
