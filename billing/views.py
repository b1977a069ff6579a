"""Billing endpoints: credit packages and their purchase (under /api/credits/), plans, subscription, orders,
provider webhooks and the development sandbox."""

from django.conf import settings
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status, viewsets
from rest_framework.permissions import AllowAny
from rest_framework.response import Response

from accounts.selectors import plan_entitlements
from aiasmr.api.exceptions import NotFound
from aiasmr.api.idempotency import IDEMPOTENCY_HEADER, idempotency_key
from aiasmr.api.pagination import page_parameters, page_params, paginate
from aiasmr.api.ratelimit import rate_limit
from aiasmr.api.renderers import envelope
from aiasmr.api.schema import error_response
from billing import selectors, services
from billing.serializers import (
    OrderListSerializer,
    OrderSerializer,
    PackagesSerializer,
    PlansSerializer,
    PurchaseRequestSerializer,
    PurchaseResultSerializer,
    SandboxConfirmRequestSerializer,
    SubscriptionRequestSerializer,
    SubscriptionSerializer,
    SubscriptionStartSerializer,
    SubscriptionStateSerializer,
    WebhookResultSerializer,
)


def validated_data(serializer_class, request):
    """The request body, checked by `serializer_class` (a VALIDATION_ERROR otherwise)."""
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


class PackagesViewSet(viewsets.ViewSet):
    authentication_classes: list = []
    permission_classes = [AllowAny]

    @extend_schema(responses={200: PackagesSerializer}, summary="Purchasable credit packages (public)")
    def list(self, request):
        return Response(PackagesSerializer({"packages": selectors.packages_list()}).data)


class PurchaseViewSet(viewsets.ViewSet):
    @extend_schema(
        request=PurchaseRequestSerializer,
        parameters=[IDEMPOTENCY_HEADER],
        responses={
            200: PurchaseResultSerializer,
            400: error_response(
                "VALIDATION_ERROR (an unknown package too, as Express's schema answered), AMOUNT_MISMATCH"
            ),
            409: error_response("IDEMPOTENCY_KEY_REUSED"),
            429: error_response("CREDITS_PURCHASE_LIMIT_EXCEEDED (10 purchases a day)"),
            502: error_response("PAYMENT_PROVIDER_ERROR"),
            503: error_response("PAYMENTS_NOT_CONFIGURED (no Stripe keys on this server)"),
        },
        summary="Buy a credit package: creates a pending order; credits come when the payment is confirmed",
        description=(
            "`amount` must equal the package's credits. `paymentMethod` (`stripe`, `paypal`, ...) is recorded "
            "on the order; the payment goes through the configured provider. The answer keeps the Express "
            "app's `transaction` (`creditsAdded` 0 and `newBalance` unchanged: nothing is granted before the "
            "payment is confirmed) and adds the `order` (status `pending`) and `payment`: with Stripe "
            "(`payment.provider` = `stripe`) confirm `payment.clientSecret` with the mobile SDK; with the "
            "development sandbox (`payment.provider` = `sandbox`, never in production) POST "
            "`payment.confirmUrl` (`/api/billing/sandbox/confirm/{orderId}`). Credits are granted only by the "
            "provider's verified webhook, once; poll `GET /api/billing/orders/{orderId}` or the balance. "
            "The same Idempotency-Key answers the same order."
        ),
    )
    @rate_limit("purchase", key="user")
    def purchase(self, request):
        data = validated_data(PurchaseRequestSerializer, request)
        order, _ = services.purchase_create(
            user=request.user,
            package_slug=data["package"],
            amount=data["amount"],
            payment_method=data["paymentMethod"],
            idempotency_key=idempotency_key(request),
        )
        result = {
            "order": order,
            "payment": services.order_payment_info(order=order),
            "credits_added": 0,
            "new_balance": request.user.profile.credits,
        }
        return Response(
            envelope(
                PurchaseResultSerializer(result).data,
                "Order created; credits are added when the payment is confirmed.",
            )
        )


class PlanViewSet(viewsets.ViewSet):
    authentication_classes: list = []
    permission_classes = [AllowAny]

    @extend_schema(responses={200: PlansSerializer}, summary="Subscription plans with credits and entitlements")
    def list(self, request):
        return Response(PlansSerializer({"plans": selectors.plans_list()}).data)


