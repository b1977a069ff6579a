"""The soak's own processes: a private PostgreSQL cluster, and the service (web, task workers, fake KIE, sweep)."""

from __future__ import annotations

import collections
import os
import secrets
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import requests

from bench.chaos.common import PY, ROOT, free_port

PG_BIN = Path(os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin"))
CALLBACK_SECRET = secrets.token_urlsafe(16)


# --- the private PostgreSQL ----------------------------------------------------------------------


class PrivatePostgres:
    """A throwaway cluster owned by the `postgres` OS user (the soak runs as root), on a free port."""

    def __init__(self):
        self.root = Path(tempfile.mkdtemp(prefix="aiasmr-soak-pg-"))
        shutil.chown(self.root, "postgres")
        self.data = self.root / "data"
        self.port = free_port()

    def _as_postgres(self, *args: str) -> None:
        command = ["runuser", "-u", "postgres", "--", *args] if os.geteuid() == 0 else list(args)
        result = subprocess.run(command, capture_output=True, text=True, timeout=120)  # noqa: S603
        if result.returncode:
            raise RuntimeError(result.stdout + result.stderr)

    def pg_ctl(self, *args: str) -> None:
        options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200"
        self._as_postgres(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-l", str(self.root / "log"),
                          "-o", options, "-w", *args)

    def start(self) -> PrivatePostgres:
        self._as_postgres(str(PG_BIN / "initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync")
        self.pg_ctl("start")
        return self

    def url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/postgres"

    def stop(self) -> None:
        if (self.data / "postmaster.pid").exists():
            self.pg_ctl("stop", "-m", "immediate")
        shutil.rmtree(self.root, ignore_errors=True)


def available() -> bool:
    return (PG_BIN / "initdb").exists() and (os.geteuid() != 0 or shutil.which("runuser") is not None)


# --- the service ---------------------------------------------------------------------------------


class Service:
    def __init__(self, workdir: Path, database_url: str, *, web_workers: int, task_workers: int):
        self.workdir = workdir
        self.port = free_port()
        self.kie_port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.kie_url = f"http://127.0.0.1:{self.kie_port}"
        self.web_workers, self.task_workers = web_workers, task_workers
        self.env = {k: v for k, v in os.environ.items() if not k.startswith(("KIE_", "GENERATION_", "DJANGO_", "R2_",
                                                                             "PYTEST_", "RATE_LIMIT_", "PROMETHEUS_"))}
        self.env.pop("TESTING", None)
        self.env.update({
            "DATABASE_URL": database_url,
            "DEBUG_MODE": "false",
            "LOG_LEVEL": "warning",
            "SECRET_KEY": secrets.token_urlsafe(50),
            "JWT_SECRET": secrets.token_urlsafe(40),
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "BASE_URL": self.url,
            "CALLBACK_URL": f"{self.url}/api/kie-callback",
            "KIE_API_KEY": "fake-kie-key",
            "KIE_BASE_URL": f"{self.kie_url}/api/v1",
            "KIE_FILE_HOSTS": f"127.0.0.1:{self.kie_port}",
            "KIE_CALLBACK_SECRET": CALLBACK_SECRET,
            "KIE_READ_TIMEOUT": "2",
            "MEDIA_ROOT": str(workdir / "media"),
            "PAYMENT_PROVIDER": "sandbox",
            "PROMETHEUS_MULTIPROC_DIR": str(workdir / "metrics"),
            "PYTHONUNBUFFERED": "1",
            # Settlement in seconds instead of minutes, so the soak can wait for every job.
            "GENERATION_CALLBACK_GRACE_SECONDS": "3",
            "GENERATION_STATUS_REFRESH_SECONDS": "1",
            "GENERATION_DEADLINE_SECONDS": "40",
            "GENERATION_SUBMIT_UNKNOWN_SECONDS": "8",
            "GENERATION_STALE_SECONDS": "8",
            "GENERATION_RETRY_BASE_SECONDS": "0.5",
            "GENERATION_RETRY_MAX_SECONDS": "3",
            "GENERATION_COPY_LEASE_SECONDS": "15",
            "GENERATION_STORING_DEADLINE_SECONDS": "60",
            # The limits are not under test; the counting still runs on every request.
            **{f"RATE_LIMIT_{name}": "100000000/m" for name in ("API", "AUTH", "GENERATE", "PURCHASE", "SENSITIVE")},
        })
        self.processes: dict[str, subprocess.Popen] = {}
        self.restarts = collections.Counter()
        self.stopping = False

    def manage(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        return subprocess.run([PY, "manage.py", *args], cwd=ROOT, env=self.env, capture_output=True, text=True,  # noqa: S603
                              timeout=300, check=check)

    def _spawn(self, name: str, args: list[str], **env) -> None:
        log = open(self.workdir / f"{name}.log", "ab")  # noqa: SIM115 - lives with the process
        self.processes[name] = subprocess.Popen(args, cwd=ROOT, env={**self.env, **env}, stdout=log,  # noqa: S603
                                                stderr=subprocess.STDOUT, start_new_session=True)

    def start(self) -> None:
        (self.workdir / "metrics").mkdir(parents=True, exist_ok=True)
        self.manage("migrate", "--noinput", "-v", "0")
        self._spawn("fake_kie", [PY, "manage.py", "fake_kie", "--port", str(self.kie_port)])
        self._spawn("web", [str(ROOT / "bin" / "serve"), "--log-level", "warning"],
                    GUNICORN=str(Path(PY).with_name("gunicorn")), WEB_CONCURRENCY=str(self.web_workers),
                    BIND=f"127.0.0.1:{self.port}")
        for index in range(self.task_workers):
            self._start_worker(index)
        self._spawn("sweep", ["sh", "-c", f"while sleep 2; do {PY} manage.py generations_sync >/dev/null 2>&1; done"])
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            try:
                if requests.get(f"{self.url}/api/health/live", timeout=2).ok and \
                        requests.get(f"{self.kie_url}/_fake/state", timeout=2).ok:
                    break
            except requests.RequestException:
                time.sleep(0.3)
        else:
            raise RuntimeError("the service did not come up")
        self.kie_config(job_seconds=0.5, callback="send")
        threading.Thread(target=self._keep_workers, daemon=True).start()

    def _start_worker(self, index: int) -> None:
        self._spawn(f"worker{index}", [PY, "manage.py", "db_worker", "--interval", "0.2", "--no-startup-delay",
                                       "--worker-id", f"soak-{index}-{time.monotonic_ns()}"])

    def _keep_workers(self) -> None:
        """The restart policy production has (systemd, Kubernetes): a dead task worker is started again."""
        while not self.stopping:
            for index in range(self.task_workers):
                process = self.processes[f"worker{index}"]
                if process.poll() is not None and not self.stopping:
                    self.restarts[f"worker{index}"] += 1
                    self._start_worker(index)
            time.sleep(1)

    def kill_worker(self) -> int:
        process = self.processes["worker0"]
        os.killpg(process.pid, signal.SIGKILL)
        return process.pid

    def kie_config(self, **knobs) -> None:
        requests.post(f"{self.kie_url}/_fake/config", json=knobs, timeout=5).raise_for_status()

    def stop(self) -> None:
        self.stopping = True
        for process in self.processes.values():
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes.values():
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
