"""Subscriptions and orders, with the provider ids later webhooks look up."""

from __future__ import annotations

from decimal import Decimal

from django.utils import timezone

from accounts.models import User
from billing.models import CreditPackage, Order, OrderStatus, Plan, Subscription, SubscriptionStatus
from supabase_import import mapping
from supabase_import import source as src
from supabase_import.writer import existing, insert_rows

LIVE_SUBSCRIPTION = (SubscriptionStatus.INCOMPLETE, SubscriptionStatus.ACTIVE, SubscriptionStatus.PAST_DUE)


class BillingPhase:
    """Part of SupabaseImport (run.py): uses its source, report, batch size, _phase and _guarded."""

    def subscriptions(self) -> None:
        self.plans = dict(Plan.objects.values_list("slug", "id"))
        total = self.source.count("SELECT count(*) AS n FROM public.subscriptions")
        self._phase("subscriptions", self.source.stream(src.SUBSCRIPTIONS_SQL), total, self._subscriptions_write)

    def _subscriptions_write(self, batch: list[dict]) -> None:
        report, table = self.report, "subscriptions"
        already = existing(Subscription, "id", [row["id"] for row in batch])
        report.add(table, "already imported", len(already))
        users = existing(User, "id", [row["user_id"] for row in batch])
        provider_ids = {
            mapping.text(row.get("stripe_subscription_id") or row.get("external_subscription_id"), 255) or None
            for row in batch
        }
        taken_ids = set(
            Subscription.objects.filter(provider_subscription_id__in=provider_ids - {None}).values_list(
                "provider_subscription_id", flat=True
            )
        )
        live_users = set(
            Subscription.objects.filter(user_id__in=users, status__in=LIVE_SUBSCRIPTION).values_list("user_id", flat=True)
        )
        rows = []
        for row in report.rows_of_imported_users(table=table, batch=batch, already=already, users=users):
            plan_id = self.plans.get(mapping.text(row["plan_type"]).lower())
            if plan_id is None:
                report.skip(table, row["id"], f"no plan {row['plan_type']!r} here")
                continue
            status = mapping.SUBSCRIPTION_STATUSES.get(mapping.text(row["status"]).lower())
            if status is None:
                report.skip(table, row["id"], f"unknown status {row['status']!r}")
                continue
            if status in LIVE_SUBSCRIPTION:
                if row["user_id"] in live_users:
                    report.skip(table, row["id"], "the user already has a live subscription (one at a time here)")
                    continue
                live_users.add(row["user_id"])
            provider_id = mapping.text(row.get("stripe_subscription_id") or row.get("external_subscription_id"), 255)
            if provider_id in taken_ids:
                report.note(table, row["id"], f"provider id {provider_id} already used here: not kept")
                provider_id = ""
            taken_ids.add(provider_id)
            customer = row.get("stripe_customer_id") or row.get("external_customer_id")
            rows.append(
                {
                    "id": row["id"],
                    "user_id": row["user_id"],
                    "plan_id": plan_id,
                    "status": status,
                    "provider": "stripe" if provider_id else "legacy",
                    "provider_subscription_id": provider_id or None,
                    "provider_customer_id": mapping.text(customer, 255),
                    "current_period_start": row["current_period_start"],
                    "current_period_end": row["current_period_end"],
                    "cancel_at_period_end": bool(row["cancel_at_period_end"]),
                    "created_at": row["created_at"] or timezone.now(),
                    "updated_at": row["updated_at"] or row["created_at"] or timezone.now(),
                }
            )
        report.add(table, "imported", len(insert_rows(Subscription, rows)))

    # --- orders -----------------------------------------------------------------------------------

    def orders(self) -> None:
        self.packages = dict(CreditPackage.objects.values_list("slug", "id"))
        total = self.source.count("SELECT count(*) AS n FROM public.orders")
        self._phase("orders", self.source.stream(src.ORDERS_SQL), total, self._orders_write)

    def _orders_write(self, batch: list[dict]) -> None:
        report, table = self.report, "orders"
        already = existing(Order, "id", [row["id"] for row in batch])
        report.add(table, "already imported", len(already))
        users = existing(User, "id", [row["user_id"] for row in batch])
        checkout_ids = {mapping.text(row["checkout_id"], 255) or None for row in batch}
        taken_ids = set(
            Order.objects.filter(provider_payment_id__in=checkout_ids - {None}).values_list(
                "provider_payment_id", flat=True
            )
        )
        rows = []
        for row in report.rows_of_imported_users(table=table, batch=batch, already=already, users=users):
            status = mapping.text(row["status"]).lower() or OrderStatus.PENDING
            if status not in mapping.ORDER_STATUSES:
                report.skip(table, row["id"], f"unknown status {row['status']!r}")
                continue
            if (row["credits"] or 0) < 0 or (row["price"] or 0) < 0:
                report.skip(table, row["id"], "negative credits or price")
                continue
            checkout_id = mapping.text(row["checkout_id"], 255)
            if checkout_id in taken_ids:
                report.note(table, row["id"], f"payment id {checkout_id} already used here: not kept")
                checkout_id = ""
            taken_ids.add(checkout_id)
            method = mapping.text(row.get("payment_method")).lower()
            stripe = method == "stripe" or checkout_id.startswith(("pi_", "cs_", "in_", "ch_"))
            product = mapping.text(row["product_id"]).lower()
            subscription = mapping.text(row.get("type")).lower() == "subscription"
            rows.append(
                {
                    "id": row["id"],
                    "user_id": row["user_id"],
                    "package_id": None if subscription else self.packages.get(product),
                    "plan_id": self.plans.get(product) if subscription else None,
                    "status": status,
                    "credits": row["credits"] or 0,
                    # Supabase keeps prices in cents.
                    "amount": Decimal(row["price"] or 0) / 100,
                    "currency": mapping.text(row.get("currency"), 3).upper() or "USD",
                    "provider": "stripe" if stripe else (method[:16] or "legacy"),
                    "provider_payment_id": checkout_id or None,
                    "payment_method": method[:32],
                    "created_at": row["created_at"] or timezone.now(),
                    "updated_at": row["completed_at"] or row["created_at"] or timezone.now(),
                    "completed_at": row["completed_at"],
                    "refunded_at": row["completed_at"] if status == OrderStatus.REFUNDED else None,
                }
            )
        report.add(table, "imported", len(insert_rows(Order, rows)))
