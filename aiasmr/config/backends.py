"""The database, cache and storage settings, shaped by what the environment names."""

from pathlib import Path

import dj_database_url

from aiasmr.config.env import env, env_int


def database_settings(*, url: str, sqlite_path: Path) -> dict:
    database = dj_database_url.parse(
        url or f"sqlite:///{sqlite_path}",
        # Persistent connections with a health check before reuse: a restarted PostgreSQL is
        # reconnected to on the next request instead of failing until the process restarts.
        conn_max_age=env_int("DB_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
    if database["ENGINE"] == "django.db.backends.sqlite3":
        # WAL and a busy timeout let the web process and the task worker share the file.
        database["OPTIONS"] = {
            "timeout": 20,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            "transaction_mode": "IMMEDIATE",
        }
    else:
        database.setdefault("OPTIONS", {})
        database["OPTIONS"]["connect_timeout"] = env_int("DB_CONNECT_TIMEOUT", 5)
        # Under ASGI (aiasmr/asgi.py turns this on) each request runs its sync code on a fresh thread, so
        # thread-local persistent connections would mean one new connection per request: a per-process
        # pool (health-checked on checkout, so a PostgreSQL restart is survived) replaces them.
        if env_int("DB_POOL_MAX_SIZE", 0) > 0:
            database["CONN_MAX_AGE"] = 0
            database["OPTIONS"]["pool"] = {
                "min_size": 1,
                "max_size": env_int("DB_POOL_MAX_SIZE", 0),
                "timeout": env_int("DB_POOL_TIMEOUT", 10),
            }
    database["ATOMIC_REQUESTS"] = False
    return database


def cache_settings(*, redis_url: str) -> dict:
    if not redis_url:
        return {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "aiasmr"}
    return {
        # django-redis keeps one client per pool, and its incr is one atomic EVAL that only counts
        # an existing key (so a rate-limit counter never outlives its window without an expiry).
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": redis_url,
        "KEY_PREFIX": env("CACHE_KEY_PREFIX", "aiasmr"),
        "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 2, "SOCKET_TIMEOUT": 2},
    }


def r2_storage(
    *, bucket: str, endpoint: str, access_key: str, secret_key: str, public_domain: str, url_expiry: int
) -> dict:
    return {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": bucket,
            "endpoint_url": endpoint,
            "access_key": access_key,
            "secret_key": secret_key,
            "region_name": env("R2_REGION", "auto"),
            "signature_version": "s3v4",
            "addressing_style": env("R2_ADDRESSING_STYLE", "path"),
            "default_acl": None,
            "file_overwrite": True,
            # Signed, expiring URLs for a private bucket, unless a public domain fronts it.
            "querystring_auth": not public_domain,
            "querystring_expire": url_expiry,
            "custom_domain": public_domain or None,
        },
    }
