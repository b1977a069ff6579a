"""A Supabase-shaped source database built from the shared schema, for the import tests and the benchmark.

`schema.sql` says it is context, not runnable: its foreign keys point at tables defined later and array
columns have no element type. Those are adapted here; a minimal `auth.users` stands beside it, and the
columns the Express backend wrote (user_profiles.password_hash, videos.is_favorite/error_message) are added.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg

SCHEMA = Path(__file__).resolve().parents[3] / "shared" / "seed" / "supabase" / "schema.sql"
SCHEMA_CANDIDATES = (SCHEMA, Path("/work/shared/seed/supabase/schema.sql"))

AUTH_SQL = """
CREATE SCHEMA IF NOT EXISTS auth;
CREATE TABLE auth.users (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  email text,
  encrypted_password text,
  created_at timestamp with time zone DEFAULT now(),
  updated_at timestamp with time zone DEFAULT now()
);
"""
EXPRESS_SQL = """
ALTER TABLE public.user_profiles ADD COLUMN password_hash text;
ALTER TABLE public.videos ADD COLUMN is_favorite boolean DEFAULT false;
ALTER TABLE public.videos ADD COLUMN error_message text;
"""


def schema_sql() -> str:
    path = next(p for p in SCHEMA_CANDIDATES if p.exists())
    sql = path.read_text()
    sql = re.sub(r"^--.*$", "", sql, flags=re.M)
    sql = re.sub(r"\bARRAY\b(?!\[)", "text[]", sql)
    # Foreign keys refer to tables created later (and to auth): the import must cope without them anyway.
    sql = re.sub(r",\s*CONSTRAINT \w+ FOREIGN KEY \([^)]*\) REFERENCES [\w.]+\([^)]*\)", "", sql)
    return AUTH_SQL + sql + EXPRESS_SQL


def database_url(base_url: str, name: str) -> str:
    parts = urlsplit(base_url)
    return urlunsplit(parts._replace(path=f"/{name}"))


def create_source(base_url: str, name: str, *, skip_tables: tuple[str, ...] = ()) -> str:
    """(Re)creates database `name` on the server of `base_url` with the adapted schema; returns its URL."""
    with psycopg.connect(database_url(base_url, "postgres"), autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')
    url = database_url(base_url, name)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(schema_sql())
        for table in skip_tables:
            conn.execute(f"DROP TABLE {table}")
    return url


def drop_source(base_url: str, name: str) -> None:
    with psycopg.connect(database_url(base_url, "postgres"), autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
