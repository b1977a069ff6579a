"""Load benchmark: gunicorn with production settings on PostgreSQL and Redis, wrk on loopback.

Seeds a large database (many users, 100k videos, 1M ledger rows) and one 100 times smaller, and measures
every endpoint at 64 connections against two references: a bare Django + DRF project (bench/bare/,
served the same way on its own port: the framework's ceiling, measured at the start and the end of the
large pass) and the service's own `GET /api/ping`. Each run also records the CPU the web server,
PostgreSQL and Redis spent per request. Prints one table per size, the scaling ratio and the capacity
plan's inputs. Run with `make bench`; not part of `make test`.
"""

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import report
from loadrun import Load

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
PY = sys.executable
GUNICORN = str(Path(PY).parent / "gunicorn")
PG = "postgres://postgres@127.0.0.1:5432"
DB_PREFIX = os.environ.get("BENCH_DB_PREFIX", "aiasmr_bench")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
# asgi (the default: gunicorn with uvicorn workers, what the image runs) or wsgi (gthread, the old stack).
SERVER = os.environ.get("BENCH_SERVER", "asgi")
PORT = int(os.environ.get("BENCH_PORT", "8900"))
FAKE_KIE_PORT = PORT + 1
BARE_PORT = int(os.environ.get("BENCH_BARE_PORT", str(PORT + 2)))
DURATION = os.environ.get("BENCH_DURATION", "10s")
CONNECTIONS = int(os.environ.get("BENCH_CONNECTIONS", "64"))
WRK_THREADS = 2
WORKERS = os.environ.get("BENCH_WORKERS", "4")
THREADS = os.environ.get("BENCH_THREADS", "4")
# Jobs due for a KIE refresh, polled in turn: enough that none comes round again within the refresh
# interval (30 s) below 200 req/s; the output says how many requests really refreshed.
DUE_JOBS = int(os.environ.get("BENCH_DUE_JOBS", "6000"))
# The service's default (aiasmr/settings/generation.py), unless the environment sets it for the run.
REFRESH_SECONDS = int(os.environ.get("GENERATION_STATUS_REFRESH_SECONDS", "30"))
FRESH_JOBS = 2000
UPLOAD_SIDE = int(os.environ.get("BENCH_UPLOAD_SIDE", "512"))
# BENCH_SCALE shrinks both databases (e.g. 0.05 for a quick check of the harness itself).
SCALE = float(os.environ.get("BENCH_SCALE", "1"))
SIZES = {
    "large": {"users": max(10, int(10_000 * SCALE)), "videos-per-user": 10, "ledger-per-user": 100},
    "small": {"users": max(1, int(100 * SCALE)), "videos-per-user": 10, "ledger-per-user": 100},
}
POLL_USERS = 200
# The mixed workload's ramp (phones per step; BENCH_PHONE_STEPS=0 skips it) and how long each step holds.
PHONE_STEPS = [int(n) for n in os.environ.get(
    "BENCH_PHONE_STEPS", "50,100,200,300,400,500,600,800,1000,1200,1600").split(",") if int(n) > 0]
PHONE_STEP_SECONDS = float(os.environ.get("BENCH_PHONE_SECONDS", "60"))


@dataclass(frozen=True)
class Endpoint:
    name: str
    path: str
    script: str | None = None
    files: dict = field(default_factory=dict)  # wrk env variable -> file in the seed's directory
    env: dict = field(default_factory=dict)
    target: float | None = None  # the share of the bare ceiling it should reach (bench/README.md)
    small: bool = True  # measured on the small database too (the reads)


AUTH = {"script": "get_auth.lua", "files": {"BENCH_TOKENS": "tokens.txt"}}
STATUS_PATH = {"BENCH_PATH_PREFIX": "/api/generate/status/"}
STATUS_DUE = "GET /api/generate/status (KIE due)"
ENDPOINTS = [
    Endpoint(report.PING, "/api/ping", target=0.6),
    Endpoint("GET /api/credits/balance", "/api/credits/balance", **AUTH, target=0.4),
    Endpoint("GET /api/videos", "/api/videos?page=1&limit=20", **AUTH, target=0.3),
    Endpoint("GET /api/credits/history", "/api/credits/history?page=1&limit=50", **AUTH, target=0.3),
    Endpoint("GET /api/generate/status (no news)", "/", "rotate.lua", {"BENCH_PAIRS": "status_fresh.txt"},
             STATUS_PATH, target=0.4),
    Endpoint(STATUS_DUE, "/", "rotate.lua", {"BENCH_PAIRS": "status_due.txt"}, STATUS_PATH, target=0.4),
    Endpoint("GET /api/videos/<id>", "/", "rotate.lua", {"BENCH_PAIRS": "videos.txt"},
             {"BENCH_PATH_PREFIX": "/api/videos/"}),
    Endpoint("GET /api/user/profile", "/api/user/profile", **AUTH),
    Endpoint("GET /api/models", "/api/models"),
    Endpoint("POST /api/generate", "/api/generate", "generate.lua", {"BENCH_TOKENS": "tokens.txt"},
             target=0.15, small=False),
    Endpoint("POST /api/uploads/images", "/api/uploads/images", "upload.lua",
             {"BENCH_TOKENS": "tokens.txt", "BENCH_UPLOAD": "upload.png"}, small=False),
    Endpoint("POST /api/kie-callback", "/api/kie-callback?secret={secret}", "callback.lua",
             {"BENCH_TASKS": "tasks.txt"}, small=False),
    Endpoint(f"{report.PING} (again)", "/api/ping", target=0.6, small=False),
]


