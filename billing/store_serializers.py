"""Shapes of the in-app purchase endpoints (billing.store_views)."""

from rest_framework import serializers

from accounts.models import Profile


class StoreAccountSerializer(serializers.Serializer):
    appAccountToken = serializers.UUIDField(  # noqa: N815
        source="token", help_text="Pass to StoreKit 2 as Product.PurchaseOption.appAccountToken."
    )
    obfuscatedAccountId = serializers.CharField(  # noqa: N815
        source="token", help_text="Pass to Play Billing as BillingFlowParams.setObfuscatedAccountId."
    )


class StorePurchaseSerializer(serializers.Serializer):
    store = serializers.CharField(help_text="apple or google")
    transactionId = serializers.CharField(source="transaction_id", help_text="App Store transactionId or Play purchaseToken.")  # noqa: N815, E501
    productId = serializers.CharField(source="product_id")  # noqa: N815
    kind = serializers.CharField(help_text="consumable or subscription")
    status = serializers.SerializerMethodField(help_text="The order's status: completed, refunded, ...")
    credits = serializers.IntegerField(source="order.credits", default=0)
    orderId = serializers.UUIDField(source="order_id", allow_null=True)  # noqa: N815
    subscriptionId = serializers.UUIDField(source="subscription_id", allow_null=True)  # noqa: N815
    balance = serializers.SerializerMethodField(help_text="The user's credit balance now.")

    def get_status(self, purchase) -> str:
        return purchase.order.status if purchase.order_id else "pending"

    def get_balance(self, purchase) -> int:
        return Profile.objects.filter(user_id=purchase.user_id).values_list("credits", flat=True).first() or 0


class AppleTransactionRequestSerializer(serializers.Serializer):
    signedTransaction = serializers.CharField(max_length=20000, help_text="StoreKit 2 Transaction.jwsRepresentation.")  # noqa: N815, E501


class AppleNotificationRequestSerializer(serializers.Serializer):
    signedPayload = serializers.CharField(max_length=100000)  # noqa: N815


class GooglePurchaseRequestSerializer(serializers.Serializer):
    productId = serializers.CharField(max_length=128)  # noqa: N815
    purchaseToken = serializers.CharField(max_length=512)  # noqa: N815


class StoreNotificationResultSerializer(serializers.Serializer):
    received = serializers.BooleanField()
    outcome = serializers.CharField(help_text="processed, ignored or duplicate")
