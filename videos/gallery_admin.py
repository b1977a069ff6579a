"""The back office's gallery moderation: feature or hide any video (list actions calling the service)."""

from django.contrib import admin, messages

from videos.services import video_gallery_moderate

MODERATE_PERMISSION = "videos.change_video"


class GalleryModerationMixin:
    """For VideoAdmin: feature/unfeature, hide/show in the gallery. A hidden video leaves it at once."""

    def has_moderate_gallery_permission(self, request):
        return request.user.has_perm(MODERATE_PERMISSION)

    def _moderate(self, request, queryset, *, label: str, **change):
        count = video_gallery_moderate(video_ids=list(queryset.values_list("pk", flat=True)), **change)
        for video in queryset:
            self.log_change(request, video, label)
        self.message_user(request, f"{label}: {count} video(s).", messages.SUCCESS)

    @admin.action(description="Feature in the gallery", permissions=["moderate_gallery"])
    def gallery_feature(self, request, queryset):
        self._moderate(request, queryset, label="Featured in the gallery", featured=True)

    @admin.action(description="Stop featuring in the gallery", permissions=["moderate_gallery"])
    def gallery_unfeature(self, request, queryset):
        self._moderate(request, queryset, label="No longer featured", featured=False)

    @admin.action(description="Hide from the gallery", permissions=["moderate_gallery"])
    def gallery_hide(self, request, queryset):
        self._moderate(request, queryset, label="Hidden from the gallery", hidden=True)

    @admin.action(description="Show in the gallery again", permissions=["moderate_gallery"])
    def gallery_unhide(self, request, queryset):
        self._moderate(request, queryset, label="Shown in the gallery again", hidden=False)
