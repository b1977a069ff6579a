"""Load benchmark: gunicorn with production settings on PostgreSQL and Redis, wrk on loopback.

Seeds a large database (many users, 100k videos, 1M ledger rows) and one 100 times smaller, measures
a bare ceiling endpoint and the main endpoints at 64 connections, and prints one table per size plus
the scaling ratio. Run with `make bench`; not part of `make test`.
"""

import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
PY = sys.executable
PG = "postgres://postgres@127.0.0.1:5432"
DB_PREFIX = os.environ.get("BENCH_DB_PREFIX", "aiasmr_bench")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
# asgi (the default: gunicorn with uvicorn workers, what the image runs) or wsgi (gthread, the old stack).
SERVER = os.environ.get("BENCH_SERVER", "asgi")
PORT = int(os.environ.get("BENCH_PORT", "8900"))
FAKE_KIE_PORT = PORT + 1
DURATION = os.environ.get("BENCH_DURATION", "10s")
CONNECTIONS = int(os.environ.get("BENCH_CONNECTIONS", "64"))
WORKERS = os.environ.get("BENCH_WORKERS", "4")
THREADS = os.environ.get("BENCH_THREADS", "4")
# BENCH_SCALE shrinks both databases (e.g. 0.05 for a quick check of the harness itself).
SCALE = float(os.environ.get("BENCH_SCALE", "1"))
SIZES = {
    "large": {"users": max(10, int(10_000 * SCALE)), "videos-per-user": 10, "ledger-per-user": 100},
    "small": {"users": max(1, int(100 * SCALE)), "videos-per-user": 10, "ledger-per-user": 100},
}


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


def psql(sql: str):
    subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-q", "-c", sql], check=True,
                   stdout=subprocess.DEVNULL)


def prepare(size: str) -> tuple[str, Path]:
    database = f"{DB_PREFIX}_{size}"
    psql(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")
    psql(f"CREATE DATABASE {database}")
    env = base_env(database)
    run([PY, "manage.py", "migrate", "--noinput", "-v", "0"], env)
    out = WORKDIR / size
    args = [f"--{key}={value}" for key, value in SIZES[size].items()]
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


def start_server(database: str) -> list[subprocess.Popen]:
    env = base_env(database)
    run([PY, "manage.py", "collectstatic", "--noinput", "-v", "0"], env)
    log = open(WORKDIR / f"{database}.log", "w")  # noqa: SIM115 - closed with the process
    fake = subprocess.Popen([PY, "manage.py", "fake_kie", "--port", str(FAKE_KIE_PORT)], cwd=ROOT, env=env,
                            stdout=log, stderr=log)
    if SERVER == "wsgi":
        app = ["aiasmr.wsgi:application", "--worker-class", "gthread", "--threads", THREADS]
    else:
        app = ["aiasmr.asgi:application", "--worker-class", "uvicorn_worker.UvicornWorker"]
    web = subprocess.Popen(
        [str(Path(PY).parent / "gunicorn"), *app, "--bind", f"127.0.0.1:{PORT}",
         "--workers", WORKERS, "--backlog", "2048", "--log-level", "warning"],
        cwd=ROOT, env=env, stdout=log, stderr=log,
    )
    wait_http(f"http://127.0.0.1:{PORT}/api/health/live")
    return [web, fake]


def stop(processes):
    for process in processes:
        process.send_signal(signal.SIGTERM)
    for process in processes:
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()


UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def _ms(text: str) -> float:
    match = re.match(r"([\d.]+)(us|ms|s|m)$", text)
    return float(match.group(1)) * UNITS[match.group(2)] if match else float("nan")


def wrk(name: str, path: str, script: str | None, env: dict) -> dict:
    cmd = ["wrk", "-t2", f"-c{CONNECTIONS}", f"-d{DURATION}", "--latency", "--timeout", "10s"]
    if script:
        cmd += ["-s", str(BENCH / "lua" / script)]
    cmd.append(f"http://127.0.0.1:{PORT}{path}")
    output = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True).stdout
    with open(WORKDIR / "wrk.log", "a") as log:
        log.write(f"== {name}\n{output}\n")
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    # Anchored at the line start: "Req/Sec ... 66.50%" also contains "50%".
    p50 = _ms(re.search(r"^\s+50%\s+(\S+)", output, re.M).group(1))
    p99 = _ms(re.search(r"^\s+99%\s+(\S+)", output, re.M).group(1))
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    sockets = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    errors = (int(non_2xx.group(1)) if non_2xx else 0) + (sum(map(int, sockets.groups())) if sockets else 0)
    return {"name": name, "rps": rps, "p50": p50, "p99": p99, "errors": errors}


