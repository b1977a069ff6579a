"""manage.py import_supabase --source postgres://... : moves a Supabase project's data here (see supabase_import)."""

import resource
import sys
import time

import psycopg
from django.core.management.base import BaseCommand, CommandError
from django.db import InterfaceError, OperationalError, connection

from supabase_import.services import (
    ImportReport,
    MediaHostsUnfetchable,
    bucket_from_settings,
    supabase_import_run,
)
from supabase_import.source import Source, SourceError


class Command(BaseCommand):
    help = (
        "Import users, subscriptions, orders, videos and the credit ledger from a Supabase PostgreSQL database. "
        "Idempotent: a rerun resumes and never duplicates."
    )

    def add_arguments(self, parser):
        parser.add_argument("--source", required=True, help="postgres://user:password@host:port/db of the Supabase project")
        parser.add_argument("--dry-run", action="store_true", help="Report what would be imported; write nothing.")
        parser.add_argument("--batch-size", type=int, default=5000)
        parser.add_argument(
            "--bucket-url",
            action="append",
            default=[],
            help="An extra URL prefix under which objects are already in the configured bucket (repeatable).",
        )
        parser.add_argument(
            "--without-unfetchable-media",
            action="store_true",
            help="Import ready videos whose media host is neither the bucket nor in KIE_FILE_HOSTS without files.",
        )
        parser.add_argument("--no-progress", action="store_true")

    def handle(self, *args, source, dry_run, batch_size, bucket_url, without_unfetchable_media, no_progress, **options):
        if connection.vendor != "postgresql":
            raise CommandError("import_supabase writes to PostgreSQL: set DATABASE_URL to a PostgreSQL database.")
        try:
            supabase = Source(source, itersize=batch_size)
        except SourceError as exc:
            raise CommandError(str(exc)) from exc
        report = ImportReport(write=self.stdout.write)
        bucket = bucket_from_settings(bucket_url)
        bucket.skip_unfetchable = without_unfetchable_media
        started = time.monotonic()
        try:
            supabase_import_run(
                source=supabase,
                report=report,
                bucket=bucket,
                batch_size=batch_size,
                dry_run=dry_run,
                progress=None if no_progress else self._progress(started),
            )
        except MediaHostsUnfetchable as exc:
            raise CommandError(str(exc)) from exc
        except (psycopg.OperationalError, OperationalError, InterfaceError) as exc:  # a connection broke mid-run
            raise CommandError(
                f"a database connection failed during the import: {str(exc).strip()}. Every batch committed "
                "before it is kept; run the command again to resume."
            ) from exc
        finally:
            supabase.close()
        self._summary(report, started, dry_run)

    def _progress(self, started):
        last = {"at": 0.0}

        def show(phase: str, done: int, total: int) -> None:
            now = time.monotonic()
            if done not in (0, total) and now - last["at"] < 1:
                return
            last["at"] = now
            width = 30
            filled = width * done // total if total else width
            percent = 100 * done // total if total else 100
            self.stderr.write(
                f"\r{phase:<20} [{'#' * filled}{'.' * (width - filled)}] {done}/{total} {percent:3d}% "
                f"{now - started:6.0f}s",
                ending="\n" if done >= total else "",
            )
            sys.stderr.flush()

        return show

    def _summary(self, report: ImportReport, started: float, dry_run: bool) -> None:
        elapsed = time.monotonic() - started
        title = "DRY RUN: nothing was written. It would have done:" if dry_run else "Import finished:"
        self.stdout.write(self.style.SUCCESS(title))
        for (table, outcome), n in sorted(report.counts.items()):
            self.stdout.write(f"  {table:<22} {outcome:<22} {n}")
        rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        self.stdout.write(f"  elapsed {elapsed:.1f}s, peak RSS {rss_mb:.0f} MB")
        if not dry_run:
            self.stdout.write("Check the ledger with: manage.py credits_audit")
