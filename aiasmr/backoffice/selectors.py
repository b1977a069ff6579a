"""Reads for the back office dashboard: everything is computed from the database, per UTC day."""

import logging
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db.models import Count, Max, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from billing.models import Order, OrderStatus
from credits.models import CreditTransaction, TransactionType
from videos.models import OPEN_STATUSES, Video, VideoStatus
from videos.selectors import kie_account_credits

logger = logging.getLogger("aiasmr.backoffice")



def _days(*, days: int, now: datetime) -> tuple[list[date], datetime]:
    today = timezone.localdate(now)
    first = today - timedelta(days=days - 1)
    start = datetime.combine(first, datetime.min.time(), tzinfo=timezone.get_current_timezone())
    return [first + timedelta(days=i) for i in range(days)], start


def generations_per_day(*, days: list[date], start: datetime) -> dict[str, list[int]]:
    """{status: [count per day]} for every status, in VideoStatus order."""
    index = {day: i for i, day in enumerate(days)}
    series = {status: [0] * len(days) for status in VideoStatus.values}
    rows = (
        Video.objects.filter(created_at__gte=start)
        .annotate(day=TruncDate("created_at"))
        .values("day", "status")
        .annotate(n=Count("id"))
    )
    for row in rows:
        if row["day"] in index and row["status"] in series:
            series[row["status"]][index[row["day"]]] += row["n"]
    return series


def credits_per_day(*, days: list[date], start: datetime) -> dict[str, list[int]]:
    """Credits spent (usage), purchased (purchases and subscription periods), granted free (signup bonus,
    check-ins, referral rewards) and refunded, per day."""
    index = {day: i for i, day in enumerate(days)}
    series = {name: [0] * len(days) for name in ("spent", "purchased", "free", "refunded")}
    bucket = {
        TransactionType.USAGE: "spent",
        TransactionType.PURCHASE: "purchased",
        TransactionType.SUBSCRIPTION: "purchased",
        TransactionType.BONUS: "free",
        TransactionType.REFUND: "refunded",
    }
    rows = (
        CreditTransaction.objects.filter(created_at__gte=start, type__in=list(bucket))
        .annotate(day=TruncDate("created_at"))
        .values("day", "type")
        .annotate(total=Sum("amount"))
    )
    for row in rows:
        if row["day"] in index:
            series[bucket[row["type"]]][index[row["day"]]] += abs(row["total"] or 0)
    return series


def revenue_per_day(*, days: list[date], start: datetime) -> dict[str, list[Decimal]]:
    """Money taken (orders paid that day) and money given back (provider refunds that day)."""
    index = {day: i for i, day in enumerate(days)}
    series = {"revenue": [Decimal("0")] * len(days), "refunds": [Decimal("0")] * len(days)}
    paid = (
        Order.objects.filter(
            completed_at__gte=start, status__in=[OrderStatus.COMPLETED, OrderStatus.REFUNDED]
        )
        .annotate(day=TruncDate("completed_at"))
        .values("day")
        .annotate(total=Sum("amount"))
    )
    refunded = (
        Order.objects.filter(refunded_at__gte=start, status=OrderStatus.REFUNDED)
        .annotate(day=TruncDate("refunded_at"))
        .values("day")
        .annotate(total=Sum("amount"))
    )
    for name, rows in (("revenue", paid), ("refunds", refunded)):
        for row in rows:
            if row["day"] in index:
                series[name][index[row["day"]]] += row["total"] or Decimal("0")
    return series


def failure_reasons_top(*, start: datetime, limit: int = 10) -> list[dict]:
    rows = (
        Video.objects.filter(created_at__gte=start, status=VideoStatus.FAILED)
        .values("error_code")
        .annotate(count=Count("id"), example=Max("error_message"))
        .order_by("-count", "error_code")[:limit]
    )
    return [
        {"code": row["error_code"] or "(no code)", "example": row["example"] or "", "count": row["count"]}
        for row in rows
    ]


def stuck_videos(*, now: datetime, limit: int = 50) -> tuple[int, list[Video]]:
    """Open jobs that have not moved for BACKOFFICE_STUCK_MINUTES: the sweep should have settled them."""
    cutoff = now - timedelta(minutes=settings.BACKOFFICE_STUCK_MINUTES)
    queryset = Video.objects.filter(status__in=OPEN_STATUSES, updated_at__lt=cutoff)
    return queryset.count(), list(queryset.select_related("user").order_by("updated_at")[:limit])


def dashboard_data(*, days: int = 30, now: datetime | None = None) -> dict:
    now = now or timezone.now()
    day_list, start = _days(days=days, now=now)
    stuck_count, stuck = stuck_videos(now=now)
    return {
        "days": day_list,
        "start": start,
        "generations": generations_per_day(days=day_list, start=start),
        "credits": credits_per_day(days=day_list, start=start),
        "revenue": revenue_per_day(days=day_list, start=start),
        "failure_reasons": failure_reasons_top(start=start),
        "stuck_count": stuck_count,
        "stuck": stuck,
        "stuck_minutes": settings.BACKOFFICE_STUCK_MINUTES,
        "kie_credits": kie_account_credits(),
    }
