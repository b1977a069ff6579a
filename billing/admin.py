"""Billing in the back office: packages and plans are editable data; orders, subscriptions and payment
events are read-only records, and an order is refunded only through its provider (order_refund)."""

from django.contrib import admin, messages
from django.urls import path, reverse

from aiasmr.admin_tools import (
    OwnerColumnsMixin,
    ReadOnlyMixin,
    error_text,
    object_action,
)
from aiasmr.api.exceptions import ApiError
from billing.models import CreditPackage, Order, PaymentEvent, Plan, Subscription
from billing.plans import plan_profiles_sync
from billing.services import order_refund
from credits.models import CreditTransaction

REFUND_ORDER_PERMISSION = "billing.refund_order"


class ReadOnlyAdmin(ReadOnlyMixin, admin.ModelAdmin):
    """Viewable by staff with the view permission; nobody adds, changes or deletes through the admin."""


@admin.register(CreditPackage)
class CreditPackageAdmin(admin.ModelAdmin):
    list_display = ("slug", "name", "credits", "price", "currency", "savings_percent", "popular", "active", "sort_order")
    list_editable = ("active", "sort_order")
    list_filter = ("active", "popular")
    search_fields = ("slug", "name")
    ordering = ("sort_order", "credits")


@admin.register(Plan)
class PlanAdmin(admin.ModelAdmin):
    list_display = (
        "slug",
        "name",
        "price",
        "currency",
        "credits_per_period",
        "interval",
        "max_quality",
        "commercial_use",
        "active",
        "sort_order",
    )
    list_editable = ("active", "sort_order")
    list_filter = ("active", "interval")
    search_fields = ("slug", "name", "stripe_price_id")
    ordering = ("sort_order", "price")

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        # The profiles on this plan record what it grants (accounts read entitlements from the profile).
        plan_profiles_sync(plan=obj)


class OrderLedgerInline(ReadOnlyMixin, admin.TabularInline):
    model = CreditTransaction
    fk_name = "order"
    extra = 0
    can_delete = False
    fields = ("created_at", "type", "amount", "balance_after", "description")
    readonly_fields = fields
    verbose_name_plural = "Credits (ledger rows of this order)"



@admin.register(Order)
class OrderAdmin(OwnerColumnsMixin, ReadOnlyAdmin):
    list_display = (
        "short_id",
        "created_at",
        "user_email",
        "what",
        "credits",
        "amount",
        "currency",
        "status",
        "provider",
        "completed_at",
        "refunded_at",
    )
    list_filter = ("status", "provider", ("created_at", admin.DateFieldListFilter))
    search_fields = ("user__email", "provider_payment_id", "invoice_payment_intent_id", "idempotency_key")
    search_help_text = "Search by user email or provider payment id."
    date_hierarchy = "created_at"
    list_select_related = ("user", "package", "plan")
    show_full_result_count = False
    actions = ("refund_through_provider",)
    inlines = (OrderLedgerInline,)
    readonly_fields = ("user_link",)
    exclude = ("user", "client_secret")  # the client secret only lets a client confirm this payment


    @admin.display(description="bought")
    def what(self, obj):
        return obj.package or obj.plan or "-"

    def has_refund_order_permission(self, request):
        return request.user.has_perm(REFUND_ORDER_PERMISSION)

    def _refund(self, request, order) -> str:
        order_refund(order=order, staff_user=request.user)
        order.refresh_from_db()
        return f"Provider refund requested for order {order.pk} ({order.amount} {order.currency}): now {order.status}."

    def get_urls(self):
        return [
            path("<path:object_id>/refund/", self.admin_site.admin_view(self.refund_view), name="billing_order_refund"),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "can_refund": self.has_refund_order_permission(request),
            "refund_url": reverse("admin:billing_order_refund", args=[object_id]),
        }
        return super().change_view(request, object_id, form_url, extra_context)

    def refund_view(self, request, object_id):
        return object_action(
            self, request, object_id, permission=REFUND_ORDER_PERMISSION, run=lambda order: self._refund(request, order)
        )

    @admin.action(description="Refund the selected orders through the payment provider", permissions=["refund_order"])
    def refund_through_provider(self, request, queryset):
        done = 0
        for order in queryset:
            try:
                message = self._refund(request, order)
            except ApiError as exc:
                self.message_user(request, f"Order {order.pk}: {error_text(exc)}", messages.ERROR)
                continue
            done += 1
            self.log_change(request, order, message)
        if done:
            self.message_user(request, f"Provider refund requested for {done} order(s).", messages.SUCCESS)


@admin.register(Subscription)
class SubscriptionAdmin(OwnerColumnsMixin, ReadOnlyAdmin):
    list_display = (
        "short_id",
        "user_email",
        "plan",
        "status",
        "provider",
        "current_period_start",
        "current_period_end",
        "cancel_at_period_end",
        "created_at",
    )
    list_filter = ("status", "plan", "provider", "cancel_at_period_end")
    search_fields = ("user__email", "provider_subscription_id", "provider_customer_id")
    list_select_related = ("user", "plan")
    readonly_fields = ("user_link",)
    exclude = ("user",)



@admin.register(PaymentEvent)
class PaymentEventAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "provider", "event_id", "type", "status", "processed_at")
    list_filter = ("provider", "status", "type")
    search_fields = ("event_id", "type")
    date_hierarchy = "created_at"
    show_full_result_count = False
