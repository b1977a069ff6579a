"""Mixed-workload capacity ramp: simulated phones doing what the shipped app does, against the whole stack.

`python bench/phones.py [--steps 25,50,100 --step-seconds 60 --workers 4 --task-workers 2 --scale 0.1]`
prepares `<BENCH_DB_PREFIX>_phones` (the phone users, each with a token, among int(10,000 x scale)
seeded users with 10 videos and 50 ledger rows each), starts the web server as the image does (bin/serve:
gunicorn with uvicorn workers, keep-alive 75 s, Prometheus metrics) with bench/run.py's production
environment (PostgreSQL, Redis, rate limits raised, the counting still on), the fake KIE and
`manage.py db_worker` task workers (default interval 1 s, as production), ramps the phones, stops
everything it started and drops the database. `run_ramp(...)` does the same for a caller (bench/run.py)
and returns the result. Ports and Redis index come from bench/run.py's BENCH_PORT (API; the fake KIE on
the next port), BENCH_REDIS_URL and BENCH_DB_PREFIX.

A phone (one asyncio task, one keep-alive connection, its own user and token) loops:
  1. opens the app: GET /api/user/profile, /api/credits/balance, /api/videos?page=1&limit=20 and
     /api/models (--no-models drops the last), one after another on its connection;
  2. in --generate-share of the sessions, starts a Runway text generation (POST /api/generate with an
     Idempotency-Key), polls GET /api/generate/status/<taskId> every --poll-seconds until it is completed
     or failed, then opens the finished video (GET /api/videos/<id>);
  3. idles for an exponentially distributed time of mean --session-interval, and starts again.
New phones begin with such an idle time too, so a step's phones open the app spread out, at the rate
they keep. A job goes the production way: the API enqueues the submission, a task worker sends it to the
fake KIE, which answers at once, finishes the job after --job-seconds (default 30: real Runway jobs take
1-3 minutes; short keeps steps short) and POSTs its callback to the API; the callback enqueues the media
copy, which a task worker downloads from the fake KIE. A poll of a job with no news for 30 s asks KIE's
record (GENERATION_STATUS_REFRESH_SECONDS), as in production.

ASSUMPTIONS (flags, not measurements of real users). With the defaults (mean idle 60 s, 20 % of sessions
generate, 5 s polls, 30 s jobs) a generation is seen done after about 7 polls (~35 s), so one phone's
cycle is 60 + 0.2 x 35 = 67 s and it sends (4 + 0.2 x (1 + 7 + 1)) / 67 = 0.087 requests/s and starts
0.2 x 3600 / 67 = 10.7 generations/hour (one every ~5.6 minutes): a heavily engaged user with the app
open. To re-derive a capacity plan, convert real traffic to phones by either figure: phones =
peak API requests/s / 0.087, or peak generations/hour / 10.7 (the script prints the rates its flags
imply, and each step's measured requests/s and generations/hour per phone).

Per step (--steps, each held --step-seconds after --warmup-seconds whose requests are not counted):
requests/s, p50/p99 overall and per endpoint kind, errors (non-2xx or no answer), generations started,
ready, failed, the median time from POST /generate to the poll that saw it completed (so rounded up to
a poll: about --job-seconds plus submission, copy and up to one poll interval), the task queue's
backlog (READY rows due in django_tasks_database_dbtaskresult) at the start and end, and the CPU of each
role in % of one core (bench/procstat.py): web (gunicorn tree), postgres (every `postgres` process on
the machine, and this database's backends), redis-server, task workers, fake KIE, the client itself,
the machine and what else ran on it ("other": a shared machine's other load). The ramp stops after the first step that fails (p99 > 250 ms, or any error or failed
generation); it prints the largest number of phones held and what saturates first. Not part of
`make test`; on a shared machine the figures only check the harness.
"""

import argparse
import asyncio
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import time
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import phones_report as report  # noqa: E402
import phones_stack as stack  # noqa: E402
import run  # noqa: E402 - bench/run.py: its settings (ports, workers, paths) and stop
from phones_client import Connection, TransportError  # noqa: E402

