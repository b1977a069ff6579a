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
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

if __package__ in (None, ""):  # run as a script (bench/soak.py): make the `bench` package importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.chaos.clients import Client, Stats  # noqa: E402
from bench.chaos.cluster import PG_BIN, PrivatePostgres, Service, available  # noqa: E402
from bench.chaos.common import ROOT, say  # noqa: E402
from bench.chaos.faults import inject_faults, staff_refunds  # noqa: E402
from bench.chaos.proof import passed, prove, settle  # noqa: E402


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
