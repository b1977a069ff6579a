from django.urls import path

from billing.views import (
    OrderViewSet,
    PackagesViewSet,
    PlanViewSet,
    PurchaseViewSet,
    SandboxViewSet,
    SubscriptionViewSet,
    WebhookViewSet,
)

urlpatterns = [
    path("credits/packages", PackagesViewSet.as_view({"get": "list"})),
    path("credits/purchase", PurchaseViewSet.as_view({"post": "purchase"})),
    path("billing/plans", PlanViewSet.as_view({"get": "list"})),
    path("billing/subscription", SubscriptionViewSet.as_view({"get": "retrieve", "post": "create"})),
    path("billing/subscription/cancel", SubscriptionViewSet.as_view({"post": "cancel"})),
    path("billing/orders", OrderViewSet.as_view({"get": "list"})),
    path("billing/orders/<uuid:order_id>", OrderViewSet.as_view({"get": "retrieve"})),
    path("billing/webhooks/stripe/", WebhookViewSet.as_view({"post": "stripe"})),
    path("billing/webhooks/sandbox/", WebhookViewSet.as_view({"post": "sandbox"})),
    path("billing/sandbox/confirm/<uuid:order_id>", SandboxViewSet.as_view({"post": "confirm"})),
]

# In-app purchases (billing.store_views).
from billing.store_views import AppleViewSet, GoogleViewSet, StoreAccountViewSet, StoreNotificationViewSet  # noqa: E402

urlpatterns += [
    path("billing/store-account", StoreAccountViewSet.as_view({"get": "retrieve"})),
    path("billing/apple/transactions", AppleViewSet.as_view({"post": "transaction"})),
    path("billing/apple/notifications", StoreNotificationViewSet.as_view({"post": "apple"})),
    path("billing/google/purchases", GoogleViewSet.as_view({"post": "purchase"})),
    path("billing/google/notifications", StoreNotificationViewSet.as_view({"post": "google"})),
]
