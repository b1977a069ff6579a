"""Users and their profiles in the back office: balance, plan, videos, credits spent.

Registered by aiasmr.lifecycle.admin, which adds the ledger pieces (credits.admin.UserCreditsAdmin) and
creates and deletes accounts through the account-lifecycle services (signup bonus, stored files)."""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.db.models import Count
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from accounts.forms import UserAdminChangeForm, UserAdminCreationForm
from accounts.models import Profile


def user_profile(user) -> Profile | None:
    """The user's profile, or None for an account without one."""
    try:
        return user.profile
    except Profile.DoesNotExist:
        return None


class UserAdmin(BaseUserAdmin):
    form = UserAdminChangeForm
    add_form = UserAdminCreationForm
    list_display = (
        "email",
        "balance",
        "plan",
        "videos_count",
        "credits_spent",
        "is_staff",
        "is_active",
        "date_joined",
    )
    list_filter = ("is_staff", "is_superuser", "is_active", "profile__plan_type")
    search_fields = ("email",)
    search_help_text = "Search by email."
    ordering = ("-date_joined",)
    list_select_related = ("profile",)
    show_full_result_count = False
    filter_horizontal = ("groups", "user_permissions")
    readonly_fields = (
        "balance",
        "plan",
        "credits_spent",
        "videos_link",
        "profile_summary",
        "last_login",
        "date_joined",
        "token_version",
        "sessions_revoked_at",
    )
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Credits and plan", {"fields": ("balance", "plan", "credits_spent", "videos_link")}),
        ("Profile", {"fields": ("profile_summary",)}),
        ("Permissions", {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")}),
        ("Dates and sessions", {"fields": ("last_login", "date_joined", "token_version", "sessions_revoked_at")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "password1", "password2")}),)

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(videos_total=Count("videos", distinct=True))

    # --- columns ------------------------------------------------------------------------------------

    @admin.display(description="balance", ordering="profile__credits")
    def balance(self, obj):
        profile = user_profile(obj)
        return profile.credits if profile else "-"

    @admin.display(description="plan", ordering="profile__plan_type")
    def plan(self, obj):
        profile = user_profile(obj)
        return profile.get_plan_type_display() if profile else "-"

    @admin.display(description="credits spent", ordering="profile__total_credits_spent")
    def credits_spent(self, obj):
        profile = user_profile(obj)
        return profile.total_credits_spent if profile else "-"

    @admin.display(description="videos", ordering="videos_total")
    def videos_count(self, obj):
        return getattr(obj, "videos_total", None)

    @admin.display(description="videos")
    def videos_link(self, obj):
        url = reverse("admin:videos_video_changelist") + f"?user__id__exact={obj.pk}"
        return format_html('<a href="{}">{} generation(s)</a>', url, obj.videos.count())

    @admin.display(description="profile")
    def profile_summary(self, obj):
        profile = user_profile(obj)
        if profile is None:
            return "No profile."
        rows = [
            ("Name", f"{profile.first_name} {profile.last_name}".strip() or "-"),
            ("Bio", profile.bio or "-"),
            ("Preferred resolution", profile.preferred_resolution),
            ("Max duration", profile.max_duration),
            ("Language / time zone", f"{profile.language} / {profile.timezone}"),
            ("Profile updated", f"{profile.updated_at:%Y-%m-%d %H:%M}"),
        ]
        return format_html(
            "<table>{}</table>", format_html_join("", "<tr><th>{}</th><td>{}</td></tr>", rows)
        )
