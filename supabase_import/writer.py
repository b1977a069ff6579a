"""Batch inserts into this project's tables: one INSERT ... SELECT FROM unnest(arrays) per batch and table.

Raw SQL because the import keeps the Supabase ids and times (bulk_create would overwrite the auto_now
columns) and must know which rows a rerun already had (ON CONFLICT ... DO NOTHING RETURNING).
Columns and types come from the models, so the SQL follows their migrations.
"""

from __future__ import annotations

import json

from django.db import connection, models
from django.utils import timezone


def _sql_type(field) -> str:
    if isinstance(field, models.JSONField):
        return "jsonb"
    return field.db_type(connection) if not isinstance(field, models.ForeignKey) else field.target_field.rel_db_type(
        connection
    )


def _value(field, row: dict, now):
    name = field.attname
    if name in row:
        value = row[name]
    elif getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
        value = now
    else:
        value = field.get_default()
    if isinstance(field, models.JSONField):
        return json.dumps(value)
    if value is not None and isinstance(field, models.FileField):
        return str(value)
    return value


def insert_rows(model, rows: list[dict], *, conflict: str | None = "id") -> set:
    """Inserts `rows` (dicts by attname; missing fields take their model default, auto_now fields now).

    Returns the primary keys inserted; rows whose `conflict` column already exists are left as they are.
    """
    if not rows:
        return set()
    fields = [f for f in model._meta.concrete_fields]
    now = timezone.now()
    columns = [connection.ops.quote_name(f.column) for f in fields]
    arrays = [[_value(f, row, now) for row in rows] for f in fields]
    casts = [f"%s::{_sql_type(f)}[]" if not isinstance(f, models.JSONField) else "%s::text[]" for f in fields]
    select = [f"c{i}::jsonb" if isinstance(f, models.JSONField) else f"c{i}" for i, f in enumerate(fields)]
    pk = connection.ops.quote_name(model._meta.pk.column)
    on_conflict = f" ON CONFLICT ({connection.ops.quote_name(conflict)}) DO NOTHING" if conflict else ""
    sql = (
        f"INSERT INTO {connection.ops.quote_name(model._meta.db_table)} ({', '.join(columns)}) "  # noqa: S608
        f"SELECT {', '.join(select)} FROM unnest({', '.join(casts)}) AS u({', '.join(f'c{i}' for i in range(len(fields)))})"
        f"{on_conflict} RETURNING {pk}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, arrays)
        return {row[0] for row in cursor.fetchall()}


def next_ids(model, count: int) -> list[int]:
    """`count` ids from the table's identity sequence, so rows can point at each other before insertion."""
    if count == 0:
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
            [model._meta.db_table, model._meta.pk.column, count],
        )
        return [row[0] for row in cursor.fetchall()]


def existing(model, column: str, values) -> set:
    values = [v for v in values if v is not None]
    if not values:
        return set()
    field = model._meta.get_field(column)
    return set(model.objects.filter(**{f"{field.name}__in": values}).values_list(field.attname, flat=True))
