"""Chaos soak: randomized clients against the real server while faults are injected, then proof the ledger held.

    make soak                       # 10,000 operations, 16 clients
    python bench/soak.py --operations 500 --clients 8

It starts its own PostgreSQL cluster (initdb into a temp dir, another port: restarting it hurts nobody),
the server as the image runs it (bin/serve: gunicorn with 2 uvicorn workers, DEBUG off, PostgreSQL,
Redis when REDIS_URL is given, local files), two task workers, the fake KIE and a sweep loop. The
settings are production's except DJANGO_ENV: production mode refuses the sandbox payment provider the
clients buy through. Clients register, sign in, buy (sandbox confirm, sometimes twice at once: duplicate
webhooks), generate, poll, cancel, delete, list; a staff thread refunds settled videos through the admin's
service. Faults: KIE errors, hangs, lost, late and duplicated callbacks (the fake KIE's knobs), a task
worker killed with SIGKILL, and a PostgreSQL restart. Then everything settles and the soak proves:
credits_audit clean, no job left open, every debit refunded at most once and every failed or cancelled
job exactly once, every order credited at most once, no 5xx outside the injected outage, and every
client-visible balance equal to the ledger. Exit status 1 when any check fails.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import random
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
PG_BIN = Path(os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin"))
GOOD_BODY = {"prompt": "soap being cut slowly on a wooden board", "triggers": ["soap"]}
CALLBACK_SECRET = secrets.token_urlsafe(16)
OPEN = ("queued", "submitted", "processing", "storing")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def say(message: str) -> None:
    print(f"[soak {time.strftime('%H:%M:%S')}] {message}", flush=True)


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


# --- the clients ---------------------------------------------------------------------------------


class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.operations = collections.Counter()
        self.statuses = collections.Counter()
        self.server_errors: list[tuple[float, str, int]] = []
        self.transport_errors: list[tuple[float, str, str]] = []
        self.outages: list[list[float]] = []

    def record(self, op: str, path: str, status: int | None, error: str = "", *, started: float) -> None:
        """`started`: when the request was sent (one sent before the outage may fail during it)."""
        with self.lock:
            self.operations[op] += 1
            self.statuses[status or "transport"] += 1
            if status is None:
                self.transport_errors.append((started, path, error))
            elif status >= 500:
                self.server_errors.append((started, path, status))

    def outside_outages(self, events: list, grace: float = 5.0) -> list:
        return [e for e in events if not any(start - 30 <= e[0] <= end + grace for start, end in self.outages)]


class Client:
    """One app user: signs up, then acts at random; remembers its videos and the balance it was shown."""

    def __init__(self, service: Service, stats: Stats, rng: random.Random, number: int):
        self.base = f"{service.url}/api"
        self.stats, self.rng = stats, rng
        self.session = requests.Session()
        self.email = f"soak{number}-{secrets.token_hex(3)}@example.com"
        self.password = "Soak-pass-123!"
        self.token = ""
        self.videos: list[str] = []
        self.user_id = ""

    def call(self, op: str, method: str, path: str, **kwargs) -> requests.Response | None:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        started = time.time()
        try:
            response = self.session.request(method, f"{self.base}{path}", headers=headers, timeout=30, **kwargs)
        except requests.RequestException as exc:
            self.stats.record(op, path, None, f"{exc.__class__.__name__}: {str(exc)[-160:]}", started=started)
            return None
        self.stats.record(op, path, response.status_code, started=started)
        return response

    def register(self) -> None:
        answer = self.call("register", "POST", "/auth/register", json={"email": self.email, "password": self.password})
        if answer is not None and answer.status_code == 201:
            data = answer.json()["data"]
            self.token, self.user_id = data["token"], data["user"]["id"]

    def step(self) -> None:
        if not self.token:
            return self.register()
        roll = self.rng.random()
        if roll < 0.05:
            answer = self.call("login", "POST", "/auth/login", json={"email": self.email, "password": self.password})
            if answer is not None and answer.status_code == 200:
                self.token = answer.json()["data"]["token"]
        elif roll < 0.15:
            self.buy()
        elif roll < 0.40:
            answer = self.call("generate", "POST", "/generate", json=GOOD_BODY)
            if answer is not None and answer.status_code == 200:
                self.videos.append(answer.json()["data"]["taskId"])
        elif roll < 0.60 and self.videos:
            self.call("poll", "GET", f"/generate/status/{self.rng.choice(self.videos)}")
        elif roll < 0.68 and self.videos:
            self.call("cancel", "POST", f"/generate/cancel/{self.rng.choice(self.videos)}", json={})
        elif roll < 0.73 and self.videos:
            video = self.rng.choice(self.videos)
            answer = self.call("delete", "DELETE", f"/videos/{video}")
            if answer is not None and answer.status_code == 200:
                self.videos.remove(video)
        elif roll < 0.85:
            self.call("list", "GET", "/videos?page=1&limit=20")
        else:
            self.call("balance", "GET", "/credits/balance")

    def buy(self) -> None:
        answer = self.call("purchase", "POST", "/credits/purchase", json={"package": "basic", "amount": 100})
        if answer is None or answer.status_code != 200:
            return
        order = answer.json()["data"]["order"]["id"]
        outcome = "failed" if self.rng.random() < 0.1 else "succeeded"
        if self.rng.random() < 0.3:
            # The same payment confirmed twice at once: two webhook deliveries of one event.
            threads = [threading.Thread(target=self.call, args=("confirm-duplicate", "POST",
                                                               f"/billing/sandbox/confirm/{order}"),
                                        kwargs={"json": {"outcome": outcome}}) for _ in range(2)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
        else:
            self.call("confirm", "POST", f"/billing/sandbox/confirm/{order}", json={"outcome": outcome})

    def balance(self) -> int | None:
        answer = self.call("balance", "GET", "/credits/balance")
        return answer.json()["data"]["balance"] if answer is not None and answer.status_code == 200 else None


# --- faults --------------------------------------------------------------------------------------


def inject_faults(service: Service, pg: PrivatePostgres, stats: Stats, progress, stop: threading.Event,
                  log: list) -> None:
    """Phases by share of the operations done: KIE misbehaves in turns, a worker dies, PostgreSQL restarts."""
    phases = [
        (0.10, "KIE rejects 30% of submissions", {"generate_fail_rate": 0.3, "generate_code": 500}),
        (0.20, "KIE fails 30% of jobs", {"generate_fail_rate": 0.0, "job_fail_rate": 0.3}),
        (0.30, "KIE callbacks lost", {"job_fail_rate": 0.0, "callback": "lost"}),
        (0.40, "KIE callbacks late and duplicated", {"callback": "send", "callback_delay": 4, "callback_copies": 3}),
        (0.50, "KIE hangs on submission (longer than the read timeout)", {"callback_delay": 0, "callback_copies": 2,
                                                                          "generate_hang": 3}),
        (0.60, "KIE healthy again", {"generate_hang": 0, "callback_copies": 1}),
        (0.65, "task worker killed (SIGKILL)", None),
        (0.80, "PostgreSQL restarted", None),
        (0.90, "KIE rate-limits (429) half the submissions", {"generate_fail_rate": 0.5, "generate_code": 429}),
        (0.95, "KIE healthy", {"generate_fail_rate": 0.0, "generate_code": 200}),
    ]
    for share, what, knobs in phases:
        while progress() < share:
            if stop.wait(0.1):
                return
        say(f"fault: {what}")
        log.append(what)
        if knobs:
            service.kie_config(**knobs)
        elif what.startswith("task worker"):
            service.kill_worker()
        else:
            window = [time.time(), time.time()]
            stats.outages.append(window)
            pg.pg_ctl("restart", "-m", "fast")
            window[1] = time.time()


def staff_refunds(service: Service, stop: threading.Event, counts: collections.Counter) -> None:
    """Staff refund settled videos through the admin action's service, racing the clients and the sweep."""
    from django.db import close_old_connections

    from accounts.models import User
    from videos.models import Video
    from videos.services import video_refund

    staff = None
    while not stop.wait(0.5):
        try:
            close_old_connections()
            if staff is None:
                staff = User.objects.create_user(email=f"staff-{secrets.token_hex(3)}@example.com",
                                                 password=secrets.token_urlsafe(12), is_staff=True)
            video = Video.objects.filter(status__in=("ready", "failed")).order_by("?").first()
            if video is None:
                continue
            refund = video_refund(video=video, staff_user=staff)
            counts["staff refund given" if refund else "staff refund refused (already refunded)"] += 1
        except Exception as exc:  # noqa: BLE001 - the PostgreSQL restart; counted
            counts[f"staff refund error {exc.__class__.__name__}"] += 1


