"""Generations in the back office: filters, search, a detail page to inspect a job, refund and re-sync.

Nothing here edits a video directly: the two actions (admin_actions.py) call the same services as the API
and the sweep.
"""

import json
import uuid
from datetime import timedelta

from django.conf import settings
from django.contrib import admin
from django.db.models import Exists, OuterRef
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from aiasmr.admin_tools import OwnerColumnsMixin, ReadOnlyMixin
from credits.models import CreditTransaction
from videos.admin_actions import VideoActionsMixin
from videos.gallery_admin import GalleryModerationMixin
from videos.models import OPEN_STATUSES, STATUS_COLORS, Video, VideoEvent


def _pretty_json(value) -> str:
    return format_html(
        '<pre class="bo-pre">{}</pre>', json.dumps(value, indent=2, sort_keys=True, default=str)
    )


class StuckFilter(admin.SimpleListFilter):
    title = "stuck"
    parameter_name = "stuck"

    def lookups(self, request, model_admin):
        return [("yes", f"Open, unchanged for {settings.BACKOFFICE_STUCK_MINUTES}+ min")]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            cutoff = timezone.now() - timedelta(minutes=settings.BACKOFFICE_STUCK_MINUTES)
            return queryset.filter(status__in=OPEN_STATUSES, updated_at__lt=cutoff)
        return queryset


class VideoEventInline(ReadOnlyMixin, admin.TabularInline):
    """The history of what KIE (and the service) said about the job."""

    model = VideoEvent
    extra = 0
    can_delete = False
    fields = ("created_at", "source", "summary", "payload_pretty")
    readonly_fields = fields
    verbose_name_plural = "History (what KIE said)"

    @admin.display(description="payload")
    def payload_pretty(self, obj):
        return _pretty_json(obj.payload)

    def has_view_permission(self, request, obj=None):
        return request.user.has_perm("videos.view_video")  # part of the generation's page



class VideoLedgerInline(ReadOnlyMixin, admin.TabularInline):
    model = CreditTransaction
    fk_name = "video"
    extra = 0
    can_delete = False
    fields = ("created_at", "type", "amount", "balance_after", "description", "staff_user")
    readonly_fields = fields
    verbose_name_plural = "Credits (ledger rows of this generation)"



@admin.register(Video)
class VideoAdmin(GalleryModerationMixin, VideoActionsMixin, OwnerColumnsMixin, ReadOnlyMixin, admin.ModelAdmin):
    list_display = (
        "short_id",
        "user_email",
        "status_badge",
        "model",
        "quality",
        "duration",
        "credit_cost",
        "charge_state",
        "provider",
        "is_public",
        "is_featured",
        "is_hidden",
        "likes_count",
        "created_at",
    )
    list_filter = (
        "status",
        "model",
        "quality",
        ("created_at", admin.DateFieldListFilter),
        "provider",
        StuckFilter,
        "is_public",
        "is_featured",
        "is_hidden",
    )
    search_fields = ("provider_task_id", "user__email", "prompt")
    search_help_text = "Search by KIE task id, user email, prompt, or a generation id."
    date_hierarchy = "created_at"
    list_select_related = ("user",)
    list_per_page = 50
    show_full_result_count = False
    actions = (
        "refund_credits",
        "resync_from_kie",
        "gallery_feature",
        "gallery_unfeature",
        "gallery_hide",
        "gallery_unhide",
    )
    inlines = (VideoLedgerInline, VideoEventInline)
    readonly_fields = (
        "player",
        "thumbnail",
        "user_link",
        "status_badge",
        "charge_state",
        "timeline",
        "triggers_list",
    )
    fieldsets = (
        ("Media", {"fields": ("player", "thumbnail")}),
        (
            "Generation",
            {
                "fields": (
                    "id",
                    "user_link",
                    "status_badge",
                    "charge_state",
                    "credit_cost",
                    "error_code",
                    "error_message",
                )
            },
        ),
        (
            "Parameters",
            {
                "fields": (
                    "prompt",
                    "triggers_list",
                    "model",
                    "duration",
                    "quality",
                    "aspect_ratio",
                    "image_url",
                    "image_refs",
                    "wants_1080p",
                    "watermark",
                    "idempotency_key",
                )
            },
        ),
        ("Enhanced prompt", {"fields": ("enhanced_prompt",)}),
        ("Timeline", {"fields": ("timeline",)}),
        (
            "Provider",
            {
                "fields": (
                    "provider",
                    "provider_task_id",
                    "provider_video_id",
                    "provider_video_url",
                    "provider_thumbnail_url",
                    "submit_attempts",
                    "copy_attempts",
                    "last_synced_at",
                    "video_file",
                    "thumbnail_file",
                    "file_size",
                ),
                "classes": ("collapse",),
            },
        ),
    )

    def get_queryset(self, request):
        # Both through the video's one link to its charge (`debit`) and the charge's reversal.
        refunds = CreditTransaction.objects.filter(reverses_id=OuterRef("debit_id"))
        return super().get_queryset(request).annotate(is_refunded=Exists(refunds))

    def get_search_results(self, request, queryset, search_term):
        found, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        try:
            video_id = uuid.UUID(search_term.strip())
        except ValueError:
            return found, may_have_duplicates
        return found | queryset.filter(pk=video_id), may_have_duplicates

    # --- columns and detail fields -----------------------------------------------------------------

    @admin.display(description="status", ordering="status")
    def status_badge(self, obj):
        color = STATUS_COLORS[obj.status]
        return format_html(
            '<span class="bo-badge" style="background: {}">{}</span>', color, obj.get_status_display()
        )

    @admin.display(description="credits")
    def charge_state(self, obj):
        if getattr(obj, "is_refunded", False):
            return "refunded"
        if obj.debit_id is not None:
            return "charged"
        return "not charged"

    @admin.display(description="triggers")
    def triggers_list(self, obj):
        return ", ".join(obj.triggers or []) or "-"

    @admin.display(description="video")
    def player(self, obj):
        url = obj.video_file.url if obj.video_file else obj.provider_video_url
        if not url:
            return "No video yet."
        poster = obj.thumbnail_file.url if obj.thumbnail_file else obj.provider_thumbnail_url
        return format_html(
            '<div class="bo-player"><video controls preload="metadata" src="{}"{}></video></div>',
            url,
            format_html(' poster="{}"', poster) if poster else "",
        )

    @admin.display(description="thumbnail")
    def thumbnail(self, obj):
        url = obj.thumbnail_file.url if obj.thumbnail_file else obj.provider_thumbnail_url
        if not url:
            return "No thumbnail yet."
        return format_html(
            '<div class="bo-player"><img src="{}" alt="Thumbnail of the generation"></div>', url
        )

    @admin.display(description="timeline")
    def timeline(self, obj):
        steps = [(obj.created_at, "created (credits reserved)")]
        if obj.submitted_at:
            steps.append((obj.submitted_at, "submitted to KIE"))
        steps.extend((event.created_at, f"{event.source}: {event.summary}") for event in obj.events.all())
        if obj.completed_at:
            steps.append((obj.completed_at, f"finished: {obj.get_status_display()}"))
        if obj.last_synced_at:
            steps.append((obj.last_synced_at, "last synced with KIE"))
        steps.sort(key=lambda step: step[0])
        return format_html(
            '<ol class="bo-timeline">{}</ol>',
            format_html_join(
                "", "<li>{} &mdash; {}</li>", ((f"{at:%Y-%m-%d %H:%M:%S}", text) for at, text in steps)
            ),
        )


# The catalogue, prompt templates and uploads register themselves there.
from videos import catalog_admin  # noqa: E402, F401
