"""Faults outside the Python process: the database connection dropped under a running gunicorn, a private
PostgreSQL restarted under it, and a task worker killed with SIGKILL in the middle of a task.

These start real subprocesses (gunicorn, manage.py db_worker) against the pytest-django test database
(or a private PostgreSQL the test starts itself); marked `slow`, they still run in `make test`."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg
import pytest
import requests
from django.db import connection
from django_tasks_db.models import DBTaskResult

from accounts.models import Profile
from accounts.services import auth_tokens_issue
from credits.models import CreditTransaction
from tests.factories import UserFactory
from tests.reliability.conftest import (
    BASE_DIR,
    assert_ledger_whole,
    assert_settled_once,
    db_worker_start,
    free_port,
    gunicorn_start,
    service_env,
    wait_for,
)
from tests.videos.conftest import GOOD_BODY, deliver, run_tasks
from videos.models import Video
from videos.services import generations_sweep

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

PG_BIN = Path("/usr/lib/postgresql/15/bin")


def _bearer(user) -> dict:
    return {"Authorization": f"Bearer {auth_tokens_issue(user=user)['token']}"}


def _terminate_other_backends() -> int:
    """Kills every other client connection to this test database (the web process's), from ours."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend'"
        )
        return cursor.fetchone()[0]


# --- the connection dropped between requests -----------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_dropped_database_connection_is_replaced_on_the_next_request(tmp_path):
    user = UserFactory()
    headers = _bearer(user)
    server, url = gunicorn_start(tmp_path, service_env(DB_CONN_MAX_AGE=600))
    try:
        assert requests.get(f"{url}/api/credits/balance", headers=headers, timeout=10).status_code == 200
        for _ in range(2):
            assert _terminate_other_backends() == 1  # gunicorn's persistent connection

            balance = requests.get(f"{url}/api/credits/balance", headers=headers, timeout=10)
            started = requests.post(f"{url}/api/generate", json=GOOD_BODY, headers=headers, timeout=10)

            assert balance.status_code == 200, server.output()
            assert started.status_code in (200, 400), server.output()
    finally:
        server.stop()
    assert Video.objects.filter(user=user).count() == 1  # 20 credits: one generation, then 400
    assert Profile.objects.get(user=user).credits == 0
    assert_ledger_whole()


# --- a private PostgreSQL restarted under the running service ------------------------------------


