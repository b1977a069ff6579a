"""The proof after the soak settles: the ledger whole, no job open, no 5xx outside the injected outage."""

from __future__ import annotations

import time

from bench.chaos.clients import Client, Stats
from bench.chaos.cluster import Service

OPEN = ("queued", "submitted", "processing", "storing")


def settle(service: Service, timeout: float) -> int:
    """Waits until no job is open; returns how many stayed open."""
    from django.db import close_old_connections

    from videos.models import Video

    deadline = time.monotonic() + timeout
    while True:
        close_old_connections()
        left = Video.objects.filter(status__in=OPEN).count()
        if left == 0 or time.monotonic() > deadline:
            return left
        time.sleep(1)


def prove(service: Service, clients: list[Client], stats: Stats) -> dict:
    from django.db import close_old_connections, connection
    from django.db.models import Count, Exists, OuterRef, Q, Sum

    from billing.models import Order
    from credits.models import CreditTransaction
    from videos.models import Video

    close_old_connections()
    checks: dict[str, object] = {}
    audit = service.manage("credits_audit", "--no-progress", check=False)
    checks["credits_audit clean"] = audit.returncode == 0 and "credits audit clean" in audit.stdout
    checks["jobs left open"] = Video.objects.filter(status__in=OPEN).count()
    refunds = CreditTransaction.objects.filter(type="refund")
    checks["debits refunded twice"] = refunds.values("reverses_id").annotate(n=Count("id")).filter(n__gt=1).count()
    failed = Video.objects.filter(status__in=("failed", "cancelled"), debit__isnull=False)
    checks["failed/cancelled jobs without their refund"] = failed.exclude(
        Exists(refunds.filter(reverses_id=OuterRef("debit_id")))).count()
    credited = CreditTransaction.objects.filter(order__isnull=False, amount__gt=0).values("order_id").annotate(
        n=Count("id"))
    checks["orders credited twice"] = credited.filter(n__gt=1).count()
    checks["completed orders not credited"] = Order.objects.filter(status="completed").exclude(
        pk__in=credited.values("order_id")).count()
    # Every balance a client is shown equals the sum of that user's ledger.
    mismatched = []
    for client in clients:
        if not client.user_id:
            continue
        shown = client.balance()
        ledger = CreditTransaction.objects.filter(user_id=client.user_id).aggregate(s=Sum("amount"))["s"] or 0
        if shown != ledger:
            mismatched.append((client.email, shown, ledger))
    checks["client balances not equal to the ledger"] = len(mismatched)
    checks["5xx outside the injected outage"] = len(stats.outside_outages(stats.server_errors))
    checks["transport errors outside the injected outage"] = len(stats.outside_outages(stats.transport_errors))
    figures = {
        "videos by status": dict(Video.objects.values_list("status").annotate(n=Count("id")).order_by()),
        "orders by status": dict(Order.objects.values_list("status").annotate(n=Count("id")).order_by()),
        "ledger rows by type": dict(CreditTransaction.objects.values_list("type").annotate(n=Count("id")).order_by()),
        "credits in the ledger": CreditTransaction.objects.aggregate(s=Sum("amount"))["s"],
        "staff refunds": refunds.filter(~Q(staff_user=None)).count(),
        "5xx inside the outage": len(stats.server_errors) - checks["5xx outside the injected outage"],
        "mismatched balances": mismatched[:5],
        "5xx (time, path, status)": stats.server_errors[:10],
        "transport errors (time, path, error)": stats.transport_errors[:10],
        "outage windows": stats.outages,
        "audit": audit.stdout.strip().splitlines()[-1:] if audit.stdout.strip() else audit.stderr[-300:],
    }
    connection.close()
    return {"checks": checks, "figures": figures}


CLEAN = {"credits_audit clean": True}


def passed(checks: dict) -> bool:
    return all((value is True) if key in CLEAN else value == 0 for key, value in checks.items())