class SubscriptionViewSet(viewsets.ViewSet):
    @extend_schema(
        responses={200: SubscriptionStateSerializer},
        summary="The user's subscription (null when none) and the entitlements of their plan",
    )
    def retrieve(self, request):
        subscription = selectors.subscription_current(user=request.user)
        entitlements = plan_entitlements(profile=request.user.profile)
        return Response(SubscriptionStateSerializer({"subscription": subscription, "entitlements": entitlements}).data)

    @extend_schema(
        request=SubscriptionRequestSerializer,
        responses={
            201: SubscriptionStartSerializer,
            400: error_response("VALIDATION_ERROR, INVALID_PLAN, PLAN_NOT_AVAILABLE"),
            409: error_response("SUBSCRIPTION_EXISTS, TRIAL_ALREADY_USED"),
            502: error_response("PAYMENT_PROVIDER_ERROR"),
            503: error_response("PAYMENTS_NOT_CONFIGURED (no Stripe keys on this server)"),
        },
        summary="Subscribe to a plan: the subscription is active once the first payment is confirmed",
        description=(
            "Returns the subscription (status `incomplete`) and `payment`: with Stripe, confirm "
            "`payment.clientSecret` with the mobile SDK; with the development sandbox, POST "
            "`payment.confirmUrl`. The verified payment activates the plan and grants its credits."
        ),
    )
    def create(self, request):
        data = validated_data(SubscriptionRequestSerializer, request)
        subscription, payment = services.subscription_create(
            user=request.user, plan_slug=data["plan"], payment_method=data["paymentMethod"]
        )
        body = {"subscription": SubscriptionSerializer(subscription).data, "payment": payment}
        return Response(
            envelope(body, "Subscription started; it becomes active when the payment is confirmed."),
            status=status.HTTP_201_CREATED,
        )

    @extend_schema(
        request=None,
        responses={200: SubscriptionSerializer, 404: error_response("SUBSCRIPTION_NOT_FOUND")},
        summary="Cancel at the end of the current period (credits and plan stay until then)",
    )
    def cancel(self, request):
        subscription = services.subscription_cancel(user=request.user)
        return Response(envelope(SubscriptionSerializer(subscription).data, "The subscription ends at period end."))


class OrderViewSet(viewsets.ViewSet):
    @extend_schema(
        parameters=page_parameters(default_limit=20),
        responses={200: OrderListSerializer, 400: error_response("VALIDATION_ERROR")},
        summary="My orders, newest first (order history)",
    )
    def list(self, request):
        page, limit = page_params(request, default_limit=20)
        items, pagination = paginate(selectors.orders_for_user(user=request.user), page=page, limit=limit)
        return Response(envelope(OrderListSerializer({"orders": items, "pagination": pagination}).data))

    @extend_schema(
        responses={200: OrderSerializer, 404: error_response("ORDER_NOT_FOUND")},
        summary="One of the user's orders (poll it after paying)",
    )
    def retrieve(self, request, order_id):
        return Response(OrderSerializer(selectors.order_get(user=request.user, order_id=order_id)).data)


class WebhookViewSet(viewsets.ViewSet):
    """Provider webhooks: no session or token; the signature over the raw body authenticates them."""

    authentication_classes: list = []
    permission_classes = [AllowAny]

    def _receive(self, request, provider_name: str):
        _, outcome = services.payment_webhook_receive(
            provider_name=provider_name, payload=request.body, headers=request.headers
        )
        return Response({"received": True, "outcome": outcome})

    @extend_schema(
        request={"application/json": {"type": "object"}},
        responses={
            200: WebhookResultSerializer,
            400: error_response("INVALID_SIGNATURE"),
            503: error_response("PAYMENTS_NOT_CONFIGURED (no Stripe keys on this server)"),
        },
        summary="Stripe webhook (Stripe-Signature verified; repeats answer 200 and change nothing)",
    )
    def stripe(self, request):
        return self._receive(request, "stripe")

    @extend_schema(
        request={"application/json": {"type": "object"}},
        responses={200: WebhookResultSerializer, 400: error_response("INVALID_SIGNATURE"), 404: error_response("NOT_FOUND")},
        summary="Sandbox webhook (development only; Sandbox-Signature, Stripe's scheme)",
    )
    def sandbox(self, request):
        if not settings.SANDBOX_PAYMENTS_ENABLED:
            raise NotFound("Not available.", code="NOT_FOUND")
        return self._receive(request, "sandbox")


class SandboxViewSet(viewsets.ViewSet):
    @extend_schema(
        request=SandboxConfirmRequestSerializer,
        parameters=[OpenApiParameter("order_id", str, OpenApiParameter.PATH)],
        responses={200: OrderSerializer, 404: error_response("ORDER_NOT_FOUND, NOT_FOUND")},
        summary="Development only: simulate the payment of a sandbox order (not available in production)",
        description=(
            "Sends a signed sandbox webhook (`payment_intent.succeeded`, or `payment_intent.payment_failed` "
            'with {"outcome": "failed"}) through the same verified path as Stripe; the order completes '
            "and its credits are granted exactly once."
        ),
    )
    def confirm(self, request, order_id):
        data = validated_data(SandboxConfirmRequestSerializer, request)
        order = services.sandbox_payment_confirm(user=request.user, order_id=order_id, outcome=data["outcome"])
        return Response(envelope(OrderSerializer(order).data, f"Sandbox payment {data['outcome']}."))
