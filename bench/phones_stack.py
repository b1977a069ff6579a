"""The phones benchmark's stack (bench/phones.py): its database, the server, the task workers and the fake
KIE, and the probe that samples CPU by role and the task queue at each step's edges."""

import json
import resource
import shutil
import subprocess
import urllib.request
from pathlib import Path

import psycopg
import run  # bench/run.py: base_env, start_server, stop and its settings (ports, workers, paths)
from procstat import TICKS, CpuSampler

TASK_TABLE = "django_tasks_database_dbtaskresult"  # django_tasks_db.DBTaskResult


class Probe:
    """CPU by role, the machine's CPU, the client's own CPU and the task queue, sampled at step edges."""

    ROLE_NAMES = {"postgres": "postgres", "redis": "redis-server"}
    SERVICES = ("web", "postgres", "redis", "task workers", "fake KIE", "client")

    def __init__(self, *, database: str, web: int, fake_kie: int, workers: list[int]):
        self.connection = psycopg.connect(f"{run.PG}/{database}", autocommit=True)
        self.database, self.trees = database, {"web": [web], "fake KIE": [fake_kie], "task workers": workers}

    def sample(self) -> dict:
        with self.connection.cursor() as cursor:
            cursor.execute(f"SELECT count(*) FROM {TASK_TABLE} WHERE status = 'READY' AND run_after <= now()")
            backlog = cursor.fetchone()[0]
            cursor.execute("SELECT pid FROM pg_stat_activity WHERE datname = %s", [self.database])
            backends = [row[0] for row in cursor.fetchall()]
        groups = CpuSampler({**self.trees, "postgres (this db)": backends}, self.ROLE_NAMES).snapshot()
        usage = resource.getrusage(resource.RUSAGE_SELF)
        with open("/proc/stat") as stat:
            fields = [int(value) for value in stat.readline().split()[1:]]
        # user nice system idle iowait irq softirq steal: busy is what ran, steal what the host took.
        return {"groups": groups, "backlog": backlog, "client": usage.ru_utime + usage.ru_stime,
                "busy": sum(fields[i] for i in (0, 1, 2, 5, 6)) / TICKS, "steal": fields[7] / TICKS}

    def spent(self, before: dict, after: dict) -> dict[str, float]:
        spent = CpuSampler.spent(before["groups"], after["groups"])
        spent["client"] = after["client"] - before["client"]
        spent["machine"] = after["busy"] - before["busy"]
        spent["steal"] = after["steal"] - before["steal"]
        spent["other"] = max(0.0, spent["machine"] - sum(spent.get(role, 0.0) for role in self.SERVICES))
        return spent

    def close(self) -> None:
        self.connection.close()


def psql(sql: str) -> None:
    subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-q", "-c", sql], check=True,
                   stdout=subprocess.DEVNULL)


def drop_database(database: str) -> None:
    psql(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


def database_name() -> str:
    return f"{run.DB_PREFIX}_phones"


def prepare_database(database: str, *, phones: int, scale: float) -> list[str]:
    """The phone users (one token each) among int(10,000 x scale) seeded users with videos and ledgers;
    returns their tokens."""
    drop_database(database)
    psql(f'CREATE DATABASE "{database}"')  # quoted: a prefix may hold capitals
    env = run.base_env(database)
    subprocess.run([run.PY, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=run.ROOT, env=env, check=True)
    out = run.WORKDIR / "phones"
    users = max(phones, int(10_000 * scale))
    print(f"[phones] seeding {users} users ({phones} with a token) ...", flush=True)
    subprocess.run([run.PY, "bench/seed.py", f"--users={users}", "--videos-per-user=10", "--ledger-per-user=50",
                    f"--token-users={phones}", "--callback-tasks=0", "--out", str(out)],
                   cwd=run.ROOT, env=env, check=True)
    tokens = [line for line in (out / "tokens.txt").read_text().splitlines() if line]
    if len(tokens) < phones:
        raise RuntimeError(f"seeded {len(tokens)} tokens for {phones} phones")
    return tokens


def start_stack(database: str, processes: dict[str, list[subprocess.Popen]], *, web_workers: int,
                task_workers: int, worker_interval: float, job_seconds: float, keep_alive: int) -> None:
    """Fake KIE, web server and task workers, recorded in `processes` as they start (the caller stops them).

    Not bench/run.py's start_server: under its production environment `manage.py fake_kie` does not
    exist (devtools is a development app), so its fake KIE exits at once; here the fake KIE runs with
    development settings. The web server is bin/serve, what the image runs: gunicorn with uvicorn
    workers, keep-alive 75 s, Prometheus metrics in a directory shared with the task workers (as
    `make run` shares it).
    """
    env = run.base_env(database)
    metrics = run.WORKDIR / "phones-metrics"
    shutil.rmtree(metrics, ignore_errors=True)
    metrics.mkdir()
    env["PROMETHEUS_MULTIPROC_DIR"] = str(metrics)
    subprocess.run([run.PY, "manage.py", "collectstatic", "--noinput", "-v", "0"], cwd=run.ROOT, env=env,
                   check=True)
    log = open(run.WORKDIR / "phones-stack.log", "w")  # noqa: SIM115 - closed with the processes
    kie_env = {**env, "DJANGO_ENV": "development"}
    processes["fake"] = [subprocess.Popen(
        [run.PY, "manage.py", "fake_kie", "--port", str(run.FAKE_KIE_PORT), "--job-seconds", str(job_seconds)],
        cwd=run.ROOT, env=kie_env, stdout=log, stderr=log)]
    serve_env = {**env, "GUNICORN": str(Path(run.PY).parent / "gunicorn"), "WEB_CONCURRENCY": str(web_workers),
                 "BIND": f"127.0.0.1:{run.PORT}", "KEEP_ALIVE": str(keep_alive)}
    processes["web"] = [subprocess.Popen(
        [str(run.ROOT / "bin" / "serve"), "--backlog", "2048", "--log-level", "warning"],
        cwd=run.ROOT, env=serve_env, stdout=log, stderr=log)]
    processes["workers"] = [
        subprocess.Popen([run.PY, "manage.py", "db_worker", "--interval", str(worker_interval)],
                         cwd=run.ROOT, env=env, stdout=log, stderr=log)
        for _ in range(task_workers)
    ]
    run.wait_http(f"http://127.0.0.1:{run.FAKE_KIE_PORT}/_fake/state")
    run.wait_http(f"http://127.0.0.1:{run.PORT}/api/health/live", timeout=60)


def fake_kie(port: int, path: str, body: dict | None = None) -> dict:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=data,
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310 - loopback only
        return json.loads(answer.read())


def kie_summary(port: int) -> dict:
    """What the fake KIE did: jobs, and its callbacks by outcome ("sent 200": the API's answer; "pending":
    still on its way when the ramp ended)."""
    state = fake_kie(port, "/_fake/state")
    outcomes: dict[str, int] = {}
    for callback in state["callbacks"]:
        key = f"sent {callback['answer']}" if callback["status"] == "sent" else str(callback["status"])
        outcomes[key] = outcomes.get(key, 0) + 1
    return {"jobs": len(state["jobs"]), "callbacks": len(state["callbacks"]), "callback_outcomes": outcomes}
