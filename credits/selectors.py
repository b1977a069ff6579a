"""Reads of the ledger: balance, history, usage, and the audit's checks."""

import functools
from collections.abc import Callable, Iterator
from datetime import timedelta

from django.db.models import Count, F, Q, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from accounts.models import Profile, User
from aiasmr.db import BoundSelect, PreparedSelect
from credits.models import CreditTransaction, TransactionType

CHARGED_AND_REFUNDABLE = ("failed", "cancelled")


def credits_balance_get(*, user: User) -> Profile:
    """The balance as loaded with the authenticated user (no extra query)."""
    return user.profile


# credit_transactions.transaction_type of the Express app: this ledger's other types map onto these four.
APP_TRANSACTION_TYPES = ("purchase", "usage", "refund", "bonus")


def app_transaction_type(*, type: str, amount: int) -> str:
    """The app's type of a ledger row: a subscription grant is a purchase; an adjustment is a bonus when it
    adds credits and usage when it takes them (the exact type stays in the row's `kind`)."""
    if type == TransactionType.SUBSCRIPTION:
        return "purchase"
    if type == TransactionType.ADJUSTMENT:
        return "bonus" if amount > 0 else "usage"
    return type


HISTORY_FIELDS = (
    "id", "user_id", "type", "amount", "balance_after", "description", "video_id", "order_id", "subscription_id",
    "created_at", "idempotency_key", "video__provider_task_id",
)


@functools.cache
def _history_select() -> PreparedSelect:
    # Served by the (user, -created_at, -id) index; the SQL is built once per process: 20-38% faster end
    # to end than the same page through the ORM (bench/history_serialization.py, bench/README.md).
    return PreparedSelect(
        CreditTransaction, HISTORY_FIELDS, where="t.user_id = %s", order_by="t.created_at DESC, t.id DESC"
    )


def credits_history(*, user: User) -> BoundSelect:
    """The user's ledger entries as rows (dicts of HISTORY_FIELDS, with the video's task id), newest
    first; count and slice it."""
    return _history_select().bind(user.pk)


def credits_usage_totals(*, user: User) -> dict:
    """Express's usage block, over the whole ledger in one aggregate: credits spent on generations
    (usage rows), bought (purchases and subscription grants), refunded, and the number of generations."""
    sums = CreditTransaction.objects.filter(user_id=user.pk).aggregate(
        spent=Sum("amount", filter=Q(type=TransactionType.USAGE)),
        purchased=Sum("amount", filter=Q(type__in=(TransactionType.PURCHASE, TransactionType.SUBSCRIPTION))),
        refunded=Sum("amount", filter=Q(type=TransactionType.REFUND)),
        generations=Count("id", filter=Q(type=TransactionType.USAGE)),
    )
    spent, count = -(sums["spent"] or 0), sums["generations"]
    return {
        "totalSpent": spent,
        "totalPurchased": sums["purchased"] or 0,
        "totalRefunded": sums["refunded"] or 0,
        "currentBalance": user.profile.credits,
        "videoGenerationCount": count,
        "averagePerVideo": (2 * spent + count) // (2 * count) if count else 0,  # Math.round: halves up
    }


def credits_usage(*, user: User, days: int) -> dict:
    """Express's `usage` block (the whole ledger), and the spend per day and per quality over the last
    `days` days (refunds given back net them out)."""
    since = timezone.now() - timedelta(days=days)
    spend = CreditTransaction.objects.filter(
        user_id=user.pk, created_at__gte=since, type__in=(TransactionType.USAGE, TransactionType.REFUND)
    )
    sums = {
        "spent": Sum("amount", filter=Q(type=TransactionType.USAGE)),
        "refunded": Sum("amount", filter=Q(type=TransactionType.REFUND)),
        "videos": Count("video_id", filter=Q(type=TransactionType.USAGE), distinct=True),
    }
    by_day = spend.annotate(day=TruncDate("created_at")).values("day").annotate(**sums).order_by("day")
    by_quality = spend.values("video__quality").annotate(**sums).order_by("video__quality")

    def row(values: dict) -> dict:
        spent, refunded = -(values["spent"] or 0), values["refunded"] or 0
        return {"spent": spent, "refunded": refunded, "net": spent - refunded, "videos": values["videos"]}

    days_rows = [{"date": item["day"].isoformat(), **row(item)} for item in by_day]
    quality_rows = [{"quality": item["video__quality"] or "unknown", **row(item)} for item in by_quality]
    totals = {
        "spent": sum(r["spent"] for r in days_rows),
        "refunded": sum(r["refunded"] for r in days_rows),
        "net": sum(r["net"] for r in days_rows),
        "videos": sum(r["videos"] for r in quality_rows),
    }
    return {
        "usage": credits_usage_totals(user=user),
        "days": days,
        "since": since,
        "totals": totals,
        "byDay": days_rows,
        "byQuality": quality_rows,
    }


# --- Audit ---------------------------------------------------------------------------------------


def ledger_balance_mismatches(
    *, batch_size: int = 1000, on_progress: Callable[[int, int], None] | None = None
) -> Iterator[dict]:
    """Yields every user whose balance differs from the sum of their ledger (keyset batches: constant
    memory and two queries per batch whatever the table size)."""
    total = Profile.objects.count()
    checked = 0
    last = None
    while True:
        profiles = Profile.objects.order_by("user_id").values_list("user_id", "credits", "user__email")
        if last is not None:
            profiles = profiles.filter(user_id__gt=last)
        batch = list(profiles[:batch_size])
        if not batch:
            break
        ids = [user_id for user_id, _, _ in batch]
        sums = dict(
            CreditTransaction.objects.filter(user_id__in=ids)
            .values("user_id")
            .annotate(total=Sum("amount"))
            .values_list("user_id", "total")
        )
        for user_id, credits, email in batch:
            ledger = sums.get(user_id) or 0
            if ledger != credits:
                yield {"user_id": user_id, "email": email, "balance": credits, "ledger": ledger}
        checked += len(batch)
        last = ids[-1]
        if on_progress is not None:
            on_progress(checked, total)


def unrefunded_failed_charges() -> Iterator[dict]:
    """Charges of failed or cancelled generations without their one refund (or with a refund for
    another amount). The one-to-one `reverses` makes two refunds impossible."""
    charges = (
        CreditTransaction.objects.filter(type=TransactionType.USAGE, video__status__in=CHARGED_AND_REFUNDABLE)
        .filter(Q(reversal__isnull=True) | ~Q(reversal__amount=F("amount") * -1))
        .select_related("user", "reversal")
        .order_by("user_id", "id")
    )
    for charge in charges.iterator(chunk_size=1000):
        refund = getattr(charge, "reversal", None)
        if refund is not None and refund.amount == -charge.amount:
            continue
        yield {
            "user_id": charge.user_id,
            "email": charge.user.email if charge.user else None,
            "video_id": charge.video_id,
            "charge": charge.amount,
            "refund": refund.amount if refund is not None else None,
        }