DEFAULT_STEPS = (25, 50, 100, 200, 400, 800, 1600)
PROMPTS = [
    ("Soft soap cutting with gentle crunchy sounds", ["soap"]),
    ("Slow honey dripping onto a wooden spoon, close up", ["honey"]),
    ("Crisp ice cubes cracking in a glass, macro shot", ["ice"]),
    ("Turning the pages of an old book by a window", ["pages"]),
]


@dataclass
class Behaviour:
    session_interval: float = 60.0  # mean idle seconds between sessions (exponential)
    generate_share: float = 0.2  # share of sessions that start a generation
    poll_seconds: float = 5.0
    open_models: bool = True
    give_up_seconds: float = 600.0  # a phone stops polling a job after this long

    def implied(self, *, job_seconds: float, overhead: float = 2.0) -> dict:
        """Requests/s and generations/hour one phone sends, expected from these flags (overhead: the
        submission and copy around KIE's job time)."""
        polls = -(-(job_seconds + overhead) // self.poll_seconds)
        cycle = self.session_interval + self.generate_share * polls * self.poll_seconds
        opened = 4 if self.open_models else 3
        requests = opened + self.generate_share * (polls + 2)
        return {"requests_per_second": round(requests / cycle, 4), "polls_per_generation": int(polls),
                "generations_per_hour": round(3600 * self.generate_share / cycle, 2),
                "cycle_seconds": round(cycle, 1)}


class Phones:
    """The phones: one task and one connection each; `ramp` adds them step by step and measures."""

    def __init__(self, *, port: int, tokens: list[str], behaviour: Behaviour, seed: int, probe):
        self.port, self.tokens, self.behaviour, self.seed, self.probe = port, tokens, behaviour, seed, probe
        self.window: report.Window | None = None
        self.in_flight = 0
        self.connections: list[Connection] = []
        self.tasks: list[asyncio.Task] = []

    async def call(self, connection: Connection, kind: str, method: str, path: str, token: str, *,
                   body: bytes = b"", headers: dict | None = None):
        started = time.monotonic()
        try:
            response = await connection.request(method, path, body=body,
                                                headers={"Authorization": f"Bearer {token}", **(headers or {})})
        except TransportError as exc:
            if self.window is not None:
                self.window.request(kind, (time.monotonic() - started) * 1000, None, str(exc))
            return None
        if self.window is not None:
            self.window.request(kind, (time.monotonic() - started) * 1000, response.status)
        return response if 200 <= response.status < 300 else None

    async def phone(self, index: int) -> None:
        rng = random.Random(self.seed * 1_000_003 + index)
        token = self.tokens[index]
        connection = Connection("127.0.0.1", self.port)
        self.connections.append(connection)
        behaviour = self.behaviour
        try:
            await asyncio.sleep(rng.expovariate(1 / behaviour.session_interval))
            while True:
                await self.call(connection, "profile", "GET", "/api/user/profile", token)
                await self.call(connection, "balance", "GET", "/api/credits/balance", token)
                await self.call(connection, "videos", "GET", "/api/videos?page=1&limit=20", token)
                if behaviour.open_models:
                    await self.call(connection, "models", "GET", "/api/models", token)
                if rng.random() < behaviour.generate_share:
                    await self.generate(connection, token, rng)
                await asyncio.sleep(rng.expovariate(1 / behaviour.session_interval))
        finally:
            connection.close()

    async def generate(self, connection: Connection, token: str, rng: random.Random) -> None:
        prompt, triggers = rng.choice(PROMPTS)
        body = json.dumps({"prompt": prompt, "triggers": triggers, "model": "runway", "duration": 5,
                           "quality": "720p"}).encode()
        started = time.monotonic()
        response = await self.call(connection, "generate", "POST", "/api/generate", token, body=body,
                                   headers={"Content-Type": "application/json", "Idempotency-Key": uuid.uuid4().hex})
        if response is None:
            return
        data = response.json()["data"]
        if self.window is not None:
            self.window.generations_started += 1
        self.in_flight += 1
        try:
            while time.monotonic() - started < self.behaviour.give_up_seconds:
                await asyncio.sleep(self.behaviour.poll_seconds)
                answer = await self.call(connection, "status", "GET", f"/api/generate/status/{data['taskId']}", token)
                status = answer.json()["data"]["status"] if answer is not None else None
                if status == "completed":
                    if self.window is not None:
                        self.window.generations_ready.append(time.monotonic() - started)
                    await self.call(connection, "video", "GET", f"/api/videos/{data['videoId']}", token)
                    return
                if status == "failed":
                    if self.window is not None:
                        self.window.generations_failed += 1
                    return
            if self.window is not None:
                self.window.generations_abandoned += 1
        finally:
            self.in_flight -= 1

    async def watch_loop(self) -> None:
        """How late the event loop runs a 100 ms timer: past a few ms the client itself is the bottleneck."""
        while True:
            before = time.monotonic()
            await asyncio.sleep(0.1)
            if self.window is not None:
                self.window.loop_lag_ms.append((time.monotonic() - before - 0.1) * 1000)

    async def ramp(self, steps: list[int], *, warmup: float, hold: float, role_limits: dict) -> list[dict]:
        watcher = asyncio.create_task(self.watch_loop())
        results = []
        print(report.step_header(), flush=True)
        try:
            for target in steps:
                while len(self.tasks) < target:
                    self.tasks.append(asyncio.create_task(self.phone(len(self.tasks))))
                await asyncio.sleep(warmup)
                before = await asyncio.to_thread(self.probe.sample)
                connects = sum(c.connects for c in self.connections), sum(c.retries for c in self.connections)
                self.window, started = report.Window(), time.monotonic()
                await asyncio.sleep(hold)
                window, self.window = self.window, None
                seconds = time.monotonic() - started
                after = await asyncio.to_thread(self.probe.sample)
                step = report.summarise(
                    window, phones=target, seconds=seconds, cpu_seconds=self.probe.spent(before, after),
                    backlog=(before["backlog"], after["backlog"]), in_flight=self.in_flight,
                    connects=sum(c.connects for c in self.connections) - connects[0],
                    retries=sum(c.retries for c in self.connections) - connects[1])
                step["pressure"] = report.pressure(step, role_limits)[:3]
                results.append(step)
                print(report.step_line(step), flush=True)
                print(report.kinds_line(step), flush=True)
                if step["error_kinds"]:
                    print(f"        errors: {step['error_kinds']}", flush=True)
                if step["client_loop_lag_p99_ms"] > report.LOOP_LAG_LIMIT_MS:
                    print(f"        the client's event loop ran {step['client_loop_lag_p99_ms']:.0f} ms late (p99): "
                          "latencies include the client's own delay", flush=True)
                if not step["held"]:
                    break
        finally:
            for task in [*self.tasks, watcher]:
                task.cancel()
            await asyncio.gather(*self.tasks, watcher, return_exceptions=True)
        return results


def _loop_factory():
    """uvloop when the venv has it (it does: uvicorn's): the client shares the machine, so it should be cheap."""
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop


def run_ramp(*, steps: list[int] = DEFAULT_STEPS, step_seconds: float = 60, warmup_seconds: float = 20,
             workers: int | None = None, task_workers: int = 2, worker_interval: float = 1.0,
             scale: float = 0.1, job_seconds: float = 30, keep_alive: int = 75,
             behaviour: Behaviour | None = None, seed: int = 1, out: Path | None = None,
             keep_db: bool = False) -> dict:
    """Prepare, start the stack, ramp, stop it and drop the database; returns (and writes) the result."""
    behaviour = behaviour or Behaviour()
    web_workers = int(workers or run.WORKERS)
    steps = sorted(steps)
    implied = behaviour.implied(job_seconds=job_seconds)
    print(f"[phones] one phone is expected to send {implied['requests_per_second']} requests/s and start "
          f"{implied['generations_per_hour']} generations/hour ({implied['polls_per_generation']} polls each, "
          f"a {implied['cycle_seconds']} s cycle)", flush=True)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < steps[-1] + 1024:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, steps[-1] * 2 + 1024), hard))
    database = stack.database_name()
    processes: dict[str, list[subprocess.Popen]] = {}
    probe = None
    try:
        tokens = stack.prepare_database(database, phones=steps[-1], scale=scale)
        stack.start_stack(database, processes, web_workers=web_workers, task_workers=task_workers,
                          worker_interval=worker_interval, job_seconds=job_seconds, keep_alive=keep_alive)
        probe = stack.Probe(database=database, web=processes["web"][0].pid, fake_kie=processes["fake"][0].pid,
                            workers=[process.pid for process in processes["workers"]])
        role_limits = report.limits(cores=os.cpu_count() or 1, web_workers=web_workers, task_workers=task_workers)
        phones = Phones(port=run.PORT, tokens=tokens, behaviour=behaviour, seed=seed, probe=probe)
        print(f"[phones] ramp {steps}: {warmup_seconds:g} s warm-up + {step_seconds:g} s per step, "
              f"{web_workers} web workers, {task_workers} task workers", flush=True)
        with asyncio.Runner(loop_factory=_loop_factory()) as runner:
            results = runner.run(phones.ramp(steps, warmup=warmup_seconds, hold=step_seconds, role_limits=role_limits))
        kie = stack.kie_summary(run.FAKE_KIE_PORT)
    finally:
        if probe is not None:
            probe.close()
        run.stop([*processes.get("workers", []), *processes.get("web", []), *processes.get("fake", [])])
        if not keep_db:
            stack.drop_database(database)
        shutil.rmtree(run.WORKDIR / "media", ignore_errors=True)
    outcome = report.verdict(results, role_limits)
    result = {"behaviour": asdict(behaviour), "implied_per_phone": implied, "job_seconds": job_seconds,
              "web_workers": web_workers, "task_workers": task_workers, "steps": results, "kie": kie, **outcome}
    out = out or run.WORKDIR / "phones.json"
    out.write_text(json.dumps(result, indent=2))
    print(f"\nlargest number of phones held (p99 <= {report.P99_LIMIT_MS:.0f} ms, no errors): "
          f"{outcome['largest_phones_held']}")
    print(f"what saturates first (at {outcome['judged_at_phones']} phones): {outcome['saturates_first']}")
    print(f"fake KIE: {kie['jobs']} jobs, {kie['callbacks']} callbacks, {kie['callback_outcomes']}")
    print(f"steps: {out}")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", default=",".join(map(str, DEFAULT_STEPS)), help="phones per step")
    parser.add_argument("--step-seconds", type=float, default=60)
    parser.add_argument("--warmup-seconds", type=float, default=20)
    parser.add_argument("--workers", type=int, default=None, help="web workers (default BENCH_WORKERS or 4)")
    parser.add_argument("--task-workers", type=int, default=2)
    parser.add_argument("--worker-interval", type=float, default=1.0, help="db_worker's poll interval")
    parser.add_argument("--scale", type=float, default=0.1, help="seeded users: max(phones, 10,000 x scale)")
    parser.add_argument("--job-seconds", type=float, default=30, help="the fake KIE's job time")
    parser.add_argument("--keep-alive", type=int, default=75, help="gunicorn's idle keep-alive (bin/serve: 75)")
    parser.add_argument("--session-interval", type=float, default=60, help="mean idle seconds between sessions")
    parser.add_argument("--generate-share", type=float, default=0.2, help="share of sessions that generate")
    parser.add_argument("--poll-seconds", type=float, default=5)
    parser.add_argument("--no-models", action="store_true", help="opening the app skips GET /api/models")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, default=None, help="JSON of all steps")
    parser.add_argument("--keep-db", action="store_true")
    args = parser.parse_args()
    behaviour = Behaviour(session_interval=args.session_interval, generate_share=args.generate_share,
                          poll_seconds=args.poll_seconds, open_models=not args.no_models)
    run_ramp(steps=[int(n) for n in args.steps.split(",")], step_seconds=args.step_seconds,
             warmup_seconds=args.warmup_seconds, workers=args.workers, task_workers=args.task_workers,
             worker_interval=args.worker_interval, scale=args.scale, job_seconds=args.job_seconds,
             keep_alive=args.keep_alive, behaviour=behaviour, seed=args.seed, out=args.out, keep_db=args.keep_db)


if __name__ == "__main__":
    main()
