"""The import: users, subscriptions, orders, videos, then the ledger with the balances, in batches.

Each batch commits on its own (an interrupted run keeps what it wrote), rows keep their Supabase ids
(the ledger keeps its as the idempotency key `supabase:<id>`), and every phase skips what is already
there, so a rerun resumes and never duplicates. A row that cannot be imported is reported and skipped.
"""

from supabase_import.services.report import ImportReport, MediaHostsUnfetchable
from supabase_import.services.run import SupabaseImport, supabase_import_run
from supabase_import.services.videos import bucket_from_settings

__all__ = ["ImportReport", "MediaHostsUnfetchable", "SupabaseImport", "bucket_from_settings", "supabase_import_run"]
