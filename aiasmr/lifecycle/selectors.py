"""Reads that span apps: the account's statistics, computed from the videos and the ledger, not stored."""

from datetime import timedelta

from django.db.models import Count, Q, Sum
from django.utils import timezone

from accounts.models import User
from aiasmr.api.numbers import math_round
from credits.models import CreditTransaction, TransactionType
from videos.models import OPEN_STATUSES, Video, VideoStatus


def user_statistics(*, user: User) -> dict:
    """GET /user/statistics in Express's nesting (StatisticsSerializer): completed = ready, processing =
    still open, failed = failed or cancelled; every figure an integer, as Express rounded them."""
    since = timezone.now() - timedelta(days=30)
    videos = Video.objects.filter(user=user).aggregate(
        total=Count("id"),
        completed=Count("id", filter=Q(status=VideoStatus.READY)),
        processing=Count("id", filter=Q(status__in=OPEN_STATUSES)),
        failed=Count("id", filter=Q(status__in=[VideoStatus.FAILED, VideoStatus.CANCELLED])),
        recent=Count("id", filter=Q(created_at__gte=since)),
    )
    ledger = CreditTransaction.objects.filter(user=user).aggregate(
        spent=Sum("amount", filter=Q(type=TransactionType.USAGE)),
        refunded=Sum("amount", filter=Q(type=TransactionType.REFUND)),
        purchased=Sum("amount", filter=Q(type__in=[TransactionType.PURCHASE, TransactionType.SUBSCRIPTION])),
        recent_spent=Sum("amount", filter=Q(type=TransactionType.USAGE, created_at__gte=since)),
    )
    spent = -(ledger["spent"] or 0)  # usage rows are negative; refunds are not netted (as Express)
    total = videos["total"]
    profile = user.profile
    return {
        "videos": {
            "total": total,
            "completed": videos["completed"],
            "processing": videos["processing"],
            "failed": videos["failed"],
            "successRate": math_round(100 * videos["completed"] / total) if total else 0,
        },
        "credits": {
            "totalSpent": spent,
            "totalPurchased": ledger["purchased"] or 0,
            "totalRefunded": ledger["refunded"] or 0,
            "currentBalance": profile.credits,
        },
        "usage": {
            "videosLast30Days": videos["recent"],
            "creditsSpentLast30Days": -(ledger["recent_spent"] or 0),
            "averageCreditsPerVideo": math_round(spent / total) if total else 0,
            "memberSince": profile.created_at,
        },
        "account": {"plan_type": profile.plan_type, "member_since": profile.created_at},
    }
