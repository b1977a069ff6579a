from django.urls import path

from credits.views import CreditsViewSet, PackagesViewSet

urlpatterns = [
    path("credits/balance", CreditsViewSet.as_view({"get": "balance"})),
    path("credits/history", CreditsViewSet.as_view({"get": "history"})),
    path("credits/usage", CreditsViewSet.as_view({"get": "usage"})),
    path("credits/packages", PackagesViewSet.as_view({"get": "list"})),
    path("credits/purchase", CreditsViewSet.as_view({"post": "purchase"})),
]
