from django.urls import path

from rewards.views import CheckInViewSet, ReferralViewSet

urlpatterns = [
    path("free-credits/check-in", CheckInViewSet.as_view({"get": "retrieve", "post": "create"})),
    path("free-credits/referral", ReferralViewSet.as_view({"get": "retrieve"})),
]
