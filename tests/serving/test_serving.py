"""The servers as they really start: `make run` (bin/dev-run) and the image's command (bin/serve).

200 connections trickling headers or bodies do not stop /health answering within 1 s; dev-run restarts a
killed child, or stops everything saying which child died and why. Real subprocesses on loopback with a
temporary SQLite database; marked `slow`, still part of `make test`.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from bench.slow_clients import probe

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
VENV = Path(sys.executable).parent.parent


def _free_port_pair() -> int:
    """A port whose next port is free too (dev-run puts the fake KIE on PORT + 1)."""
    for _ in range(50):
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        with socket.socket() as other:
            try:
                other.bind(("127.0.0.1", port + 1))
            except OSError:
                continue
        return port
    raise AssertionError("no free port pair")


def _env(tmp: Path, port: int, **extra) -> dict:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("KIE_", "DJANGO_", "REDIS_", "R2_", "PYTEST_", "DATABASE_", "PROMETHEUS_"))
        and key not in ("TESTING", "BASE_URL", "CALLBACK_URL")
    }
    env.update(
        PORT=str(port),
        VENV=str(VENV),
        GUNICORN=str(VENV / "bin" / "gunicorn"),
        DATABASE_URL=f"sqlite:///{tmp / 'db.sqlite3'}",
        MEDIA_ROOT=str(tmp / "media"),
        PROMETHEUS_MULTIPROC_DIR=str(tmp / "metrics"),
        PYTHONUNBUFFERED="1",
        **{key: str(value) for key, value in extra.items()},
    )
    return env


class Running:
    def __init__(self, args: list[str], env: dict, log: Path):
        self.log = log
        self.handle = open(log, "wb")  # noqa: SIM115 - closed in stop()
        self.popen = subprocess.Popen(  # noqa: S603
            args, cwd=ROOT, env=env, stdout=self.handle, stderr=subprocess.STDOUT, start_new_session=True
        )

    def output(self) -> str:
        self.handle.flush()
        return self.log.read_text(errors="replace")

    def wait_output(self, pattern: str, *, timeout: float = 60, after: int = 0) -> re.Match:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            match = re.compile(pattern).search(self.output(), after)
            if match:
                return match
            time.sleep(0.2)
        raise AssertionError(f"no {pattern!r} in:\n{self.output()[-4000:]}")

    def stop(self) -> None:
        if self.popen.poll() is None:
            os.killpg(self.popen.pid, signal.SIGTERM)
            try:
                self.popen.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.popen.pid, signal.SIGKILL)
                self.popen.wait(10)
        self.handle.close()


def _wait_live(url: str, process: Running, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if requests.get(f"{url}/api/health/live", timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        assert process.popen.poll() is None, process.output()[-4000:]
        time.sleep(0.3)
    raise AssertionError(f"{url} did not come up:\n{process.output()[-4000:]}")


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.fixture(scope="module")
def dev_run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("dev-run")
    port = _free_port_pair()
    process = Running(["bin/dev-run"], _env(tmp, port), tmp / "dev-run.log")
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_live(url, process)
        process.wait_output(r"aiasmr is running")
        yield process, url
    finally:
        process.stop()


def test_slow_clients_do_not_starve_make_run(dev_run):
    process, url = dev_run
    result = probe(url, connections=200, seconds=5)
    assert result["opened"] == 200
    assert not result["failures"], result
    assert result["slowest"] < 1.0, result
    assert result["checks"] >= 10


def test_make_run_restarts_a_killed_task_worker(dev_run):
    process, url = dev_run
    started = process.wait_output(r"started task worker \(pid (\d+)\)")
    old_pid = int(started.group(1))
    os.kill(old_pid, signal.SIGKILL)

    died = process.wait_output(rf"task worker \(pid {old_pid}\) died: killed by SIGKILL; restart 1/5 in 1s")
    restarted = process.wait_output(r"started task worker \(pid (\d+)\)", after=died.end())
    new_pid = int(restarted.group(1))
    assert new_pid != old_pid
    time.sleep(1)
    assert _pid_alive(new_pid)
    assert process.popen.poll() is None
    assert requests.get(f"{url}/api/health/live", timeout=5).status_code == 200


def test_make_run_stops_everything_saying_which_child_died(tmp_path):
    port = _free_port_pair()
    process = Running(["bin/dev-run"], _env(tmp_path, port, DEV_RUN_MAX_RESTARTS=0), tmp_path / "dev-run.log")
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_live(url, process)
        fake_kie = int(process.wait_output(r"started fake KIE \(pid (\d+)\)").group(1))
        os.kill(fake_kie, signal.SIGKILL)

        process.wait_output(rf"fake KIE \(pid {fake_kie}\) died: killed by SIGKILL; giving up after 0 restarts")
        process.wait_output(r"stopping everything")
        assert process.popen.wait(30) == 1
        with pytest.raises(requests.RequestException):
            requests.get(f"{url}/api/health/live", timeout=2)
    finally:
        process.stop()


def test_slow_clients_do_not_starve_the_image_server(tmp_path):
    """bin/serve is the Docker image's CMD: several uvicorn workers under gunicorn."""
    port = _free_port_pair()
    env = _env(tmp_path, port, WEB_CONCURRENCY=2, BIND=f"127.0.0.1:{port}")
    migrate = subprocess.run(  # noqa: S603
        [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env, timeout=180
    )
    assert migrate.returncode == 0
    process = Running(["bin/serve"], env, tmp_path / "serve.log")
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_live(url, process)
        result = probe(url, connections=200, seconds=5)
        assert result["opened"] == 200
        assert not result["failures"], result
        assert result["slowest"] < 1.0, result
        # The sync views still run (DRF, the database): a sign-up goes through.
        registered = requests.post(
            f"{url}/api/auth/register", json={"email": "slow@example.com", "password": "Str0ng-pass-123!"}, timeout=10
        )
        assert registered.status_code == 201, registered.text
    finally:
        process.stop()
