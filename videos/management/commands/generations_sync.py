"""The generation sweep: run it every minute (cron, a scheduler, or a loop); every move is conditional."""

import time

from django.core.management.base import BaseCommand
from django.db import close_old_connections

from videos.services import generations_sweep


class Command(BaseCommand):
    help = (
        "Settle generations whose callback never came (from KIE's record), fail and refund jobs past their "
        "deadline, and re-queue stuck submissions and copies. Safe to run every minute."
    )

    def add_arguments(self, parser):
        parser.add_argument("--limit", type=int, default=500, help="At most this many videos per step.")
        parser.add_argument(
            "--every",
            type=float,
            default=0,
            help="Keep running, one sweep every this many seconds (0: once).",
        )

    def handle(self, *args, limit, every, verbosity, **options):
        def report(message: str) -> None:
            if verbosity >= 1 and (verbosity >= 2 or not message.startswith("  ")):
                self.stdout.write(message)

        while True:
            counts = generations_sweep(limit=limit, report=report)
            summary = ", ".join(f"{key}={value}" for key, value in counts.items())
            self.stdout.write(self.style.SUCCESS(f"sweep done: {summary}"))
            if not every:
                return
            close_old_connections()
            time.sleep(every)
