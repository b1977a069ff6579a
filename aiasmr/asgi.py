"""The ASGI entry point: what `make run`, the Docker image and the benchmark serve (gunicorn with
uvicorn workers). Connections are read by the event loop, so a slow client holds no thread; Django runs
the sync views on a thread per request once the request is complete."""

import os

import django

from aiasmr.asgi_handler import SyncChainASGIHandler

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "aiasmr.settings")
# A thread per request: PostgreSQL connections come from a pool, not thread-local persistent ones,
# and a SQLite connection closes with its request instead of waiting for its thread to be collected.
os.environ.setdefault("DB_POOL_MAX_SIZE", "8")
os.environ.setdefault("DB_CONN_MAX_AGE", "0")

django.setup(set_prefix=False)
application = SyncChainASGIHandler()
