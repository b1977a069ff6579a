"""Proves the ledger: every balance equals the sum of its ledger, and every failed or cancelled
generation that was charged has exactly one refund for the amount charged. Exits 1 on any mismatch."""

import sys

from django.core.management.base import BaseCommand, CommandError

from credits.selectors import ledger_balance_mismatches, unrefunded_failed_charges


class Command(BaseCommand):
    help = "Check that balances equal the ledger and that failed generations were refunded once."

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=1000)
        parser.add_argument("--no-progress", action="store_true", help="Do not print progress lines.")

    def handle(self, *args, batch_size, no_progress, **options):
        show_progress = not no_progress

        def progress(done: int, total: int) -> None:
            if show_progress and total > batch_size:
                self.stderr.write(f"checked {done}/{total} users ({100 * done // max(total, 1)}%)")
                sys.stderr.flush()

        balances = list(ledger_balance_mismatches(batch_size=batch_size, on_progress=progress))
        for item in balances:
            self.stdout.write(
                f"BALANCE MISMATCH user={item['user_id']} email={item['email']} "
                f"balance={item['balance']} ledger_sum={item['ledger']}"
            )
        refunds = list(unrefunded_failed_charges())
        for item in refunds:
            self.stdout.write(
                f"MISSING REFUND user={item['user_id']} email={item['email']} video={item['video_id']} "
                f"charge={item['charge']} refund={item['refund']}"
            )
        if balances or refunds:
            users = sorted({str(item["user_id"]) for item in balances + refunds})
            raise CommandError(
                f"credits audit failed: {len(balances)} balance mismatch(es), {len(refunds)} missing refund(s); "
                f"users: {', '.join(users)}"
            )
        self.stdout.write(self.style.SUCCESS("credits audit clean: every balance equals its ledger."))
