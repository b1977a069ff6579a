"""Renews due sandbox subscriptions, expires lapsed ones (their users return to the free plan) and
closes abandoned checkouts. Idempotent and cheap: safe to run every minute (cron, or a scheduler)."""

from django.core.management.base import BaseCommand

from billing.services import subscriptions_renew


class Command(BaseCommand):
    help = "Renew sandbox subscriptions, expire lapsed ones, close abandoned checkouts (idempotent)."

    def handle(self, *args, **options):
        counts = subscriptions_renew()
        self.stdout.write(
            f"subscriptions: renewed={counts['renewed']} expired={counts['expired']} abandoned={counts['abandoned']}"
        )
