"""Credits endpoints: balance, history, usage, packages, purchase. Thin: validate, call, serialize."""

from drf_spectacular.utils import extend_schema
from rest_framework import status, viewsets
from rest_framework.permissions import AllowAny
from rest_framework.response import Response

from aiasmr.api.idempotency import IDEMPOTENCY_HEADER, idempotency_key
from aiasmr.api.pagination import page_parameters, page_params, paginate
from aiasmr.api.ratelimit import rate_limit
from aiasmr.api.renderers import envelope
from aiasmr.api.schema import error_response
from billing import selectors as billing_selectors
from billing import services as billing_services
from billing.serializers import (
    OrderSerializer,
    PackagesSerializer,
    PurchaseRequestSerializer,
    PurchaseResultSerializer,
)
from credits import selectors
from credits.serializers import (
    BalanceSerializer,
    HistorySerializer,
    UsageQuerySerializer,
    UsageSerializer,
    transaction_data,
)


class CreditsViewSet(viewsets.ViewSet):
    @extend_schema(responses={200: BalanceSerializer}, summary="The credit balance")
    def balance(self, request):
        return Response(BalanceSerializer(selectors.credits_balance_get(user=request.user)).data)

    @extend_schema(
        parameters=page_parameters(default_limit=50),
        responses={200: HistorySerializer},
        summary="Ledger entries, newest first",
    )
    def history(self, request):
        page, limit = page_params(request, default_limit=50)
        items, pagination = paginate(selectors.credits_history(user=request.user), page=page, limit=limit)
        return Response({"transactions": [transaction_data(row) for row in items], "pagination": pagination})

    @extend_schema(
        parameters=[UsageQuerySerializer],
        responses={200: UsageSerializer},
        summary="Credits spent per day and per quality (refunds net out)",
    )
    def usage(self, request):
        query = UsageQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        return Response(UsageSerializer(selectors.credits_usage(user=request.user, **query.validated_data)).data)

    @extend_schema(
        request=PurchaseRequestSerializer,
        parameters=[IDEMPOTENCY_HEADER],
        responses={
            201: PurchaseResultSerializer,
            200: PurchaseResultSerializer,
            400: error_response("VALIDATION_ERROR, INVALID_PACKAGE, AMOUNT_MISMATCH"),
            409: error_response("IDEMPOTENCY_KEY_REUSED"),
            429: error_response("RATE_LIMITED (10 purchases a day)"),
            502: error_response("PAYMENT_PROVIDER_ERROR"),
            503: error_response("PAYMENTS_NOT_CONFIGURED (no Stripe keys on this server)"),
        },
        summary="Buy a credit package: creates a pending order; credits come when the payment is confirmed",
        description=(
            "`amount` must equal the package's credits. The answer holds the `order` (status `pending`) and "
            "`payment`: with Stripe (`payment.provider` = `stripe`) confirm `payment.clientSecret` with the "
            "mobile SDK; with the development sandbox (`payment.provider` = `sandbox`, never in production) "
            "POST `payment.confirmUrl` (`/api/billing/sandbox/confirm/{orderId}`). Credits are granted only "
            "by the provider's verified webhook, once; poll `GET /api/billing/orders/{orderId}` or the balance. "
            "201 for a new order, 200 when the Idempotency-Key was seen before."
        ),
    )
    @rate_limit("purchase", key="user")
    def purchase(self, request):
        serializer = PurchaseRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        order, created = billing_services.purchase_create(
            user=request.user,
            package_slug=data["package"],
            amount=data["amount"],
            payment_method=data["paymentMethod"],
            idempotency_key=idempotency_key(request),
        )
        body = {"order": OrderSerializer(order).data, "payment": billing_services.order_payment_info(order=order)}
        return Response(
            envelope(body, "Order created; credits are added when the payment is confirmed."),
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )


class PackagesViewSet(viewsets.ViewSet):
    authentication_classes: list = []
    permission_classes = [AllowAny]

    @extend_schema(responses={200: PackagesSerializer}, summary="Purchasable credit packages (public)")
    def list(self, request):
        return Response(PackagesSerializer({"packages": billing_selectors.packages_list()}).data)
