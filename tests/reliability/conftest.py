"""Shared pieces of the reliability suite: thread races, the ledger audit, the "one final move" check,
and real subprocesses (gunicorn, db_worker) pointed at the pytest-django test database."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from io import StringIO
from pathlib import Path
from urllib.parse import quote

import pytest
import requests
from django.conf import settings
from django.core.management import call_command
from django.db import connection
from django.db.models import Count, Sum

from credits.models import CreditTransaction
from tests.s3 import s3_test_options
from tests.videos.conftest import fake_kie, fake_kie_server  # noqa: F401 - fixtures for this folder
from videos.models import Video, VideoEvent

BASE_DIR = Path(settings.BASE_DIR)
FINAL_SUMMARIES = ("failed:", "cancelled:", "stored")


# --- races ---------------------------------------------------------------------------------------


def race(count: int, work, *, timeout: float = 60) -> list:
    """Runs work(i) in `count` threads released together; returns each result or the exception raised.

    Every thread closes its own database connection (pytest-django's transactional tests need it).
    """
    barrier = threading.Barrier(count)
    results: list = [None] * count

    def run(index: int) -> None:
        try:
            barrier.wait()
            results[index] = work(index)
        except BaseException as exc:  # noqa: BLE001 - reported to the test
            results[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,), daemon=True) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout)
    assert not any(thread.is_alive() for thread in threads), "a racing thread hung"
    return results


def unexpected(results: list) -> list:
    return [r for r in results if isinstance(r, BaseException)]


# --- invariants ----------------------------------------------------------------------------------


def audit() -> str:
    """manage.py credits_audit: raises CommandError (exit status 1 from the shell) on any mismatch."""
    out = StringIO()
    call_command("credits_audit", "--no-progress", stdout=out)
    assert "credits audit clean" in out.getvalue()
    return out.getvalue()


def final_moves(video_id) -> int:
    return sum(
        VideoEvent.objects.filter(video_id=video_id, summary__startswith=prefix).count()
        for prefix in FINAL_SUMMARIES
    )


def assert_settled_once(video_id) -> Video:
    """A final video has exactly one final event; at most one refund per debit; refunds only for
    failed or cancelled jobs (or a staff refund); the refund is exactly the charge."""
    video = Video.objects.get(pk=video_id)
    assert video.status in ("ready", "failed", "cancelled"), video.status
    assert final_moves(video_id) == 1, list(VideoEvent.objects.filter(video_id=video_id).values("summary"))
    debits = CreditTransaction.objects.filter(video_id=video_id, type="usage")
    refunds = CreditTransaction.objects.filter(video_id=video_id, type="refund")
    assert debits.count() == 1
    assert refunds.count() <= 1
    if video.status in ("failed", "cancelled"):
        assert refunds.count() == 1
    if refunds.exists():
        assert refunds.get().amount == -debits.get().amount == video.credit_cost
        assert refunds.get().reverses_id == debits.get().pk
    return video


def assert_ledger_whole() -> None:
    """Every debit is refunded at most once, and the credits audit is clean."""
    doubled = (
        CreditTransaction.objects.filter(type="refund")
        .values("reverses_id")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
    )
    assert not doubled.exists()
    spent = CreditTransaction.objects.filter(type="usage").aggregate(s=Sum("amount"))["s"] or 0
    refunded = CreditTransaction.objects.filter(type="refund").aggregate(s=Sum("amount"))["s"] or 0
    assert refunded <= -spent
    audit()


# --- subprocesses against the test database ------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def database_url(settings_dict: dict | None = None, **override) -> str:
    """A DATABASE_URL for the database this test runs on (pytest-django's test_<name>)."""
    db = {**(settings_dict or connection.settings_dict), **override}
    user = quote(db.get("USER") or "")
    password = f":{quote(db['PASSWORD'])}" if db.get("PASSWORD") else ""
    auth = f"{user}{password}@" if user else ""
    return f"postgres://{auth}{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 5432}/{db['NAME']}"


def service_env(**extra) -> dict:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("KIE_", "GENERATION_", "DJANGO_", "REDIS_", "R2_", "PYTEST_"))
    }
    env.update(
        {
            "DATABASE_URL": database_url(),
            "TESTING": "1",
            "PYTHONUNBUFFERED": "1",
            "SECRET_KEY": settings.SECRET_KEY,
            "JWT_SECRET": settings.JWT_SECRET,
            "RATELIMIT_ENABLE": "0",
        }
    )
    env.update({key: str(value) for key, value in extra.items()})
    return env