# --- the proof -----------------------------------------------------------------------------------


def settle(service: Service, timeout: float) -> int:
    """Waits until no job is open; returns how many stayed open."""
    from django.db import close_old_connections

    from videos.models import Video

    deadline = time.monotonic() + timeout
    while True:
        close_old_connections()
        left = Video.objects.filter(status__in=OPEN).count()
        if left == 0 or time.monotonic() > deadline:
            return left
        time.sleep(1)


def prove(service: Service, clients: list[Client], stats: Stats) -> dict:
    from django.db import close_old_connections, connection
    from django.db.models import Count, Exists, OuterRef, Q, Sum

    from billing.models import Order
    from credits.models import CreditTransaction
    from videos.models import Video

    close_old_connections()
    checks: dict[str, object] = {}
    audit = service.manage("credits_audit", "--no-progress", check=False)
    checks["credits_audit clean"] = audit.returncode == 0 and "credits audit clean" in audit.stdout
    checks["jobs left open"] = Video.objects.filter(status__in=OPEN).count()
    refunds = CreditTransaction.objects.filter(type="refund")
    checks["debits refunded twice"] = refunds.values("reverses_id").annotate(n=Count("id")).filter(n__gt=1).count()
    failed = Video.objects.filter(status__in=("failed", "cancelled"), debit__isnull=False)
    checks["failed/cancelled jobs without their refund"] = failed.exclude(
        Exists(refunds.filter(reverses_id=OuterRef("debit_id")))).count()
    credited = CreditTransaction.objects.filter(order__isnull=False, amount__gt=0).values("order_id").annotate(
        n=Count("id"))
    checks["orders credited twice"] = credited.filter(n__gt=1).count()
    checks["completed orders not credited"] = Order.objects.filter(status="completed").exclude(
        pk__in=credited.values("order_id")).count()
    # Every balance a client is shown equals the sum of that user's ledger.
    mismatched = []
    for client in clients:
        if not client.user_id:
            continue
        shown = client.balance()
        ledger = CreditTransaction.objects.filter(user_id=client.user_id).aggregate(s=Sum("amount"))["s"] or 0
        if shown != ledger:
            mismatched.append((client.email, shown, ledger))
    checks["client balances not equal to the ledger"] = len(mismatched)
    checks["5xx outside the injected outage"] = len(stats.outside_outages(stats.server_errors))
    checks["transport errors outside the injected outage"] = len(stats.outside_outages(stats.transport_errors))
    figures = {
        "videos by status": dict(Video.objects.values_list("status").annotate(n=Count("id")).order_by()),
        "orders by status": dict(Order.objects.values_list("status").annotate(n=Count("id")).order_by()),
        "ledger rows by type": dict(CreditTransaction.objects.values_list("type").annotate(n=Count("id")).order_by()),
        "credits in the ledger": CreditTransaction.objects.aggregate(s=Sum("amount"))["s"],
        "staff refunds": refunds.filter(~Q(staff_user=None)).count(),
        "5xx inside the outage": len(stats.server_errors) - checks["5xx outside the injected outage"],
        "mismatched balances": mismatched[:5],
        "5xx (time, path, status)": stats.server_errors[:10],
        "transport errors (time, path, error)": stats.transport_errors[:10],
        "outage windows": stats.outages,
        "audit": audit.stdout.strip().splitlines()[-1:] if audit.stdout.strip() else audit.stderr[-300:],
    }
    connection.close()
    return {"checks": checks, "figures": figures}


