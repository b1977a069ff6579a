"""Free-credit endpoints (/api/free-credits/...): validate, call one service or selector, serialize."""

from drf_spectacular.utils import extend_schema
from rest_framework import viewsets
from rest_framework.response import Response

from accounts.models import Profile
from aiasmr.api.schema import error_response
from rewards.check_ins import check_in_perform, check_in_status
from rewards.selectors import referral_overview
from rewards.serializers import CheckInResultSerializer, CheckInStatusSerializer, ReferralOverviewSerializer


class CheckInViewSet(viewsets.ViewSet):
    @extend_schema(responses={200: CheckInStatusSerializer}, summary="Daily check-in: streak, rewards, this month")
    def retrieve(self, request):
        return Response(CheckInStatusSerializer(check_in_status(user=request.user)).data)

    @extend_schema(
        request=None,
        responses={200: CheckInResultSerializer, 409: error_response("ALREADY_CHECKED_IN")},
        summary="Check in for today (the user's own day) and receive the day's credits",
    )
    def create(self, request):
        check_in = check_in_perform(user=request.user)
        balance = Profile.objects.filter(user_id=request.user.pk).values_list("credits", flat=True).first() or 0
        result = {
            "creditsEarned": check_in.credits,
            "cycleDay": check_in.cycle_day,
            "streak": check_in.streak,
            "balance": balance,
            "status": check_in_status(user=request.user),
        }
        return Response(CheckInResultSerializer(result).data)


class ReferralViewSet(viewsets.ViewSet):
    @extend_schema(
        responses={200: ReferralOverviewSerializer}, summary="My referral code, share link, counts and credits earned"
    )
    def retrieve(self, request):
        return Response(ReferralOverviewSerializer(referral_overview(user=request.user)).data)
