import uuid

from django.conf import settings
from django.db import models


class CreditPackage(models.Model):
    """A one-off credit purchase (business-rules.md, Packages); editable by staff."""

    slug = models.SlugField(max_length=32, unique=True)
    name = models.CharField(max_length=64)
    credits = models.PositiveIntegerField()
    price = models.DecimalField(max_digits=10, decimal_places=2)
    currency = models.CharField(max_length=3, default="USD")
    savings_percent = models.PositiveSmallIntegerField(default=0)
    popular = models.BooleanField(default=False)
    active = models.BooleanField(default=True)
    sort_order = models.PositiveSmallIntegerField(default=0)
    # The store products that sell this (StoreKit / Play Billing product ids); the app shows these.
    app_store_product_id = models.CharField(max_length=128, null=True, blank=True, unique=True)
    play_product_id = models.CharField(max_length=128, null=True, blank=True, unique=True)

    class Meta:
        db_table = "credit_packages"
        ordering = ["sort_order", "credits"]

    def __str__(self):
        return f"{self.name} ({self.credits} credits)"


class Plan(models.Model):
    """A subscription plan (business-rules.md, Plans); editable by staff."""

    class Interval(models.TextChoices):
        ONE_OFF = "one_off", "One-off"
        MONTH = "month", "Monthly"

    slug = models.SlugField(max_length=32, unique=True)
    name = models.CharField(max_length=64)
    price = models.DecimalField(max_digits=10, decimal_places=2)
    currency = models.CharField(max_length=3, default="USD")
    credits_per_period = models.PositiveIntegerField()
    interval = models.CharField(max_length=16, choices=Interval.choices, default=Interval.MONTH)
    max_quality = models.CharField(max_length=8, default="720p")
    commercial_use = models.BooleanField(default=False)
    stripe_price_id = models.CharField(max_length=128, blank=True)
    active = models.BooleanField(default=True)
    sort_order = models.PositiveSmallIntegerField(default=0)
    # The store products that sell this (StoreKit / Play Billing product ids); the app shows these.
    app_store_product_id = models.CharField(max_length=128, null=True, blank=True, unique=True)
    play_product_id = models.CharField(max_length=128, null=True, blank=True, unique=True)

    class Meta:
        db_table = "plans"
        ordering = ["sort_order", "price"]

    def __str__(self):
        return self.name

    def profile_fields(self) -> dict:
        """What a profile on this plan records (accounts reads the entitlements from the profile)."""
        return {"plan_type": self.slug, "plan_max_quality": self.max_quality, "plan_commercial_use": self.commercial_use}


class OrderStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    PROCESSING = "processing", "Processing"
    COMPLETED = "completed", "Completed"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"
    REFUNDED = "refunded", "Refunded"


class Order(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="orders"
    )
    package = models.ForeignKey(CreditPackage, on_delete=models.PROTECT, null=True, blank=True)
    plan = models.ForeignKey(Plan, on_delete=models.PROTECT, null=True, blank=True)
    subscription = models.ForeignKey(
        "billing.Subscription", on_delete=models.SET_NULL, null=True, blank=True, related_name="orders"
    )
    status = models.CharField(max_length=16, choices=OrderStatus.choices, default=OrderStatus.PENDING)
    credits = models.PositiveIntegerField()
    amount = models.DecimalField(max_digits=10, decimal_places=2)
    currency = models.CharField(max_length=3, default="USD")
    provider = models.CharField(max_length=16)
    provider_payment_id = models.CharField(max_length=255, null=True, blank=True, unique=True)
    # Stripe API versions from 2025-03-31 drop invoice.payment_intent: a subscription order is then keyed by
    # its invoice, and this is the PaymentIntent that paid it (from invoice_payment.paid), which refunds name.
    invoice_payment_intent_id = models.CharField(max_length=255, null=True, blank=True, unique=True)
    # What the client asked to pay with (card, apple_pay, ...); the provider decides how.
    payment_method = models.CharField(max_length=32, blank=True)
    # Returned again on an idempotent replay of the purchase; it only lets the client confirm this payment.
    client_secret = models.CharField(max_length=255, blank=True)
    provider_refund_id = models.CharField(max_length=255, blank=True)
    idempotency_key = models.CharField(max_length=128, null=True, blank=True)
    failure_reason = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    refunded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "orders"
        ordering = ["-created_at"]
        permissions = [("refund_order", "Can refund orders through the provider")]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "idempotency_key"],
                condition=models.Q(idempotency_key__isnull=False),
                name="order_user_idempotency_unique",
            ),
            models.CheckConstraint(condition=models.Q(amount__gte=0), name="order_amount_non_negative"),
        ]

    def __str__(self):
        return f"Order {self.id} ({self.status})"


class SubscriptionStatus(models.TextChoices):
    INCOMPLETE = "incomplete", "Incomplete"
    ACTIVE = "active", "Active"
    PAST_DUE = "past_due", "Past due"
    CANCELLED = "cancelled", "Cancelled"
    EXPIRED = "expired", "Expired"


