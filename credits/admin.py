"""The ledger in the back office: read-only for everyone, superusers included (it is append-only).

Grants and deductions are made from a user's page (accounts.admin), through credits_adjust.
"""

from django.contrib import admin

from aiasmr.backoffice.admin_tools import OwnerColumnsMixin, ReadOnlyMixin, admin_link
from credits.models import CreditTransaction


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
