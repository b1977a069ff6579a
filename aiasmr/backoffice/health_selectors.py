"""The staff-only health routes' reads and the cleanup (routes/health.js GET /metrics, POST /cleanup)."""

import logging
from datetime import timedelta

from django.db.models import Count, Q, Sum
from django.db.models.functions import Abs
from django.utils import timezone

from accounts.models import User
from aiasmr.api.health import application_info
from aiasmr.api.numbers import math_round
from credits.models import CreditTransaction, TransactionType
from videos.models import ROW_STATUS, Video
from videos.services import generations_sweep

logger = logging.getLogger("aiasmr.backoffice")

# Credits that came in: Express counted purchases; subscription periods are bought credits too.
_PURCHASED = (TransactionType.PURCHASE, TransactionType.SUBSCRIPTION)


def health_metrics() -> dict:
    """Counts over the whole service and its last 24 hours, as Express's /metrics named them."""
    now = timezone.now()
    since = now - timedelta(hours=24)
    users = User.objects.aggregate(
        total=Count("id"),
        # Express: profiles updated in the last day; here also anyone who signed in.
        active_24h=Count("id", filter=Q(profile__updated_at__gte=since) | Q(last_login__gte=since), distinct=True),
    )
    videos = dict.fromkeys(("ready", "processing", "failed"), 0)
    for row in Video.objects.values("status").annotate(n=Count("id")).order_by():
        videos[ROW_STATUS[row["status"]]] += row["n"]
    total = sum(videos.values())
    credits = CreditTransaction.objects.filter(created_at__gte=since).aggregate(
        spent_24h=Sum(Abs("amount"), filter=Q(type=TransactionType.USAGE), default=0),
        purchased_24h=Sum("amount", filter=Q(type__in=_PURCHASED), default=0),
        transactions_24h=Count("id"),
    )
    return {
        "timestamp": now,
        "application": application_info(),
        "users": users,
        "videos": {
            "total": total,
            "completed": videos["ready"],
            "processing": videos["processing"],
            "failed": videos["failed"],
            "success_rate": math_round(100 * videos["ready"] / total) if total else 0,
        },
        "credits": credits,
    }


def health_cleanup() -> dict:
    """One run of the generation sweep (manage.py generations_sweep): {actions: what it did, errors}."""
    actions: list[str] = []
    errors: list[str] = []
    try:
        counts = generations_sweep(report=actions.append)
    except Exception as exc:  # reported in the answer, as Express's cleanup did, and logged
        logger.exception("cleanup failed", extra={"event": "health_cleanup_failed"})
        errors.append(f"Cleanup operation failed: {exc.__class__.__name__}")
        counts = {}
    return {"timestamp": timezone.now(), "actions": actions, "errors": errors, "counts": counts}