class PrivatePostgres:
    """A throwaway PostgreSQL 15 cluster owned by the `postgres` OS user, on a free port, in a temp dir."""

    def __init__(self):
        self.root = Path(tempfile.mkdtemp(prefix="aiasmr-pg-"))
        shutil.chown(self.root, "postgres")
        self.data = self.root / "data"
        self.port = free_port()

    def _as_postgres(self, *args: str, timeout: float = 60) -> None:
        result = subprocess.run(  # noqa: S603
            ["runuser", "-u", "postgres", "--", *args], capture_output=True, text=True, timeout=timeout
        )
        assert result.returncode == 0, result.stdout + result.stderr

    def pg_ctl(self, *args: str) -> None:
        options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._as_postgres(
            str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-l", str(self.root / "log"), "-o", options, "-w", *args
        )

    def start(self) -> PrivatePostgres:
        self._as_postgres(str(PG_BIN / "initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync")
        self.pg_ctl("start")
        with psycopg.connect(self.url("postgres"), autocommit=True) as conn:
            conn.execute("CREATE DATABASE aiasmr")
        return self

    def url(self, name: str = "aiasmr") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{name}"

    def stop(self) -> None:
        if (self.data / "postmaster.pid").exists():
            self.pg_ctl("stop", "-m", "immediate")
        shutil.rmtree(self.root, ignore_errors=True)


def _private_postgres_available() -> bool:
    return (PG_BIN / "initdb").exists() and shutil.which("runuser") is not None and os.geteuid() == 0


@pytest.mark.skipif(not _private_postgres_available(), reason="needs PostgreSQL 15's initdb and root for runuser")
def test_the_service_survives_a_postgresql_restart_without_restarting(tmp_path):
    pg = PrivatePostgres().start()
    server = None
    try:
        env = service_env(DB_CONN_MAX_AGE=600, DATABASE_URL=pg.url(), MEDIA_ROOT=str(tmp_path / "media"))
        migrate = subprocess.run(  # noqa: S603
            [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
            cwd=BASE_DIR, env=env, capture_output=True, text=True, timeout=120,
        )
        assert migrate.returncode == 0, migrate.stderr[-2000:]
        server, url = gunicorn_start(tmp_path, env)
        registered = requests.post(
            f"{url}/api/auth/register", json={"email": "restart@example.com", "password": "Secret-pass-123!"}, timeout=10
        )
        assert registered.status_code == 201, registered.text
        headers = {"Authorization": f"Bearer {registered.json()['data']['token']}"}
        assert requests.get(f"{url}/api/credits/balance", headers=headers, timeout=10).status_code == 200
        pid = server.popen.pid

        pg.pg_ctl("restart", "-m", "fast")

        balance = requests.get(f"{url}/api/credits/balance", headers=headers, timeout=10)
        assert balance.status_code == 200, server.output()
        assert balance.json()["data"]["balance"] == 20
        assert requests.post(f"{url}/api/generate", json=GOOD_BODY, headers=headers, timeout=10).status_code == 200

        # While the database is down the service answers an error in the envelope; once it is back, it serves.
        pg.pg_ctl("stop", "-m", "fast")
        down = requests.get(f"{url}/api/credits/balance", headers=headers, timeout=20)
        assert down.status_code >= 500 and down.json()["success"] is False
        pg.pg_ctl("start")
        after = requests.get(f"{url}/api/credits/balance", headers=headers, timeout=10)
        assert after.status_code == 200 and after.json()["data"]["balance"] == 0, server.output()
        assert server.popen.pid == pid and server.popen.poll() is None  # the same web process throughout

        audit = subprocess.run(  # noqa: S603
            [sys.executable, "manage.py", "credits_audit", "--no-progress"],
            cwd=BASE_DIR, env=env, capture_output=True, text=True, timeout=60,
        )
        assert audit.returncode == 0, audit.stdout + audit.stderr
    finally:
        if server is not None:
            server.stop()
        pg.stop()


# --- a worker killed in the middle of a task -----------------------------------------------------


def _worker_env(fake_kie, tmp_path, **extra) -> dict:
    knobs = {
        "KIE_API_KEY": "fake-kie-key",
        "KIE_BASE_URL": fake_kie.server.base_url,
        "KIE_FILE_HOSTS": fake_kie.server.file_host,
        "KIE_READ_TIMEOUT": "60",
        "KIE_CALLBACK_SECRET": "test-callback-secret",
        "CALLBACK_URL": "http://testserver/api/kie-callback",
        "MEDIA_ROOT": str(tmp_path / "media"),
    }
    return service_env(**{**knobs, **extra})


def _generate(user) -> Video:
    from rest_framework.test import APIClient

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {auth_tokens_issue(user=user)['token']}")
    response = client.post("/api/generate", GOOD_BODY, format="json")
    assert response.status_code == 200
    client.user = user
    return Video.objects.get(pk=response.json()["data"]["taskId"]), client


@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_during_the_copy_is_replaced_and_the_job_settles(fake_kie, tmp_path, settings):
    settings.GENERATION_STALE_SECONDS = 0
    user = UserFactory()
    video, client = _generate(user)
    run_tasks()  # submitted
    [callback] = fake_kie.wait_callbacks(1)
    deliver(client, callback)
    assert Video.objects.get(pk=video.pk).status == "storing"
    # The copy asks KIE's record first when the file host is not trusted; KIE is slow to answer.
    fake_kie.configure(latency=30)
    env = _worker_env(fake_kie, tmp_path, KIE_FILE_HOSTS="", GENERATION_COPY_LEASE_SECONDS="1")
    worker = db_worker_start(tmp_path, env, "doomed")
    try:
        wait_for(lambda: Video.objects.get(pk=video.pk).copy_attempts == 1, what="the copy to start")
        time.sleep(0.3)  # in the middle of the call to KIE
    finally:
        worker.kill()

    task = DBTaskResult.objects.get(task_path="videos.tasks.video_copy_task")
    assert task.status == "RUNNING"  # the dead worker's task: nobody will finish it
    assert Video.objects.get(pk=video.pk).status == "storing"
    fake_kie.configure(latency=0)
    time.sleep(1.1)  # the dead worker's lease runs out

    assert generations_sweep()["copies"] == 1
    rescuer = db_worker_start(tmp_path, env, "rescuer")
    try:
        wait_for(lambda: Video.objects.get(pk=video.pk).status == "ready", timeout=30, what="the copy to finish")
    finally:
        rescuer.stop()

    video.refresh_from_db()
    assert (tmp_path / "media" / video.video_file.name).exists()
    assert Profile.objects.get(user=user).credits == 0
    assert CreditTransaction.objects.filter(video=video, type="refund").count() == 0
    assert_settled_once(video.pk)
    assert_ledger_whole()


@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_during_the_submission_never_sends_twice_and_the_job_settles(fake_kie, tmp_path, settings):
    settings.GENERATION_STALE_SECONDS = 0
    user = UserFactory()
    video, client = _generate(user)
    fake_kie.configure(generate_hang=30)  # KIE creates the job, then the worker dies waiting for the answer
    env = _worker_env(fake_kie, tmp_path)
    worker = db_worker_start(tmp_path, env, "doomed")
    try:
        wait_for(lambda: fake_kie.state()["generateCalls"] == 1, what="the submission to reach KIE")
        time.sleep(0.2)
    finally:
        worker.kill()
    fake_kie.configure(generate_hang=0)

    video.refresh_from_db()
    assert video.status == "queued" and video.submit_started_at and video.provider_task_id is None
    generations_sweep()  # a claimed submission is not re-sent
    assert fake_kie.state()["generateCalls"] == 1

    [callback] = fake_kie.wait_callbacks(1)  # KIE's job finished; its callback carries our video id
    assert deliver(client, callback).status_code == 200
    rescuer = db_worker_start(tmp_path, env, "rescuer")
    try:
        wait_for(lambda: Video.objects.get(pk=video.pk).status == "ready", timeout=30, what="the copy to finish")
    finally:
        rescuer.stop()

    assert fake_kie.state()["generateCalls"] == 1
    assert Profile.objects.get(user=user).credits == 0
    assert_settled_once(video.pk)
    assert_ledger_whole()
