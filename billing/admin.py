"""Billing in the back office: packages and plans are editable data; orders, subscriptions and payment
events are read-only records, and an order is refunded only through its provider (order_refund)."""

from django.contrib import admin, messages
from django.urls import path, reverse

from aiasmr.admin_tools import (
    OwnerColumnsMixin,
    ReadOnlyMixin,
    admin_link,
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


# --- In-app purchases -------------------------------------------------------------------------------------

from billing.models import StoreAccount, StoreNotification, StorePurchase  # noqa: E402


class StoreNotificationInline(ReadOnlyMixin, admin.TabularInline):
    model = StoreNotification
    fk_name = "purchase"
    extra = 0
    can_delete = False
    fields = ("created_at", "type", "subtype", "status", "error", "processed_at")
    readonly_fields = fields
    verbose_name_plural = "Store notifications about this purchase (refunds, renewals, expiry)"


class StorePurchaseOrderInline(ReadOnlyMixin, admin.TabularInline):
    model = StorePurchase
    fk_name = "order"
    extra = 0
    can_delete = False
    fields = ("purchase_link", "store", "product_id", "environment", "purchased_at", "revoked_at", "consumed_at")
    readonly_fields = fields
    verbose_name_plural = "Store purchase (App Store / Google Play) that paid this order"

    @admin.display(description="purchase")
    def purchase_link(self, obj):
        return admin_link(obj, obj.transaction_id[:24])


# An order paid in a store shows its store purchase next to its ledger rows.
OrderAdmin.inlines = (*OrderAdmin.inlines, StorePurchaseOrderInline)


@admin.register(StorePurchase)
class StorePurchaseAdmin(OwnerColumnsMixin, ReadOnlyAdmin):
    list_display = (
        "created_at", "user_email", "store", "kind", "product_id", "order_status", "environment", "revoked_at",
        "consumed_at", "last_checked_at",
    )
    list_filter = ("store", "kind", "environment", ("created_at", admin.DateFieldListFilter))
    search_fields = ("user__email", "transaction_id", "original_transaction_id", "product_id", "order__id")
    search_help_text = "Search by user email, transaction id / purchase token, original transaction or order id."
    date_hierarchy = "created_at"
    list_select_related = ("user", "order")
    show_full_result_count = False
    readonly_fields = ("user_link", "order_link", "subscription_link")
    exclude = ("user", "order", "subscription")
    inlines = (StoreNotificationInline,)

    @admin.display(description="order status", ordering="order__status")
    def order_status(self, obj):
        return obj.order.status if obj.order else "-"

    @admin.display(description="order")
    def order_link(self, obj):
        return admin_link(obj.order)

    @admin.display(description="subscription")
    def subscription_link(self, obj):
        return admin_link(obj.subscription)


@admin.register(StoreNotification)
class StoreNotificationAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "store", "type", "subtype", "status", "user_email", "purchase", "processed_at")
    list_filter = ("store", "status", "type")
    search_fields = ("notification_id", "type", "user__email", "purchase__transaction_id", "purchase__order__id")
    date_hierarchy = "created_at"
    list_select_related = ("user", "purchase")
    show_full_result_count = False
    readonly_fields = ("purchase_link",)
    exclude = ("purchase",)

    @admin.display(description="user", ordering="user__email")
    def user_email(self, obj):
        return obj.user.email if obj.user else "-"

    @admin.display(description="purchase")
    def purchase_link(self, obj):
        return admin_link(obj.purchase)


@admin.register(StoreAccount)
class StoreAccountAdmin(ReadOnlyAdmin):
    list_display = ("user", "token", "created_at")
    search_fields = ("user__email", "token")
    list_select_related = ("user",)
