"""The driver: phases in order, each batch in its own transaction, a dry run rolled back."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from itertools import islice

import psycopg
from django.db import DataError, IntegrityError, transaction

from supabase_import import mapping
from supabase_import import source as src
from supabase_import.services.billing import BillingPhase
from supabase_import.services.ledger import LedgerPhase
from supabase_import.services.report import ImportReport, MediaHostsUnfetchable
from supabase_import.services.users import UsersPhase
from supabase_import.services.videos import VideosPhase

# What one bad row can cause (a constraint, a value out of range); the batch is then retried row by row.
ROW_ERRORS = (IntegrityError, DataError, psycopg.IntegrityError, psycopg.DataError)


class _DryRun(Exception):
    """Raised at the end of a dry run to roll every write back."""


def supabase_import_run(
    *,
    source: src.Source,
    report: ImportReport,
    bucket: mapping.Bucket,
    batch_size: int = 5000,
    dry_run: bool = False,
    progress: Callable[[str, int, int], None] | None = None,
) -> ImportReport:
    """Runs every phase; each batch commits on its own, or with `dry_run` everything is rolled back."""
    importer = SupabaseImport(source=source, report=report, bucket=bucket, batch_size=batch_size, progress=progress)
    if not dry_run:
        importer.run()
        return report
    try:
        with transaction.atomic():
            importer.run()
            raise _DryRun
    except _DryRun:
        pass
    return report


def _batched(rows: Iterable, size: int) -> Iterator[list]:
    iterator = iter(rows)
    while batch := list(islice(iterator, size)):
        yield batch


class SupabaseImport(UsersPhase, BillingPhase, VideosPhase, LedgerPhase):
    def __init__(
        self,
        *,
        source: src.Source,
        report: ImportReport,
        bucket: mapping.Bucket,
        batch_size: int = 5000,
        progress: Callable[[str, int, int], None] | None = None,
    ):
        self.source = source
        self.report = report
        self.bucket = bucket
        self.batch_size = batch_size
        self.progress = progress or (lambda phase, done, total: None)

    # --- driver -----------------------------------------------------------------------------------

    def run(self) -> None:
        unknown = self.media_hosts_check()
        if unknown and not self.bucket.skip_unfetchable:
            raise MediaHostsUnfetchable(
                f"ready videos have media on host(s) {', '.join(unknown[:20])}: add them to KIE_FILE_HOSTS so the "
                "copy task may fetch them, pass --bucket-url if they already are this bucket, or pass "
                "--without-unfetchable-media to import those videos without their files"
            )
        self.users()
        self.subscriptions()
        self.orders()
        self.videos()
        self.ledger()

    def _guarded(self, table: str, items: list, write: Callable[[list], None], ident: Callable) -> None:
        """Writes a batch in one transaction; on a database error, each item alone, reporting the bad one."""
        self.report.hold()
        try:
            with transaction.atomic():
                write(items)
        except ROW_ERRORS as exc:  # a lost connection is not a bad row: it stops the run (resumable)
            self.report.release(keep=False)
            if len(items) == 1:
                self.report.skip(table, ident(items[0]), f"database refused it: {str(exc).strip()[:300]}")
                return
            for item in items:
                self._guarded(table, [item], write, ident)
        except BaseException:
            self.report.release(keep=False)
            raise
        else:
            self.report.release(keep=True)

    def _phase(self, table: str, rows: Iterable, total: int, write, ident=lambda row: row["id"], size=None):
        done = 0
        self.progress(table, 0, total)
        for batch in _batched(rows, size or self.batch_size):
            self._guarded(table, batch, write, ident)
            done += len(batch)
            self.progress(table, done, total)
