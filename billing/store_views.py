"""In-app purchase endpoints: the user's store account token, App Store transactions and notifications,
Google Play purchases and real-time developer notifications."""

from drf_spectacular.utils import extend_schema
from rest_framework import viewsets
from rest_framework.permissions import AllowAny
from rest_framework.response import Response

from aiasmr.api.renderers import envelope
from aiasmr.api.schema import error_response
from billing import services
from billing.store_serializers import (
    AppleNotificationRequestSerializer,
    AppleTransactionRequestSerializer,
    GooglePurchaseRequestSerializer,
    StoreAccountSerializer,
    StoreNotificationResultSerializer,
    StorePurchaseSerializer,
)
from billing.views import validated_data

PURCHASE_ERRORS = {
    403: error_response("STORE_ACCOUNT_MISMATCH"),
    502: error_response("STORE_UNAVAILABLE"),
    503: error_response("STORE_NOT_CONFIGURED"),
}


class StoreAccountViewSet(viewsets.ViewSet):
    @extend_schema(
        responses={200: StoreAccountSerializer},
        summary="The ids to hand the stores with every purchase (appAccountToken, obfuscatedAccountId)",
        description="A store purchase is credited only to the account whose id the app set on it.",
    )
    def retrieve(self, request):
        return Response(StoreAccountSerializer(services.store_account_get(user=request.user)).data)


class AppleViewSet(viewsets.ViewSet):
    @extend_schema(
        request=AppleTransactionRequestSerializer,
        responses={
            200: StorePurchaseSerializer,
            400: error_response(
                "VALIDATION_ERROR, STORE_SIGNATURE_INVALID, STORE_APP_MISMATCH, STORE_ENVIRONMENT_MISMATCH, "
                "STORE_PRODUCT_UNKNOWN"
            ),
            409: error_response("STORE_PURCHASE_REVOKED, SUBSCRIPTION_EXISTS"),
            **PURCHASE_ERRORS,
        },
        summary="Credit an App Store purchase (a StoreKit 2 signed transaction), once per transactionId",
        description=(
            "Verified against Apple's root certificates, this app's bundle id and environment; its "
            "`appAccountToken` must be this user's (GET /api/billing/store-account). A replay, or the same "
            "transaction from another device, answers the same purchase and grants nothing more. Finish the "
            "StoreKit transaction once this answers 200."
        ),
    )
    def transaction(self, request):
        data = validated_data(AppleTransactionRequestSerializer, request)
        purchase = services.apple_transaction_submit(user=request.user, signed_transaction=data["signedTransaction"])
        return Response(envelope(StorePurchaseSerializer(purchase).data, "App Store purchase verified."))


class GoogleViewSet(viewsets.ViewSet):
    @extend_schema(
        request=GooglePurchaseRequestSerializer,
        responses={
            200: StorePurchaseSerializer,
            400: error_response("VALIDATION_ERROR, STORE_PRODUCT_UNKNOWN, STORE_PURCHASE_NOT_FOUND"),
            409: error_response(
                "STORE_PURCHASE_NOT_COMPLETED, STORE_PURCHASE_CONSUMED, STORE_PURCHASE_REVOKED, SUBSCRIPTION_EXISTS"
            ),
            **PURCHASE_ERRORS,
        },
        summary="Credit a Google Play purchase, once per purchase token (then consumed or acknowledged)",
        description=(
            "Checked with the Play Developer API: purchased, not consumed, for this app and this user's "
            "`obfuscatedAccountId` (GET /api/billing/store-account). Subscriptions are checked with "
            "purchases.subscriptionsv2."
        ),
    )
    def purchase(self, request):
        data = validated_data(GooglePurchaseRequestSerializer, request)
        purchase = services.google_purchase_submit(
            user=request.user, product_id=data["productId"], purchase_token=data["purchaseToken"]
        )
        return Response(envelope(StorePurchaseSerializer(purchase).data, "Google Play purchase verified."))


class StoreNotificationViewSet(viewsets.ViewSet):
    """Store server notifications: no session or token of ours; the store's signature authenticates them."""

    authentication_classes: list = []
    permission_classes = [AllowAny]

    @extend_schema(
        request=AppleNotificationRequestSerializer,
        responses={
            200: StoreNotificationResultSerializer,
            400: error_response("VALIDATION_ERROR, STORE_SIGNATURE_INVALID, STORE_APP_MISMATCH, STORE_ENVIRONMENT_MISMATCH"),
            503: error_response("STORE_NOT_CONFIGURED"),
        },
        summary="App Store Server Notifications V2 (signed; repeats answer 200 and change nothing)",
    )
    def apple(self, request):
        data = validated_data(AppleNotificationRequestSerializer, request)
        _, outcome = services.apple_notification_receive(signed_payload=data["signedPayload"])
        return Response({"received": True, "outcome": outcome})

    @extend_schema(
        request={"application/json": {"type": "object"}},
        responses={
            200: StoreNotificationResultSerializer,
            400: error_response("VALIDATION_ERROR"),
            401: error_response("STORE_PUSH_UNAUTHORIZED"),
            502: error_response("STORE_UNAVAILABLE"),
            503: error_response("STORE_NOT_CONFIGURED"),
        },
        summary="Google Play real-time developer notifications (Pub/Sub push with an OIDC token)",
    )
    def google(self, request):
        _, outcome = services.google_notification_receive(
            authorization=request.headers.get("Authorization", ""),
            body=request.data if isinstance(request.data, dict) else {},
        )
        return Response({"received": True, "outcome": outcome})
