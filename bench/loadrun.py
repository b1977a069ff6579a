"""One wrk run and what it cost: requests, latency percentiles, errors, and CPU ms per request of the
web server's process tree, PostgreSQL (every `postgres` process) and Redis (`redis-server`).

The CPU is sampled over a window inside the run (from 20 % to 90 % of it), once the connections are
busy and before wrk stops, and divided by the requests completed in that window. Dividing the whole
run's CPU by wrk's "N requests in" would charge each request for the ramp-up and for the requests still
in flight at the end (64 of them: several seconds' worth on a slow endpoint such as an upload). The
service logs an access line per answer, with its time: the window's count comes from there. The bare
project logs nothing and answers within milliseconds: its count is wrk's rate times the window.

Before and after each run the harness waits for the web server to be idle: requests in flight when wrk
stops are still served (their client gone), and would otherwise land in the next run.
"""

import json
import re
import subprocess
import time
from datetime import datetime
from pathlib import Path

from procstat import CpuSampler

UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}
# The CPU groups of every run: "web" is the server under test, "kie" the fake KIE when there is one.
CPU_GROUPS = ("web", "pg", "redis", "kie")
WINDOW = (0.2, 0.9)
# Fewer completions than this inside the window make the CPU per request a guess (a short run of a slow
# endpoint): the result says so and the tables print no CPU figures for it.
MIN_WINDOW_REQUESTS = 30
# Idle: the web tree used under 5% of a core over DRAIN_STEP seconds, twice in a row.
DRAIN_STEP = 0.3
DRAIN_IDLE_SHARE = 0.05
DRAIN_TIMEOUT = 120


def _ms(text: str) -> float:
    match = re.match(r"([\d.]+)(us|ms|s|m)$", text)
    return float(match.group(1)) * UNITS[match.group(2)] if match else float("nan")


def seconds(duration: str) -> float:
    """wrk's -d: "10s", "2m", "1h" or plain seconds."""
    match = re.fullmatch(r"([\d.]+)([smh]?)", duration)
    return float(match.group(1)) * {"": 1, "s": 1, "m": 60, "h": 3600}[match.group(2)]


def parse_wrk(output: str) -> dict:
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    requests = int(re.search(r"(\d+) requests in", output).group(1))
    # Anchored at the line start: "Req/Sec ... 66.50%" also contains "50%".
    p50 = _ms(re.search(r"^\s+50%\s+(\S+)", output, re.M).group(1))
    p99 = _ms(re.search(r"^\s+99%\s+(\S+)", output, re.M).group(1))
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    sockets = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    return {"rps": rps, "requests": requests, "p50": p50, "p99": p99,
            "non_2xx": int(non_2xx.group(1)) if non_2xx else 0,
            "socket_errors": sum(map(int, sockets.groups())) if sockets else 0}


def parse_access_log(text: str, window: tuple[float, float]) -> dict:
    """What the service logged: its answers in the CPU window, the non-2xx answers of the whole run, and
    unhandled errors with no access line (a request that failed before its user could be read, e.g.
    with no database connection to be had, is answered 500 without one)."""
    answered, unhandled, in_window = {}, set(), 0
    for line in text.splitlines():
        if not line.startswith("{"):
            continue
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if entry.get("event") == "access":
            answered[entry.get("request_id")] = int(entry.get("status") or 0)
            # The logging module's asctime: local time, milliseconds after a comma.
            logged = datetime.strptime(entry["time"], "%Y-%m-%d %H:%M:%S,%f").timestamp()
            in_window += window[0] <= logged < window[1]
        elif entry.get("event") == "unhandled_error":
            unhandled.add(entry.get("request_id"))
    failed = sum(not 200 <= status < 300 for status in answered.values())
    return {"window_requests": in_window, "server_non_2xx": failed,
            "unlogged_errors": len(unhandled - set(answered))}


class Load:
    """wrk against one server (`base_url`, its gunicorn master `web_pid`), with the CPU of each run."""

    def __init__(self, *, base_url: str, web_pid: int, kie_pid: int | None, wrk_args: list[str],
                 duration: str, lua_dir: Path, wrk_log: Path, access_log: Path | None):
        self.base_url = base_url
        self.wrk_args = [*wrk_args, f"-d{duration}"]
        self.duration = seconds(duration)
        self.lua_dir = lua_dir
        self.wrk_log = wrk_log
        self.access_log = access_log
        trees = {"web": [web_pid], "kie": [kie_pid] if kie_pid else []}
        self.sampler = CpuSampler(trees=trees, names={"pg": "postgres", "redis": "redis-server"})
        self.web = CpuSampler(trees={"web": [web_pid]})

    def drain(self) -> float:
        """Waits until the web server is idle; the seconds it took."""
        started = time.monotonic()
        previous, idle_steps = self.web.snapshot(), 0
        while idle_steps < 2 and time.monotonic() - started < DRAIN_TIMEOUT:
            time.sleep(DRAIN_STEP)
            current = self.web.snapshot()
            busy = CpuSampler.spent(previous, current)["web"]
            idle_steps = idle_steps + 1 if busy < DRAIN_STEP * DRAIN_IDLE_SHARE else 0
            previous = current
        return time.monotonic() - started

    def run(self, name: str, path: str, script: str | None, env: dict) -> dict:
        cmd = ["wrk", *self.wrk_args]
        if script:
            cmd += ["-s", str(self.lua_dir / script)]
        cmd.append(f"{self.base_url}{path}")
        self.drain()
        log_offset = self.access_log.stat().st_size if self.access_log else 0
        wrk = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        started = time.monotonic()
        time.sleep(self.duration * WINDOW[0])
        window_start, before = time.time(), self.sampler.snapshot()
        time.sleep(max(0.0, started + self.duration * WINDOW[1] - time.monotonic()))
        window_end, after = time.time(), self.sampler.snapshot()
        output, errors = wrk.communicate()
        if wrk.returncode:
            raise RuntimeError(f"wrk failed on {name}: {errors}")
        drained = self.drain()
        with open(self.wrk_log, "a") as log:
            log.write(f"== {name}\n{output}\n")
        result = {"name": name, **parse_wrk(output), "window_s": window_end - window_start, "drain_s": drained}
        if self.access_log:
            with open(self.access_log, errors="replace") as log:
                log.seek(log_offset)
                result.update(parse_access_log(log.read(), (window_start, window_end)))
        else:
            result.update(window_requests=result["rps"] * result["window_s"], server_non_2xx=0, unlogged_errors=0)
        # A failure the service answered after wrk had gone is still a failure of this run.
        result["errors"] = result["socket_errors"] + max(
            result["non_2xx"], result["server_non_2xx"] + result["unlogged_errors"]
        )
        spent = CpuSampler.spent(before, after)
        window_requests = max(result["window_requests"], 1)
        result["cpu_ms"] = {group: spent.get(group, 0.0) * 1000 / window_requests for group in CPU_GROUPS}
        result["cpu_reliable"] = result["window_requests"] >= MIN_WINDOW_REQUESTS
        return result