def base_env(database: str) -> dict:
    env = dict(os.environ)
    env.update(
        {
            "DJANGO_ENV": "production",
            "SECRET_KEY": SECRET_KEY,
            "JWT_SECRET": JWT_SECRET,
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "DATABASE_URL": f"{PG}/{database}",
            "REDIS_URL": REDIS_URL,
            "ALLOW_LOCAL_STORAGE": "1",
            "MEDIA_ROOT": str(WORKDIR / "media"),
            "SECURE_SSL_REDIRECT": "false",
            "PAYMENT_PROVIDER": "stripe",
            "STRIPE_SECRET_KEY": "sk_test_bench",
            "STRIPE_PUBLISHABLE_KEY": "pk_test_bench",
            "STRIPE_WEBHOOK_SECRET": "whsec_bench",
            "KIE_API_KEY": "fake-kie-key",
            "KIE_CALLBACK_SECRET": CALLBACK_SECRET,
            "KIE_BASE_URL": f"http://127.0.0.1:{FAKE_KIE_PORT}/api/v1",
            "KIE_FILE_HOSTS": f"127.0.0.1:{FAKE_KIE_PORT}",
            "BASE_URL": f"http://127.0.0.1:{PORT}",
            "LOG_LEVEL": "info",
            # The limits are not under test here; the rate-limit counting itself still runs.
            "RATE_LIMIT_API": "100000000/m",
            "RATE_LIMIT_GENERATE": "100000000/h",
            "RATE_LIMIT_UPLOAD": "100000000/h",
            "UPLOAD_DAILY_QUOTA": "100000000",
        }
    )
    for key in [k for k in env if k.startswith(("R2_", "TESTING"))]:
        env.pop(key)
    return env


SECRET_KEY = secrets.token_urlsafe(64)
CALLBACK_SECRET = secrets.token_urlsafe(24)
JWT_SECRET = secrets.token_urlsafe(48)
WORKDIR = Path(tempfile.mkdtemp(prefix="aiasmr-bench-"))


def run(cmd, env, **kwargs):
    return subprocess.run(cmd, cwd=ROOT, env=env, check=True, **kwargs)


def psql(sql: str, database: str = "postgres") -> str:
    return subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", database, "-qtA", "-c", sql],
                          check=True, capture_output=True, text=True).stdout.strip()


