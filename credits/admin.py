"""The ledger in the back office: read-only for everyone, superusers included (it is append-only).

Grants and deductions are made from a user's page (UserCreditsAdmin below), through credits_adjust.
"""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join

from accounts.admin import UserAdmin, user_profile
from aiasmr.admin_tools import OwnerColumnsMixin, ReadOnlyMixin, admin_link, change_url, error_text
from aiasmr.api.exceptions import ApiError
from credits.forms import CreditsAdjustForm
from credits.models import CreditTransaction
from credits.services import credits_adjust

GRANT_PERMISSION = "credits.grant_credits"


@admin.register(CreditTransaction)
class CreditTransactionAdmin(OwnerColumnsMixin, ReadOnlyMixin, admin.ModelAdmin):
    list_display = (
        "id",
        "created_at",
        "user_email",
        "type",
        "amount",
        "balance_after",
        "description",
        "video_link",
        "order_link",
        "staff_email",
    )
    list_filter = ("type", ("created_at", admin.DateFieldListFilter))
    search_fields = ("user__email", "description", "idempotency_key")
    search_help_text = "Search by user email, description or idempotency key."
    date_hierarchy = "created_at"
    list_select_related = ("user", "staff_user", "video", "order")
    list_per_page = 100
    show_full_result_count = False
    readonly_fields = ("user_link", "video_link", "order_link", "subscription_link", "staff_link", "reverses_link")
    fields = (
        "id",
        "created_at",
        "user_link",
        "type",
        "amount",
        "balance_after",
        "description",
        "video_link",
        "order_link",
        "subscription_link",
        "staff_link",
        "reverses_link",
        "idempotency_key",
    )


    @admin.display(description="staff")
    def staff_email(self, obj):
        return obj.staff_user.email if obj.staff_user else ""

    @admin.display(description="video")
    def video_link(self, obj):
        return admin_link(obj.video, str(obj.video_id)[:8]) if obj.video_id else "-"

    @admin.display(description="order")
    def order_link(self, obj):
        return admin_link(obj.order, str(obj.order_id)[:8]) if obj.order_id else "-"

    @admin.display(description="subscription")
    def subscription_link(self, obj):
        return admin_link(obj.subscription) if obj.subscription_id else "-"

    @admin.display(description="staff member")
    def staff_link(self, obj):
        return admin_link(obj.staff_user, obj.staff_user.email) if obj.staff_user_id else "-"

    @admin.display(description="reverses")
    def reverses_link(self, obj):
        return admin_link(obj.reverses) if obj.reverses_id else "-"


def _with_ledger(fieldsets: tuple) -> tuple:
    """The User fieldsets with the recent ledger at the end of "Credits and plan"."""
    return tuple(
        (name, {**options, "fields": (*options["fields"], "recent_ledger")}) if name == "Credits and plan" else (name, options)
        for name, options in fieldsets
    )


class UserCreditsAdmin(UserAdmin):
    """The User admin with the user's recent ledger and the "grant or deduct credits" view (a ledger
    adjustment by the staff member, through credits_adjust). Registered by aiasmr.lifecycle.admin."""

    actions = ("grant_or_deduct_credits",)
    readonly_fields = (*UserAdmin.readonly_fields, "recent_ledger")
    fieldsets = _with_ledger(UserAdmin.fieldsets)

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
            amount, reason = form.cleaned_data["amount"], form.cleaned_data["reason"]
            try:
                if user_profile(user) is None:
                    raise ApiError("This account has no profile, so no balance.", code="PROFILE_NOT_FOUND")
                entry = credits_adjust(user=user, amount=amount, reason=reason, staff_user=request.user)
            except ApiError as exc:
                form.add_error(None, error_text(exc))
            else:
                message = f"Credits {amount:+d} (balance now {entry.balance_after}), ledger entry {entry.pk}: {reason}"
                self.log_change(request, user, message)
                self.message_user(request, message, messages.SUCCESS)
                return HttpResponseRedirect(change_url(user))
        profile = user_profile(user)
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
