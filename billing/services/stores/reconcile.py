"""store_reconcile: the recent store purchases re-checked with the stores, each disagreement with the ledger
listed (and repaired on request, by the same idempotent paths the endpoints take)."""

from datetime import datetime, timedelta

from django.utils import timezone

from billing.models import LIVE_SUBSCRIPTION_STATUSES, CreditPackage, OrderStatus, Store, StorePurchase
from billing.services.common import PAYABLE_STATUSES
from billing.services.stores.app_store import apple_transaction_apply
from billing.services.stores.google_play import (
    GOOGLE_LIVE_STATES,
    google_product_fulfil,
    google_purchase_consume,
    google_subscription_sync,
)
from billing.services.stores.grants import store_purchase_refund
from billing.stores import StoreError, apple, google


def _check_apple(purchase: StorePurchase, *, repair: bool) -> str:
    tx = apple.transaction_fetch(transaction_id=purchase.transaction_id)
    status = purchase.order.status if purchase.order else None
    if tx.revoked_at is not None:
        if status == OrderStatus.REFUNDED:
            return ""
        if repair:
            store_purchase_refund(purchase=purchase, revoked_at=tx.revoked_at)
        return "revoked at the App Store, not refunded here"
    if status in PAYABLE_STATUSES:
        if repair:
            apple_transaction_apply(tx=tx, user=purchase.user)
        return "paid at the App Store, not credited here"
    return ""


def _check_google(purchase: StorePurchase, *, repair: bool) -> str:
    if purchase.kind == StorePurchase.Kind.SUBSCRIPTION:
        info = google.subscription_get(purchase_token=purchase.transaction_id)
        live = purchase.subscription is not None and purchase.subscription.status in LIVE_SUBSCRIPTION_STATUSES
        if (info.state in GOOGLE_LIVE_STATES) == live:
            return ""
        if repair:
            google_subscription_sync(purchase_token=purchase.transaction_id)
        return f"subscription is {info.state} at Google Play"
    info = google.product_get(product_id=purchase.product_id, purchase_token=purchase.transaction_id)
    status = purchase.order.status if purchase.order else None
    if info.purchase_state == google.CANCELED:
        if status == OrderStatus.REFUNDED:
            return ""
        if repair:
            store_purchase_refund(purchase=purchase)
        return "cancelled at Google Play, not refunded here"
    if status in PAYABLE_STATUSES and info.purchase_state == google.PURCHASED:
        if repair and purchase.user is not None and isinstance(purchase.order.package, CreditPackage):
            google_product_fulfil(user=purchase.user, package=purchase.order.package, info=info)
        return "paid at Google Play, not credited here"
    if status == OrderStatus.COMPLETED and info.consumption_state == google.NOT_CONSUMED:
        if repair:
            google_purchase_consume(purchase=purchase)
        return "credited here, not consumed at Google Play"
    return ""


def store_purchases_reconcile(*, days: int, repair: bool = False, now: datetime | None = None) -> list[dict]:
    """Re-checks the store purchases of the last `days` days against the stores; lists each disagreement
    with the ledger (and repairs it with `repair`: the same idempotent paths the endpoints take)."""
    now = now or timezone.now()
    recent = StorePurchase.objects.select_related("order__package", "subscription", "user").filter(
        created_at__gte=now - timedelta(days=days)
    )
    findings = []
    for purchase in recent.iterator(chunk_size=200):
        check = _check_apple if purchase.store == Store.APPLE else _check_google
        try:
            problem = check(purchase, repair=repair)
        except StoreError as exc:
            problem = f"store check failed: {exc.reason}"
        StorePurchase.objects.filter(pk=purchase.pk).update(last_checked_at=now)
        if problem:
            findings.append({"purchase": purchase.pk, "store": purchase.store, "transaction": purchase.transaction_id,
                             "user": purchase.user_id, "problem": problem, "repaired": repair})
    return findings