def prepare(size: str) -> tuple[str, Path]:
    database = f"{DB_PREFIX}_{size}"
    # Quoted: a prefix with capitals names the database exactly as DATABASE_URL does.
    psql(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
    psql(f'CREATE DATABASE "{database}"')
    env = base_env(database)
    run([PY, "manage.py", "migrate", "--noinput", "-v", "0"], env)
    out = WORKDIR / size
    args = [f"--{key}={value}" for key, value in SIZES[size].items()]
    args += [f"--poll-users={min(POLL_USERS, SIZES[size]['users'])}", f"--fresh-jobs={FRESH_JOBS}",
             f"--due-jobs={DUE_JOBS}",
             f"--upload-side={UPLOAD_SIDE}"]
    print(f"[{size}] seeding ...", flush=True)
    run([PY, "bench/seed.py", *args, "--out", str(out)], env)
    return database, out


def wait_http(url: str, timeout: float = 30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2):  # noqa: S310 - loopback only
                return
        except Exception:
            time.sleep(0.3)
    raise RuntimeError(f"{url} did not come up")


def wait_port(port: int, timeout: float = 30):
    """A listening socket is enough: the fake KIE's own state page lists every job (slow with thousands)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=2).close()
            return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"nothing listens on port {port}")


def gunicorn(package: str, *, port: int, cwd: Path, env: dict, log) -> subprocess.Popen:
    """`package`'s wsgi or asgi application, with the server, worker class, workers and threads under test."""
    if SERVER == "wsgi":
        app = [f"{package}.wsgi:application", "--worker-class", "gthread", "--threads", THREADS]
    else:
        app = [f"{package}.asgi:application", "--worker-class", "uvicorn_worker.UvicornWorker"]
    return subprocess.Popen(
        [GUNICORN, *app, "--chdir", str(cwd), "--bind", f"127.0.0.1:{port}", "--workers", WORKERS,
         "--backlog", "2048", "--log-level", "warning"],
        cwd=cwd, env=env, stdout=log, stderr=log,
    )


def start_bare() -> subprocess.Popen:
    """bench/bare/, from bench/ (so the service's packages are not even importable), its settings only."""
    log = open(WORKDIR / "bare.log", "w")  # noqa: SIM115 - closed with the process
    env = {"PATH": os.environ.get("PATH", ""), "DJANGO_SETTINGS_MODULE": "bare.settings"}
    bare = gunicorn("bare", port=BARE_PORT, cwd=BENCH, env=env, log=log)
    wait_http(f"http://127.0.0.1:{BARE_PORT}/api/ping")
    return bare


def start_server(database: str, out: Path) -> tuple[subprocess.Popen, subprocess.Popen]:
    env = base_env(database)
    run([PY, "manage.py", "collectstatic", "--noinput", "-v", "0"], env)
    log = open(WORKDIR / f"{database}.log", "w")  # noqa: SIM115 - closed with the process
    fake = subprocess.Popen([PY, "bench/fake_kie_jobs.py", "--port", str(FAKE_KIE_PORT),
                             "--tasks", str(out / "kie_tasks.txt")], cwd=ROOT, env=env, stdout=log, stderr=log)
    web = gunicorn("aiasmr", port=PORT, cwd=ROOT, env=env, log=log)
    wait_http(f"http://127.0.0.1:{PORT}/api/health/live")
    wait_port(FAKE_KIE_PORT)
    return web, fake


def stop(processes):
    for process in processes:
        process.send_signal(signal.SIGTERM)
    for process in processes:
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()


WRK_ARGS = [f"-t{WRK_THREADS}", f"-c{CONNECTIONS}", "--latency", "--timeout", "10s"]


def poll_events(database: str) -> int:
    """KIE refreshes recorded so far: each one the status view made writes a `poll` event."""
    return int(psql("SELECT count(*) FROM video_events WHERE source = 'poll'", database))


def due_note(result: dict, refreshes: int, jobs: int) -> str:
    """Whether each status request found its job due for a KIE refresh, and when the jobs come round."""
    wraps_after = jobs / result["rps"] if result["rps"] else float("inf")
    verdict = "every request found its job due" if refreshes >= result["requests"] else "SOME FOUND IT NOT DUE"
    return (f"{STATUS_DUE}: {refreshes} KIE refreshes for {result['requests']} requests completed (those in "
            f"flight when wrk stopped are served too): {verdict}. A refreshed job is not due again for "
            f"GENERATION_STATUS_REFRESH_SECONDS ({REFRESH_SECONDS} s); the {jobs} due jobs are polled in turn "
            f"and come round after {wraps_after:.0f} s"
            f"{'' if wraps_after >= REFRESH_SECONDS else ': TOO SOON, raise BENCH_DUE_JOBS'}. "
            f"The fake KIE spent {result['cpu_ms']['kie']:.2f} ms CPU a request.")


def measure_endpoint(project: Load, endpoint: Endpoint, database: str, out: Path, wrk_env: dict,
                     results: list[dict], notes: list[str]) -> None:
    """One wrk run of `endpoint`, appended to `results`; what the reader needs to know of it to `notes`."""
    env = dict(wrk_env, **endpoint.env, **{var: str(out / name) for var, name in endpoint.files.items()})
    if "BENCH_PAIRS" in env and not Path(env["BENCH_PAIRS"]).read_text().strip():
        notes.append(f"{endpoint.name}: skipped, the seed wrote no ids ({env['BENCH_PAIRS']})")
        return
    polls_before = poll_events(database) if endpoint.name == STATUS_DUE else 0
    result = project.run(endpoint.name, endpoint.path.format(secret=CALLBACK_SECRET), endpoint.script, env)
    result["target"] = endpoint.target
    results.append(result)
    if not result["cpu_reliable"]:
        notes.append(f"{endpoint.name}: only {result['window_requests']:.0f} requests completed inside the CPU "
                     f"window, too few for CPU figures; lengthen BENCH_DURATION")
    if "BENCH_UPLOAD" in env:
        size_kb = Path(env["BENCH_UPLOAD"]).stat().st_size // 1024
        notes.append(f"{endpoint.name}: a {UPLOAD_SIDE} px PNG of {size_kb} KB, re-encoded by the service")
    if endpoint.name == STATUS_DUE:
        jobs = len(Path(env["BENCH_PAIRS"]).read_text().splitlines())
        result["kie_refreshes"] = poll_events(database) - polls_before
        notes.append(due_note(result, result["kie_refreshes"], jobs))


def measure(size: str, bare: subprocess.Popen) -> tuple[list[dict], list[dict], list[str]]:
    """(project rows, bare ceiling rows, notes) of one database size; the bare ceiling on the large pass."""
    database, out = prepare(size)
    wrk_env = dict(os.environ, BENCH_DIR=str(BENCH), BENCH_WRK_THREADS=str(WRK_THREADS),
                   BENCH_FILE_BASE=f"http://127.0.0.1:{FAKE_KIE_PORT}")
    web, fake = start_server(database, out)
    wrk_setup = {"wrk_args": WRK_ARGS, "duration": DURATION, "lua_dir": BENCH / "lua", "wrk_log": WORKDIR / "wrk.log"}
    project = Load(base_url=f"http://127.0.0.1:{PORT}", web_pid=web.pid, kie_pid=fake.pid,
                   access_log=WORKDIR / f"{database}.log", **wrk_setup)
    ceiling = Load(base_url=f"http://127.0.0.1:{BARE_PORT}", web_pid=bare.pid, kie_pid=None, access_log=None,
                   **wrk_setup)
    large = size == "large"
    results, bare_rows, notes = [], [], []
    try:
        # A short warm-up so every worker has its connections and imports.
        project.run("warmup", "/api/ping", None, wrk_env)
        if large:
            ceiling.run("warmup bare", "/api/ping", None, wrk_env)
            bare_rows.append(ceiling.run(f"{report.BARE} (start)", "/api/ping", None, wrk_env))
        for endpoint in ENDPOINTS:
            if large or endpoint.small:
                measure_endpoint(project, endpoint, database, out, wrk_env, results, notes)
        if large:
            bare_rows.append(ceiling.run(f"{report.BARE} (end)", "/api/ping", None, wrk_env))
    finally:
        stop([web, fake])
    return results, bare_rows, notes


def main():
    if not shutil.which("wrk"):
        sys.exit("wrk is missing: apt-get install -y wrk")
    started = time.monotonic()
    bare = start_bare()
    try:
        large, bare_rows, large_notes = measure("large", bare)
        small, _, small_notes = measure("small", bare)
    finally:
        stop([bare])
    ceiling = report.ceiling(bare_rows)
    large_rows = [bare_rows[0], *large, bare_rows[-1]]
    report.add_ratios(large_rows, ceiling["mean"])
    report.add_ratios(small, ceiling["mean"])
    ratios = report.scaling(large, small)
    inputs = report.capacity(large)

    print(f"\nserver: {SERVER}, {WORKERS} workers{f' x {THREADS} threads' if SERVER == 'wsgi' else ''}; "
          f"{CONNECTIONS} connections, {DURATION} a run. /bare: over the bare DRF ceiling, the mean of its "
          f"runs at the start and the end of the large pass ({ceiling['start']:.0f} and {ceiling['end']:.0f} "
          f"req/s: drift {ceiling['drift']:+.0%}); /ping: over this pass's GET /api/ping.")
    for size, rows, notes in (("large", large_rows, large_notes), ("small", small, small_notes)):
        seeded = SIZES[size]
        title = (f"\n{size} database ({seeded['users']} users, {seeded['users'] * seeded['videos-per-user']} "
                 f"videos, {seeded['users'] * seeded['ledger-per-user']} ledger rows; "
                 f"{min(POLL_USERS, seeded['users'])} more users with {FRESH_JOBS} + {DUE_JOBS} status jobs)")
        print(report.table(title, rows, notes))
    print()
    print(report.scaling_lines(ratios))
    print()
    print(report.capacity_lines(inputs))
    phones = None
    if PHONE_STEPS:
        print("\nmixed workload (bench/phones.py): simulated phones, ramped until p99 > 250 ms or an error")
        # bench/phones.py imports this module as `run`: the running copy, not a second one with new secrets.
        sys.modules.setdefault("run", sys.modules[__name__])
        import phones as phone_ramp

        phones = phone_ramp.run_ramp(steps=PHONE_STEPS, step_seconds=PHONE_STEP_SECONDS)
    (WORKDIR / "results.json").write_text(json.dumps(
        {"server": SERVER, "workers": WORKERS, "threads": THREADS, "connections": CONNECTIONS,
         "duration": DURATION, "scale": SCALE, "ceiling": ceiling, "large": large_rows, "small": small,
         "scaling": ratios, "capacity": inputs, "phones": phones}, indent=2))
    # The uploads' files: nothing reads them afterwards.
    shutil.rmtree(WORKDIR / "media", ignore_errors=True)
    print(f"\nraw results: {WORKDIR / 'results.json'} (wrk output: wrk.log); total {time.monotonic() - started:.0f}s")


if __name__ == "__main__":
    main()
