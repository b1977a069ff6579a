"""Re-checks recent App Store and Google Play purchases against the stores and reports each one that
disagrees with the ledger (refunded at the store but credited here, paid but not credited, not consumed);
--repair fixes them through the same idempotent paths the endpoints take. Exits 1 when any disagreed."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from billing.services import store_purchases_reconcile


class Command(BaseCommand):
    help = "Re-check recent store purchases against the App Store and Google Play (--repair fixes the ledger)."

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int, default=settings.STORE_RECONCILE_DAYS)
        parser.add_argument("--repair", action="store_true", help="Fix what disagrees (claw back, credit, consume).")

    def handle(self, *args, days, repair, **options):
        findings = store_purchases_reconcile(days=days, repair=repair)
        for item in findings:
            self.stdout.write(
                f"{'REPAIRED' if repair else 'DISAGREES'} {item['store']} purchase={item['purchase']} "
                f"user={item['user']} transaction={item['transaction'][:40]}: {item['problem']}"
            )
        if findings and not repair:
            raise CommandError(f"{len(findings)} store purchase(s) disagree with the ledger; run with --repair")
        self.stdout.write(self.style.SUCCESS(f"store reconcile done: {len(findings)} disagreement(s)."))
