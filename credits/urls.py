from django.urls import path

from credits.views import CreditsViewSet

# /api/credits/packages and /api/credits/purchase are billing's (billing/urls.py).
urlpatterns = [
    path("credits/balance", CreditsViewSet.as_view({"get": "balance"})),
    path("credits/history", CreditsViewSet.as_view({"get": "history"})),
    path("credits/usage", CreditsViewSet.as_view({"get": "usage"})),
]
