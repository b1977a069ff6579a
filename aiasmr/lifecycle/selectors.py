"""Reads that span apps: the account's statistics, computed from the videos and the ledger, not stored."""

from datetime import timedelta

from django.db.models import Count, Q, Sum
from django.utils import timezone

from accounts.models import User
from credits.models import CreditTransaction, TransactionType
from videos.models import OPEN_STATUSES, Video, VideoStatus


def user_statistics(*, user: User) -> dict:
    since = timezone.now() - timedelta(days=30)
    videos = Video.objects.filter(user=user).aggregate(
        total=Count("id"),
        completed=Count("id", filter=Q(status=VideoStatus.READY)),
        processing=Count("id", filter=Q(status__in=OPEN_STATUSES)),
        failed=Count("id", filter=Q(status__in=[VideoStatus.FAILED, VideoStatus.CANCELLED])),
        recent=Count("id", filter=Q(created_at__gte=since)),
        recent_completed=Count("id", filter=Q(created_at__gte=since, status=VideoStatus.READY)),
    )
    ledger = CreditTransaction.objects.filter(user=user).aggregate(
        spent=Sum("amount", filter=Q(type=TransactionType.USAGE)),
        refunded=Sum("amount", filter=Q(type=TransactionType.REFUND)),
        purchased=Sum("amount", filter=Q(type__in=[TransactionType.PURCHASE, TransactionType.SUBSCRIPTION])),
        recent_spent=Sum("amount", filter=Q(type=TransactionType.USAGE, created_at__gte=since)),
        recent_refunded=Sum("amount", filter=Q(type=TransactionType.REFUND, created_at__gte=since)),
    )
    spent = -(ledger["spent"] or 0)
    refunded = ledger["refunded"] or 0
    net_spent = spent - refunded
    settled = videos["completed"] + videos["failed"]
    return {
        "videos": {
            "total": videos["total"],
            "completed": videos["completed"],
            "processing": videos["processing"],
            "failed": videos["failed"],
        },
        "successRate": round(100.0 * videos["completed"] / settled, 1) if settled else 0.0,
        "credits": {"spent": spent, "purchased": ledger["purchased"] or 0, "refunded": refunded, "netSpent": net_spent},
        "last30Days": {
            "videosCreated": videos["recent"],
            "videosCompleted": videos["recent_completed"],
            "creditsSpent": -(ledger["recent_spent"] or 0) - (ledger["recent_refunded"] or 0),
        },
        "averageCreditsPerVideo": round(net_spent / videos["completed"], 1) if videos["completed"] else 0.0,
        "memberSince": user.date_joined,
    }