CLEAN = {"credits_audit clean": True}


def passed(checks: dict) -> bool:
    return all((value is True) if key in CLEAN else value == 0 for key, value in checks.items())


def run(*, operations: int, clients: int, seed: int, web_workers: int = 2, task_workers: int = 2,
        settle_timeout: float = 120) -> dict:
    if not available():
        raise RuntimeError(f"needs PostgreSQL's initdb in {PG_BIN} (and runuser when run as root)")
    started = time.monotonic()
    workdir = Path(tempfile.mkdtemp(prefix="aiasmr-soak-"))
    pg = PrivatePostgres().start()
    service = Service(workdir, pg.url(), web_workers=web_workers, task_workers=task_workers)
    os.environ.update({k: v for k, v in service.env.items() if k in ("DATABASE_URL", "SECRET_KEY", "JWT_SECRET", "LOG_LEVEL",
                                                                      "MEDIA_ROOT", "PAYMENT_PROVIDER")})
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "aiasmr.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    stats, faults, staff_counts = Stats(), [], collections.Counter()
    try:
        service.start()
        say(f"service up on {service.url} (PostgreSQL on port {pg.port}); {operations} operations, {clients} clients")
        rng = random.Random(seed)
        people = [Client(service, stats, random.Random(rng.random()), number) for number in range(clients * 3)]
        done = [0]
        lock = threading.Lock()
        stop = threading.Event()

        def progress() -> float:
            return done[0] / operations

        def drive(index: int) -> None:
            mine = people[index::clients]
            chooser = random.Random(index)
            while True:
                with lock:
                    if done[0] >= operations:
                        return
                    done[0] += 1
                chooser.choice(mine).step()

        chaos = threading.Thread(target=inject_faults, args=(service, pg, stats, progress, stop, faults), daemon=True)
        staff = threading.Thread(target=staff_refunds, args=(service, stop, staff_counts), daemon=True)
        chaos.start()
        staff.start()
        drivers = [threading.Thread(target=drive, args=(i,)) for i in range(clients)]
        load_started = time.monotonic()
        for thread in drivers:
            thread.start()
        for thread in drivers:
            thread.join()
        load_seconds = time.monotonic() - load_started
        stop.set()
        chaos.join(30)
        staff.join(30)
        service.kie_config(generate_fail_rate=0.0, generate_code=200, job_fail_rate=0.0, callback="send",
                           callback_delay=0, callback_copies=1, generate_hang=0)
        say(f"{operations} operations in {load_seconds:.0f}s; waiting for every job to settle")
        left = settle(service, settle_timeout)
        result = prove(service, people, stats)
        result["figures"].update({
            "operations (client steps)": done[0],
            "requests by kind": dict(stats.operations),
            "requests total": sum(stats.operations.values()),
            "HTTP statuses": {str(k): v for k, v in sorted(stats.statuses.items(), key=str)},
            "load seconds": round(load_seconds, 1),
            "faults injected": faults,
            "task workers restarted": dict(service.restarts),
            "staff refund attempts": dict(staff_counts),
            "open after settling wait": left,
            "total seconds": round(time.monotonic() - started, 1),
        })
        result["passed"] = passed(result["checks"])
        return result
    finally:
        service.stop()
        pg.stop()
        if os.environ.get("SOAK_KEEP_LOGS"):
            say(f"logs kept in {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--operations", type=int, default=int(os.environ.get("SOAK_OPERATIONS", 10_000)))
    parser.add_argument("--clients", type=int, default=int(os.environ.get("SOAK_CLIENTS", 16)))
    parser.add_argument("--seed", type=int, default=int(os.environ.get("SOAK_SEED", 14)))
    parser.add_argument("--settle-timeout", type=float, default=180)
    parser.add_argument("--output", help="also write the result as JSON to this file")
    args = parser.parse_args()
    result = run(operations=args.operations, clients=args.clients, seed=args.seed, settle_timeout=args.settle_timeout)
    text = json.dumps(result, indent=2, default=str)
    print(text)
    if args.output:
        Path(args.output).write_text(text)
    print("SOAK " + ("PASSED" if result["passed"] else "FAILED"))
    return 0 if result["passed"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
