from rest_framework import serializers

from aiasmr.api.pagination import PaginationSerializer
from billing.catalog import package_description
from billing.models import CreditPackage

# Express accepted stripe and paypal; every method pays through the configured provider (data.payment).
PAYMENT_METHODS = ["stripe", "paypal", "card", "apple_pay", "google_pay", "sandbox"]


def store_products(item) -> dict:
    """The in-app product ids that sell a package or plan (null where the store does not sell it)."""
    return {"apple": item.app_store_product_id or None, "google": item.play_product_id or None}


class PlanSerializer(serializers.Serializer):
    id = serializers.CharField(source="slug")
    name = serializers.CharField()
    price = serializers.DecimalField(max_digits=10, decimal_places=2, coerce_to_string=True)
    currency = serializers.CharField()
    credits = serializers.IntegerField(source="credits_per_period")
    billing = serializers.CharField(source="interval", help_text="one_off or month")
    entitlements = serializers.SerializerMethodField()

    def get_entitlements(self, plan) -> dict:
        return {"plan": plan.slug, "maxQuality": plan.max_quality, "commercialUse": plan.commercial_use}

    storeProducts = serializers.SerializerMethodField(help_text="App Store and Google Play product ids.")  # noqa: N815

    def get_storeProducts(self, plan) -> dict:  # noqa: N802
        return store_products(plan)


class PlansSerializer(serializers.Serializer):
    plans = PlanSerializer(many=True)


class PercentField(serializers.CharField):
    """A whole percentage as Express wrote it: 20 -> "20%"."""

    def to_representation(self, value) -> str:
        return f"{value}%"


class PackageSerializer(serializers.Serializer):
    """A package as routes/credits.js GET /packages listed it, plus `currency` and `savingsPercent`."""

    id = serializers.CharField(source="slug")
    name = serializers.CharField()
    credits = serializers.IntegerField()
    price = serializers.DecimalField(max_digits=10, decimal_places=2, coerce_to_string=False)
    currency = serializers.CharField()
    description = serializers.SerializerMethodField()
    popular = serializers.BooleanField()
    savings = PercentField(
        source="savings_percent",
        required=False,
        help_text='Saved against the basic package, e.g. "20%"; absent when nothing is saved.',
    )
    savingsPercent = serializers.IntegerField(source="savings_percent")  # noqa: N815

    storeProducts = serializers.SerializerMethodField(help_text="App Store and Google Play product ids.")  # noqa: N815

    def get_description(self, package) -> str:
        return package_description(package)

    def to_representation(self, package):
        data = super().to_representation(package)
        if not package.savings_percent:
            del data["savings"]
        return data

    def get_storeProducts(self, package) -> dict:  # noqa: N802
        return store_products(package)


class PackagesSerializer(serializers.Serializer):
    packages = PackageSerializer(many=True)


class OrderSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    status = serializers.CharField(help_text="pending, processing, completed, failed, cancelled, refunded")
    package = serializers.CharField(source="package.slug", default=None, allow_null=True)
    plan = serializers.CharField(source="plan.slug", default=None, allow_null=True)
    credits = serializers.IntegerField()
    amount = serializers.DecimalField(max_digits=10, decimal_places=2, coerce_to_string=True)
    currency = serializers.CharField()
    provider = serializers.CharField()
    paymentMethod = serializers.CharField(source="payment_method")  # noqa: N815
    failureReason = serializers.CharField(source="failure_reason")  # noqa: N815
    createdAt = serializers.DateTimeField(source="created_at")  # noqa: N815
    completedAt = serializers.DateTimeField(source="completed_at", allow_null=True)  # noqa: N815
    refundedAt = serializers.DateTimeField(source="refunded_at", allow_null=True)  # noqa: N815


class OrderHistoryItemSerializer(OrderSerializer):
    name = serializers.SerializerMethodField(help_text="The package's or the plan's name")

    def get_name(self, order) -> str | None:
        product = order.package if order.package_id else order.plan if order.plan_id else None
        return product.name if product is not None else None