# A live subscription (at most one per user, the constraint below) still runs or awaits its first payment;
# a paid one has had a period paid for. The one definition every billing module and selector uses.
LIVE_SUBSCRIPTION_STATUSES = (SubscriptionStatus.INCOMPLETE, SubscriptionStatus.ACTIVE, SubscriptionStatus.PAST_DUE)
PAID_SUBSCRIPTION_STATUSES = (SubscriptionStatus.ACTIVE, SubscriptionStatus.PAST_DUE)


class Subscription(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="subscriptions"
    )
    plan = models.ForeignKey(Plan, on_delete=models.PROTECT)
    status = models.CharField(
        max_length=16, choices=SubscriptionStatus.choices, default=SubscriptionStatus.INCOMPLETE
    )
    provider = models.CharField(max_length=16)
    provider_subscription_id = models.CharField(max_length=255, null=True, blank=True, unique=True)
    provider_customer_id = models.CharField(max_length=255, blank=True)
    current_period_start = models.DateTimeField(null=True, blank=True)
    current_period_end = models.DateTimeField(null=True, blank=True)
    cancel_at_period_end = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "subscriptions"
        ordering = ["-created_at"]
        constraints = [
            # One live subscription per user at a time.
            models.UniqueConstraint(
                fields=["user"],
                condition=models.Q(status__in=list(LIVE_SUBSCRIPTION_STATUSES)),  # the migrations hold a list
                name="subscription_one_live_per_user",
            ),
        ]

    def __str__(self):
        return f"Subscription {self.id} ({self.plan_id}, {self.status})"


class PaymentEvent(models.Model):
    """Each provider event stored once by its id; a repeat changes nothing."""

    class Status(models.TextChoices):
        RECEIVED = "received", "Received"
        PROCESSED = "processed", "Processed"
        IGNORED = "ignored", "Ignored"
        FAILED = "failed", "Failed"

    provider = models.CharField(max_length=16)
    event_id = models.CharField(max_length=255)
    type = models.CharField(max_length=128)
    payload = models.JSONField(default=dict)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.RECEIVED)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "payment_events"
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["provider", "event_id"], name="payment_event_unique"),
        ]

    def __str__(self):
        return f"{self.provider}:{self.event_id} {self.type}"


# --- In-app purchases (App Store, Google Play) ------------------------------------------------------------

class Store(models.TextChoices):
    APPLE = "apple", "App Store"
    GOOGLE = "google", "Google Play"


class StoreAccount(models.Model):
    """The opaque id the app hands the store with each purchase (StoreKit's appAccountToken, Play Billing's
    obfuscatedAccountId): a purchase or notification naming it belongs to this user, and only to them."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="store_account")
    token = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "store_accounts"

    def __str__(self):
        return f"Store account {self.token} of {self.user_id}"


class StorePurchase(models.Model):
    """One store purchase, stored once: an App Store transaction (each renewal is its own transaction) or a
    Google Play purchase token. Its order carries the money state (completed, refunded) and the credits."""

    class Kind(models.TextChoices):
        CONSUMABLE = "consumable", "Credit package"
        SUBSCRIPTION = "subscription", "Subscription"

    store = models.CharField(max_length=8, choices=Store.choices)
    # App Store transactionId, or Google Play purchaseToken.
    transaction_id = models.CharField(max_length=512)
    # App Store originalTransactionId (the subscription's id), or Google Play orderId.
    original_transaction_id = models.CharField(max_length=255, blank=True)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    product_id = models.CharField(max_length=128)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="store_purchases"
    )
    order = models.ForeignKey(Order, on_delete=models.SET_NULL, null=True, blank=True, related_name="store_purchases")
    subscription = models.ForeignKey(
        Subscription, on_delete=models.SET_NULL, null=True, blank=True, related_name="store_purchases"
    )
    environment = models.CharField(max_length=32, blank=True)
    purchased_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    consumed_at = models.DateTimeField(null=True, blank=True, help_text="Google Play: consumed or acknowledged.")
    payload = models.JSONField(default=dict, help_text="The verified purchase as the store described it.")
    last_checked_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "store_purchases"
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["store", "transaction_id"], name="store_purchase_unique"),
        ]

    def __str__(self):
        return f"{self.store}:{self.transaction_id[:24]} {self.product_id}"


class StoreNotification(models.Model):
    """A store's server notification (App Store Server Notification V2 by notificationUUID, Google Play
    real-time developer notification by Pub/Sub message id), stored once; a repeat changes nothing."""

    store = models.CharField(max_length=8, choices=Store.choices)
    notification_id = models.CharField(max_length=255)
    type = models.CharField(max_length=64)
    subtype = models.CharField(max_length=64, blank=True)
    payload = models.JSONField(default=dict)
    status = models.CharField(max_length=16, choices=PaymentEvent.Status.choices, default=PaymentEvent.Status.RECEIVED)
    error = models.TextField(blank=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="store_notifications"
    )
    purchase = models.ForeignKey(
        StorePurchase, on_delete=models.SET_NULL, null=True, blank=True, related_name="notifications"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "store_notifications"
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["store", "notification_id"], name="store_notification_unique"),
        ]

    def __str__(self):
        return f"{self.store}:{self.notification_id} {self.type}"
