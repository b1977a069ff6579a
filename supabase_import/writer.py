"""Batch writes into this project's tables: COPY into a temporary table, then one INSERT ... SELECT.

Raw SQL because the import keeps the Supabase ids and times (bulk_create would overwrite the auto_now
columns) and must know which rows a rerun already had (ON CONFLICT ... DO NOTHING RETURNING). Columns
come from the models, so the SQL follows their migrations. Statements go through a server-side-binding
psycopg cursor on Django's connection (same transaction): Django's client-side binding would quote every
value of a 2,000-row batch in Python.
"""

from __future__ import annotations

import json

import psycopg
from django.db import connection, models
from django.utils import timezone


def raw_cursor() -> psycopg.Cursor:
    connection.ensure_connection()
    return psycopg.Cursor(connection.connection)


def query(sql: str, params=None) -> list[tuple]:
    with raw_cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall() if cursor.description else []


def _quote(name: str) -> str:
    return connection.ops.quote_name(name)


def insert_rows(model, rows: list[dict], *, conflict: str | None = "id") -> set:
    """Inserts `rows` (dicts by attname; missing fields take their model default, auto_now fields now).

    Returns the primary keys inserted; rows whose `conflict` column already exists are left as they are.
    With `conflict=None` any unique violation raises (the caller retries row by row).
    """
    if not rows:
        return set()
    fields = list(model._meta.concrete_fields)
    now = timezone.now()
    defaults = {}
    for f in fields:
        if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
            defaults[f.attname] = now
        elif f.has_default() or not f.null:
            defaults[f.attname] = f.get_default()
        else:
            defaults[f.attname] = None
    names = [f.attname for f in fields]
    json_columns = {i for i, f in enumerate(fields) if isinstance(f, models.JSONField)}
    table = model._meta.db_table
    stage = _quote(f"import_stage_{table}")
    columns = ", ".join(_quote(f.column) for f in fields)
    pk = _quote(model._meta.pk.column)
    on_conflict = f" ON CONFLICT ({_quote(conflict)}) DO NOTHING" if conflict else ""
    with raw_cursor() as cursor:
        # Created in the batch's transaction: a rolled-back batch (or dry run) takes it away too.
        cursor.execute(f"CREATE TEMP TABLE IF NOT EXISTS {stage} (LIKE {_quote(table)})")
        with cursor.copy(f"COPY {stage} ({columns}) FROM STDIN") as copy:
            for row in rows:
                values = [row[name] if name in row else defaults[name] for name in names]
                for i in json_columns:
                    values[i] = json.dumps(values[i])
                copy.write_row(values)
        cursor.execute(
            f"INSERT INTO {_quote(table)} ({columns}) SELECT {columns} FROM {stage}{on_conflict} RETURNING {pk}"  # noqa: S608
        )
        inserted = {row[0] for row in cursor.fetchall()}
        cursor.execute(f"TRUNCATE {stage}")
    return inserted


def next_ids(model, count: int) -> list[int]:
    """`count` ids from the table's identity sequence, so rows can point at each other before insertion."""
    if count == 0:
        return []
    rows = query(
        "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
        [model._meta.db_table, model._meta.pk.column, count],
    )
    return [row[0] for row in rows]


def existing(model, column: str, values) -> set:
    """The values of `column` among `values` that the table already has."""
    values = list({v for v in values if v is not None and v != ""})
    if not values:
        return set()
    col = _quote(model._meta.get_field(column).column)
    sql = f"SELECT {col} FROM {_quote(model._meta.db_table)} WHERE {col} = ANY(%s)"  # noqa: S608
    return {row[0] for row in query(sql, [values])}