class OrderListSerializer(serializers.Serializer):
    orders = OrderHistoryItemSerializer(many=True)
    pagination = PaginationSerializer()


class PaymentInfoSerializer(serializers.Serializer):
    provider = serializers.CharField(help_text="stripe or sandbox")
    paymentId = serializers.CharField(allow_null=True)  # noqa: N815
    clientSecret = serializers.CharField(allow_null=True, help_text="Stripe: confirm with the mobile SDK.")  # noqa: N815
    publishableKey = serializers.CharField(allow_null=True)  # noqa: N815
    confirmUrl = serializers.CharField(  # noqa: N815
        allow_null=True, help_text="Sandbox only (not in production): POST it to simulate the payment."
    )
    instructions = serializers.CharField()
    orderId = serializers.CharField(allow_null=True, required=False)  # noqa: N815


class PurchaseRequestSerializer(serializers.Serializer):
    package = serializers.CharField(max_length=32, help_text="A package id from GET /credits/packages.")
    paymentMethod = serializers.ChoiceField(choices=PAYMENT_METHODS, default="card")  # noqa: N815
    amount = serializers.IntegerField(min_value=1, help_text="Must equal the package's credits.")

    def validate_package(self, value: str) -> str:
        if not CreditPackage.objects.filter(slug=value, active=True).exists():
            raise serializers.ValidationError("Must be one of the packages of GET /credits/packages.")
        return value


class PurchaseTransactionSerializer(serializers.Serializer):
    """routes/credits.js POST /purchase's `transaction`; nothing is added before the provider confirms."""

    package = serializers.CharField(source="order.package.slug")
    creditsAdded = serializers.IntegerField(  # noqa: N815
        source="credits_added", help_text="0: the credits come when the payment is confirmed."
    )
    price = serializers.DecimalField(source="order.amount", max_digits=10, decimal_places=2, coerce_to_string=False)
    paymentMethod = serializers.CharField(source="order.payment_method")  # noqa: N815
    newBalance = serializers.IntegerField(source="new_balance", help_text="The balance now (unchanged).")  # noqa: N815


class PurchaseResultSerializer(serializers.Serializer):
    transaction = PurchaseTransactionSerializer(source="*")
    order = OrderSerializer()
    payment = PaymentInfoSerializer()


class SubscriptionSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    plan = PlanSerializer()
    status = serializers.CharField(help_text="incomplete, active, past_due, cancelled, expired")
    provider = serializers.CharField()
    currentPeriodStart = serializers.DateTimeField(source="current_period_start", allow_null=True)  # noqa: N815
    currentPeriodEnd = serializers.DateTimeField(source="current_period_end", allow_null=True)  # noqa: N815
    cancelAtPeriodEnd = serializers.BooleanField(source="cancel_at_period_end")  # noqa: N815
    createdAt = serializers.DateTimeField(source="created_at")  # noqa: N815


class SubscriptionStateSerializer(serializers.Serializer):
    subscription = SubscriptionSerializer(allow_null=True)
    entitlements = serializers.DictField()


class SubscriptionRequestSerializer(serializers.Serializer):
    plan = serializers.CharField(max_length=32, help_text="A plan id from GET /billing/plans.")
    paymentMethod = serializers.ChoiceField(choices=PAYMENT_METHODS, default="card")  # noqa: N815


class SubscriptionStartSerializer(serializers.Serializer):
    subscription = SubscriptionSerializer()
    payment = PaymentInfoSerializer()


class SandboxConfirmRequestSerializer(serializers.Serializer):
    outcome = serializers.ChoiceField(choices=["succeeded", "failed"], default="succeeded")


class WebhookResultSerializer(serializers.Serializer):
    received = serializers.BooleanField()
    outcome = serializers.CharField(help_text="processed, ignored or duplicate")
