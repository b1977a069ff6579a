"""Reads of the free credits: a user's referral overview."""

from django.conf import settings
from django.db.models import Count, Q, Sum

from accounts.models import User
from rewards.models import Referral, ReferralEvent, ReferralGrant, ReferralRewardRule
from rewards.referrals import referral_code_get, referral_link, referral_month_earned


def referral_overview(*, user: User) -> dict:
    """Code, link, counts (total; successful = the referred user paid; pending = not yet) and credits earned."""
    code = referral_code_get(user=user)
    referrals = Referral.objects.filter(referrer=user).aggregate(
        total=Count("id", distinct=True),
        successful=Count(
            "id",
            distinct=True,
            filter=Q(grants__event=ReferralEvent.FIRST_PAYMENT, grants__clawed_back_at__isnull=True),
        ),
    )
    earned = (
        ReferralGrant.objects.filter(referral__referrer=user, clawed_back_at__isnull=True).aggregate(
            total=Sum("credits")
        )["total"]
        or 0
    )
    rules = {rule.event: rule.credits for rule in ReferralRewardRule.objects.filter(is_active=True)}
    return {
        "code": code.code,
        "link": referral_link(code=code.code),
        "totalReferrals": referrals["total"],
        "successfulReferrals": referrals["successful"],
        "pendingReferrals": referrals["total"] - referrals["successful"],
        "creditsEarned": earned,
        "creditsEarnedThisMonth": referral_month_earned(referrer=user),
        "monthlyCap": settings.REFERRAL_MONTHLY_CAP_CREDITS,
        "rewards": {event.value: rules.get(event.value, 0) for event in ReferralEvent},
    }
