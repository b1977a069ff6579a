"""The back office's two actions on generations, as list actions and detail-page buttons: refund the
charge (needs the refund permission) and re-sync from KIE. Both call the same services as the API."""

from django.contrib import admin, messages
from django.urls import path, reverse

from aiasmr.admin_tools import error_text, object_action
from aiasmr.api.exceptions import ApiError
from videos.services import video_refund, video_sync_from_kie

REFUND_PERMISSION = "credits.refund_credits"


class VideoActionsMixin:
    """For VideoAdmin: the refund and re-sync views, their URLs, and the list actions."""

    def has_refund_credits_permission(self, request):
        return request.user.has_perm(REFUND_PERMISSION)

    def get_urls(self):
        return [
            path(
                "<path:object_id>/refund/",
                self.admin_site.admin_view(self.refund_view),
                name="videos_video_refund",
            ),
            path(
                "<path:object_id>/resync/",
                self.admin_site.admin_view(self.resync_view),
                name="videos_video_resync",
            ),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "can_refund": self.has_refund_credits_permission(request),
            "refund_url": reverse("admin:videos_video_refund", args=[object_id]),
            "resync_url": reverse("admin:videos_video_resync", args=[object_id]),
        }
        return super().change_view(request, object_id, form_url, extra_context)

    def _refund(self, request, video) -> str | None:
        entry = video_refund(video=video, staff_user=request.user)
        if entry is None:
            self.message_user(
                request,
                f"Nothing refunded for {video.pk}: already refunded or never charged.",
                messages.WARNING,
            )
            return None
        return f"Refunded {entry.amount} credits to {video.user.email} (ledger entry {entry.pk})."

    def _resync(self, request, video) -> str:
        video_sync_from_kie(video=video)
        video.refresh_from_db()
        return f"Re-synced from KIE: status {video.status}."

    def refund_view(self, request, object_id):
        return object_action(
            self,
            request,
            object_id,
            permission=REFUND_PERMISSION,
            run=lambda video: self._refund(request, video),
        )

    def resync_view(self, request, object_id):
        return object_action(
            self,
            request,
            object_id,
            permission="videos.view_video",
            run=lambda video: self._resync(request, video),
        )

    def _each(self, request, queryset, run):
        done = refused = 0
        for video in queryset.select_related("user"):
            try:
                message = run(request, video)
            except ApiError as exc:
                refused += 1
                self.message_user(request, f"{video.pk}: {error_text(exc)}", messages.ERROR)
                continue
            if message:
                done += 1
                self.log_change(request, video, message)
            else:
                refused += 1
        return done, refused

    @admin.action(description="Refund credits of the selected generations", permissions=["refund_credits"])
    def refund_credits(self, request, queryset):
        done, refused = self._each(request, queryset, self._refund)
        if done:
            self.message_user(request, f"Refunded {done} generation(s).", messages.SUCCESS)

    @admin.action(description="Re-sync the selected generations from KIE", permissions=["view"])
    def resync_from_kie(self, request, queryset):
        done, _ = self._each(request, queryset, self._resync)
        if done:
            self.message_user(request, f"Re-synced {done} generation(s) from KIE.", messages.SUCCESS)