def measure(size: str, reads_only: bool) -> list[dict]:
    database, out = prepare(size)
    wrk_env = dict(os.environ, BENCH_DIR=str(BENCH), BENCH_TOKENS=str(out / "tokens.txt"),
                   BENCH_TASKS=str(out / "tasks.txt"), BENCH_FILE_BASE=f"http://127.0.0.1:{FAKE_KIE_PORT}")
    processes = start_server(database)
    try:
        # A short warm-up so every worker has its connections and imports.
        wrk("warmup", "/api/ping", None, wrk_env)
        results = [
            wrk("ceiling GET /api/ping", "/api/ping", None, wrk_env),
            wrk("GET /api/credits/balance", "/api/credits/balance", "get_auth.lua", wrk_env),
            wrk("GET /api/videos", "/api/videos?page=1&limit=20", "get_auth.lua", wrk_env),
            wrk("GET /api/credits/history", "/api/credits/history?page=1&limit=50", "get_auth.lua", wrk_env),
        ]
        if not reads_only:
            results.append(wrk("POST /api/generate", "/api/generate", "generate.lua", wrk_env))
            results.append(wrk("POST /api/kie-callback", f"/api/kie-callback?secret={CALLBACK_SECRET}", "callback.lua", wrk_env))
            results.append(wrk("ceiling again", "/api/ping", None, wrk_env))
    finally:
        stop(processes)
    return results


# Share of the ceiling each endpoint should reach (bench/README.md).
TARGETS = {"GET": 0.5, "POST": 0.3}


def table(size: str, results: list[dict]) -> str:
    ceiling = results[0]["rps"]
    lines = [f"\n{size} database ({SIZES[size]['users']} users, "
             f"{SIZES[size]['users'] * SIZES[size]['videos-per-user']} videos, "
             f"{SIZES[size]['users'] * SIZES[size]['ledger-per-user']} ledger rows), "
             f"{CONNECTIONS} connections, {DURATION} each",
             f"{'endpoint':32} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'p99/p50':>8} {'errors':>7} {'/ceiling':>9}"
             f"  target"]
    for r in results:
        ratio = r["rps"] / ceiling if ceiling else 0
        target = TARGETS.get(r["name"].split()[0]) if not r["name"].startswith("ceiling") else None
        verdict = "" if target is None else f"  >= {target}: {'met' if ratio >= target else 'NOT met'}"
        lines.append(f"{r['name']:32} {r['rps']:9.0f} {r['p50']:8.2f} {r['p99']:8.2f} "
                     f"{r['p99'] / r['p50'] if r['p50'] else 0:8.1f} {r['errors']:7d} {ratio:9.2f}{verdict}")
    return "\n".join(lines)


def main():
    if not shutil.which("wrk"):
        sys.exit("wrk is missing: apt-get install -y wrk")
    started = time.monotonic()
    large = measure("large", reads_only=False)
    small = measure("small", reads_only=True)
    print(f"server: {SERVER}")
    print(table("large", large))
    print(table("small", small))
    print("\nscaling (small-database req/s over large-database req/s, target <= 1.3):")
    by_name = {r["name"]: r for r in large}
    for r in small[1:]:
        print(f"  {r['name']:30} {r['rps'] / by_name[r['name']]['rps']:.2f}")
    (WORKDIR / "results.json").write_text(json.dumps({"large": large, "small": small}, indent=2))
    print(f"\nraw results: {WORKDIR / 'results.json'}; total {time.monotonic() - started:.0f}s")


if __name__ == "__main__":
    main()