class Proc:
    """A child process with its output in a file; stop() ends it, kill() is kill -9."""

    def __init__(self, args: list[str], *, env: dict, log: Path):
        self.log = log
        self.handle = open(log, "wb")  # noqa: SIM115 - closed in stop()
        self.popen = subprocess.Popen(  # noqa: S603
            args, cwd=BASE_DIR, env=env, stdout=self.handle, stderr=subprocess.STDOUT, start_new_session=True
        )

    def output(self) -> str:
        self.handle.flush()
        return self.log.read_text(errors="replace")[-4000:]

    def kill(self) -> None:
        if self.popen.poll() is None:
            os.killpg(self.popen.pid, signal.SIGKILL)
            self.popen.wait(10)

    def stop(self) -> None:
        if self.popen.poll() is None:
            os.killpg(self.popen.pid, signal.SIGTERM)
            try:
                self.popen.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()
        self.handle.close()


def gunicorn_start(tmp_path: Path, env: dict) -> tuple[Proc, str]:
    """One sync gunicorn worker (one persistent DB connection, as in production) on a free port."""
    port = free_port()
    proc = Proc(
        [
            str(Path(sys.executable).with_name("gunicorn")),
            "aiasmr.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "1",
            "--timeout",
            "30",
        ],
        env=env,
        log=tmp_path / f"gunicorn-{port}.log",
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if requests.get(f"{url}/health/live", timeout=1).status_code < 500:
                return proc, url
        except requests.RequestException:
            pass
        if proc.popen.poll() is not None:
            break
        time.sleep(0.1)
    proc.stop()
    raise AssertionError(f"gunicorn did not start:\n{proc.output()}")


def db_worker_start(tmp_path: Path, env: dict, name: str) -> Proc:
    return Proc(
        [sys.executable, "manage.py", "db_worker", "--interval", "0.1", "--no-startup-delay", "--worker-id", name],
        env=env,
        log=tmp_path / f"worker-{name}.log",
    )


def wait_for(predicate, *, timeout: float = 20, interval: float = 0.05, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture(autouse=True)
def no_rate_limits(settings):
    """Rate limits are not under test here; the races send more than a user's hourly allowance."""
    settings.RATELIMIT_ENABLE = False


# --- misbehaving servers -------------------------------------------------------------------------


class CannedServer:
    """Answers every request with one canned status, body and content type (a broken KIE or a proxy)."""

    def __init__(self, status: int, body: bytes, content_type: str = "application/json"):
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        canned = self
        self.status, self.body, self.content_type, self.requests = status, body, content_type, 0

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _answer(self):
                length = int(self.headers.get("Content-Length") or 0)
                if length:
                    self.rfile.read(length)
                canned.requests += 1
                self.send_response(canned.status)
                self.send_header("Content-Type", canned.content_type)
                self.send_header("Content-Length", str(len(canned.body)))
                self.end_headers()
                self.wfile.write(canned.body)

            do_GET = do_POST = _answer  # noqa: N815

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        self.base_url = f"http://127.0.0.1:{self.httpd.server_address[1]}/api/v1"

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()


class SilentSocket:
    """A port that accepts connections (the kernel's backlog) and never answers a byte."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.base_url = f"http://127.0.0.1:{self.sock.getsockname()[1]}/api/v1"

    def stop(self):
        self.sock.close()


def s3_options(endpoint: str, bucket: str = "reliability") -> dict:
    from botocore.config import Config

    return {
        **s3_test_options(endpoint=endpoint, bucket=bucket),
        "client_config": Config(
            s3={"addressing_style": "path"},
            signature_version="s3v4",
            retries={"max_attempts": 1, "mode": "standard"},
            connect_timeout=1,
            read_timeout=2,
        ),
    }
