"""Users and their profiles in the back office: balance, plan, videos, credits spent, and the
"grant or deduct credits" view (a ledger adjustment by the staff member, through credits_adjust)."""

from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.core.exceptions import PermissionDenied
from django.db.models import Count
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join

from accounts.models import Profile, User
from aiasmr.api.exceptions import ApiError
from aiasmr.backoffice.admin_tools import change_url, error_text
from aiasmr.backoffice.forms import CreditsAdjustForm, UserAdminChangeForm, UserAdminCreationForm
from credits.models import CreditTransaction

GRANT_PERMISSION = "credits.grant_credits"


def _profile(user) -> Profile | None:
    try:
        return user.profile
    except Profile.DoesNotExist:
        return None


@admin.register(User)
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
    actions = ("grant_or_deduct_credits",)
    readonly_fields = (
        "balance",
        "plan",
        "credits_spent",
        "videos_link",
        "profile_summary",
        "recent_ledger",
        "last_login",
        "date_joined",
        "token_version",
    )
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Credits and plan", {"fields": ("balance", "plan", "credits_spent", "videos_link", "recent_ledger")}),
        ("Profile", {"fields": ("profile_summary",)}),
        ("Permissions", {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")}),
        ("Dates and sessions", {"fields": ("last_login", "date_joined", "token_version")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "password1", "password2")}),)

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(videos_total=Count("videos", distinct=True))

    # --- columns ------------------------------------------------------------------------------------

    @admin.display(description="balance", ordering="profile__credits")
    def balance(self, obj):
        profile = _profile(obj)
        return profile.credits if profile else "-"

    @admin.display(description="plan", ordering="profile__plan_type")
    def plan(self, obj):
        profile = _profile(obj)
        return profile.get_plan_type_display() if profile else "-"

    @admin.display(description="credits spent", ordering="profile__total_credits_spent")
    def credits_spent(self, obj):
        profile = _profile(obj)
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
        profile = _profile(obj)
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

    @admin.display(description="recent ledger")
    def recent_ledger(self, obj):
        entries = CreditTransaction.objects.filter(user=obj).select_related("staff_user")[:10]
        if not entries:
            return "No ledger rows."
        url = reverse("admin:credits_credittransaction_changelist") + f"?user__id__exact={obj.pk}"
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (
                    f"{entry.created_at:%Y-%m-%d %H:%M}",
                    entry.get_type_display(),
                    f"{entry.amount:+d}",
                    entry.balance_after,
                    entry.description + (f" (by {entry.staff_user.email})" if entry.staff_user else ""),
                )
                for entry in entries
            ),
        )
        return format_html(
            '<table id="bo-recent-ledger"><thead><tr><th>When</th><th>Type</th><th>Amount</th><th>Balance</th>'
            '<th>Description</th></tr></thead><tbody>{}</tbody></table><p><a href="{}">Whole ledger</a></p>',
            rows,
            url,
        )

    # --- add and delete through the same services as the API -------------------------------------

    def save_model(self, request, obj, form, change):
        if change:
            return super().save_model(request, obj, form, change)
        from accounts.services import user_register

        # Registration writes the profile and the signup bonus (as a ledger row) like an API signup.
        user = user_register(email=obj.email, password=form.cleaned_data["password1"])
        obj.pk, obj.email, obj.password, obj.date_joined = user.pk, user.email, user.password, user.date_joined
        obj._state.adding = False
        obj._state.db = user._state.db

    def delete_model(self, request, obj):
        from accounts.services import account_delete

        account_delete(user=obj)

    def delete_queryset(self, request, queryset):
        from accounts.services import account_delete

        for user in queryset:
            account_delete(user=user)

    # --- grant or deduct credits ------------------------------------------------------------------

    def has_grant_credits_permission(self, request):
        return request.user.has_perm(GRANT_PERMISSION)

    def get_urls(self):
        return [
            path(
                "<path:object_id>/credits/",
                self.admin_site.admin_view(self.credits_adjust_view),
                name="accounts_user_credits",
            ),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "can_grant": self.has_grant_credits_permission(request),
            "credits_url": reverse("admin:accounts_user_credits", args=[object_id]),
        }
        return super().change_view(request, object_id, form_url, extra_context)

    @admin.action(description="Grant or deduct credits (one user)", permissions=["grant_credits"])
    def grant_or_deduct_credits(self, request, queryset):
        users = list(queryset[:2])
        if len(users) != 1:
            self.message_user(request, "Select exactly one user to grant or deduct credits.", messages.WARNING)
            return None
        return HttpResponseRedirect(reverse("admin:accounts_user_credits", args=[users[0].pk]))

    def credits_adjust_view(self, request, object_id):
        if not self.has_grant_credits_permission(request):
            raise PermissionDenied
        user = self.get_object(request, object_id)
        if user is None:
            raise Http404
        form = CreditsAdjustForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            from credits.services import credits_adjust

            amount, reason = form.cleaned_data["amount"], form.cleaned_data["reason"]
            try:
                if _profile(user) is None:
                    raise ApiError("This account has no profile, so no balance.", code="PROFILE_NOT_FOUND")
                entry = credits_adjust(user=user, amount=amount, reason=reason, staff_user=request.user)
            except ApiError as exc:
                form.add_error(None, error_text(exc))
            else:
                message = f"Credits {amount:+d} (balance now {entry.balance_after}), ledger entry {entry.pk}: {reason}"
                self.log_change(request, user, message)
                self.message_user(request, message, messages.SUCCESS)
                return HttpResponseRedirect(change_url(user))
        profile = _profile(user)
        context = {
            **self.admin_site.each_context(request),
            "title": f"Grant or deduct credits: {user.email}",
            "opts": self.opts,
            "original": user,
            "form": form,
            "balance": profile.credits if profile else 0,
            "has_view_permission": self.has_view_permission(request, user),
        }
        return TemplateResponse(request, "admin/accounts/user/credits_adjust.html", context)
