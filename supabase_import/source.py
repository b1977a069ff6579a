"""The Supabase side: one read-only connection, the schema check, and server-side cursors that stream rows."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
from psycopg.rows import dict_row

REQUIRED_TABLES = (
    "auth.users",
    "public.user_profiles",
    "public.videos",
    "public.credit_transactions",
    "public.orders",
    "public.subscriptions",
)
REQUIRED_COLUMNS = {
    "auth.users": ("id", "email", "encrypted_password", "created_at"),
    "public.user_profiles": (
        "id", "email", "full_name", "avatar_url", "plan_type", "credits", "total_credits_spent",
        "total_videos_created", "language_preference", "timezone", "resolution", "max_duration", "created_at",
        "updated_at",
    ),
    "public.videos": (
        "id", "user_id", "title", "prompt", "triggers", "status", "credit_cost", "duration", "resolution", "quality",
        "aspect_ratio", "task_id", "thumbnail_url", "preview_url", "download_url", "file_size",
        "generation_started_at", "generation_completed_at", "created_at", "updated_at",
    ),
    "public.credit_transactions": (
        "id", "user_id", "transaction_type", "amount", "description", "video_id", "subscription_id", "created_at",
    ),
    "public.orders": ("id", "user_id", "product_id", "price", "credits", "type", "status", "checkout_id", "created_at",
                      "completed_at"),
    "public.subscriptions": ("id", "user_id", "plan_type", "status", "current_period_start", "current_period_end",
                             "cancel_at_period_end", "created_at", "updated_at"),
}
# Columns the Express backend wrote that the Supabase schema file does not list; read when present.
OPTIONAL_COLUMNS = {
    "user_profiles": ("password_hash",),
    "videos": ("is_favorite", "error_message"),
}


class SourceError(Exception):
    """The source database cannot be read as a Supabase project (unreachable, or a table is missing)."""


class Source:
    """A consistent (repeatable-read, read-only) snapshot of the Supabase database."""

    def __init__(self, url: str, *, connect_timeout: int = 10, itersize: int = 2000):
        self.itersize = itersize
        try:
            self.conn = psycopg.connect(url, connect_timeout=connect_timeout, row_factory=dict_row)
        except psycopg.Error as exc:
            raise SourceError(f"cannot connect to the source database: {str(exc).strip()}") from exc
        self.conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        self.conn.read_only = True
        self.columns = self._columns()
        missing = [table for table in REQUIRED_TABLES if table not in self.columns]
        if missing:
            self.close()
            raise SourceError(f"the source database is not a Supabase project: missing table(s) {', '.join(missing)}")
        lacking = [
            f"{table} lacks {', '.join(c for c in columns if c not in self.columns[table])}"
            for table, columns in REQUIRED_COLUMNS.items()
            if any(c not in self.columns[table] for c in columns)
        ]
        if lacking:
            self.close()
            raise SourceError(f"the source schema is not the one this import reads: {'; '.join(lacking)}")
        self._cursor_count = 0

    def _columns(self) -> dict[str, set[str]]:
        rows = self.conn.execute(
            "SELECT table_schema || '.' || table_name AS name, column_name FROM information_schema.columns "
            "WHERE table_schema IN ('auth', 'public')"
        ).fetchall()
        columns: dict[str, set[str]] = {}
        for row in rows:
            columns.setdefault(row["name"], set()).add(row["column_name"])
        return columns

    def has(self, table: str, column: str) -> bool:
        return column in self.columns.get(f"public.{table}", set())

    def optional(self, table: str, alias: str) -> str:
        """`, alias.col` for each optional column present, `, NULL AS col` otherwise."""
        return "".join(
            f", {alias}.{column}" if self.has(table, column) else f", NULL AS {column}"
            for column in OPTIONAL_COLUMNS[table]
        )

    def count(self, sql: str) -> int:
        return self.conn.execute(sql).fetchone()["n"]

    def stream(self, sql: str, params=None) -> Iterator[dict]:
        """Rows through a server-side cursor: memory holds one fetch, whatever the table size."""
        self._cursor_count += 1
        with self.conn.cursor(name=f"import_{self._cursor_count}") as cursor:
            cursor.itersize = self.itersize
            cursor.execute(sql, params)
            yield from cursor

    def close(self) -> None:
        if not self.conn.closed:
            self.conn.close()  # read-only: nothing to commit


def users_sql(source: Source) -> str:
    # Duplicates that differ only by case rank after the first by created_at, then id; the sort runs on
    # the source, so the import holds no set of emails in memory.
    # Only column names the schema check found are interpolated.
    return f"""
        SELECT u.id, u.email AS auth_email, u.encrypted_password, u.created_at AS auth_created_at,
               p.id IS NOT NULL AS has_profile, p.email AS profile_email, p.full_name, p.avatar_url,
               p.plan_type, p.credits, p.total_credits_spent, p.total_videos_created, p.language_preference,
               p.timezone, p.resolution, p.max_duration, p.created_at, p.updated_at
               {source.optional("user_profiles", "p")},
               row_number() OVER same_email AS email_rank,
               first_value(u.id) OVER same_email AS email_first_id
        FROM auth.users u LEFT JOIN public.user_profiles p ON p.id = u.id
        WINDOW same_email AS (
            PARTITION BY lower(btrim(coalesce(p.email, u.email)))
            ORDER BY coalesce(p.created_at, u.created_at) NULLS LAST, u.id
        )
        ORDER BY u.id
    """  # noqa: S608


BALANCES_SQL = """
    SELECT u.id, p.credits, coalesce(p.created_at, u.created_at) AS created_at
    FROM auth.users u LEFT JOIN public.user_profiles p ON p.id = u.id ORDER BY u.id
"""
TRANSACTIONS_SQL = """
    SELECT id, user_id, transaction_type, amount, description, video_id, subscription_id, created_at
    FROM public.credit_transactions ORDER BY user_id NULLS FIRST, created_at NULLS FIRST, id
"""


def videos_sql(source: Source) -> str:
    # Only column names the schema check found are interpolated.
    return f"""
        SELECT v.id, v.user_id, v.title, v.prompt, v.triggers, v.status, v.credit_cost, v.duration,
               v.resolution, v.quality, v.aspect_ratio, v.task_id, v.thumbnail_url, v.preview_url,
               v.download_url, v.file_size, v.generation_started_at, v.generation_completed_at,
               v.created_at, v.updated_at {source.optional("videos", "v")}
        FROM public.videos v ORDER BY v.id
    """  # noqa: S608


# Hosts of every media URL of a ready video (scanned once before the videos, to check they can be fetched).
MEDIA_HOSTS_SQL = """
    SELECT DISTINCT lower(substring(url from '^[A-Za-z]+://([^/:?#]+)')) AS host
    FROM public.videos v, LATERAL (VALUES (v.download_url), (v.preview_url), (v.thumbnail_url)) AS media(url)
    WHERE v.status = 'ready' AND url IS NOT NULL AND url <> ''
"""
ORDERS_SQL = "SELECT * FROM public.orders ORDER BY id"
SUBSCRIPTIONS_SQL = "SELECT * FROM public.subscriptions ORDER BY created_at NULLS FIRST, id"
