"""The phones benchmark's bookkeeping: what one step's measured span saw, its summary, and which role
of the stack is nearest its limit (bench/phones.py runs the ramp)."""

from collections import Counter, defaultdict

# A step holds when its p99 over every request is at most this and nothing failed.
P99_LIMIT_MS = 250.0
# Past this the client's event loop is late enough to show in the latencies it records.
LOOP_LAG_LIMIT_MS = 20.0
# A role at or past this share of its limit counts as saturated.
SATURATED = 0.9


def percentile(values: list[float], share: float) -> float:
    """Nearest-rank percentile (0 when there is nothing)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered) + 0.5) - 1))]


class Window:
    """What the phones did during one step's measured span (requests counted when they complete)."""

    def __init__(self):
        self.latencies: dict[str, list[float]] = defaultdict(list)
        self.errors: Counter = Counter()  # "kind: status 503" / "kind: timeout"
        self.generations_started = 0
        self.generations_ready: list[float] = []  # seconds from POST /generate to the poll that saw it done
        self.generations_failed = 0
        self.generations_abandoned = 0  # still running when the phone gave up polling
        self.loop_lag_ms: list[float] = []  # the client's event loop: how late a 100 ms timer fired

    def request(self, kind: str, milliseconds: float, status: int | None, failure: str = "") -> None:
        self.latencies[kind].append(milliseconds)
        if status is None:
            self.errors[f"{kind}: {failure}"] += 1
        elif not 200 <= status < 300:
            self.errors[f"{kind}: status {status}"] += 1


def summarise(window: Window, *, phones: int, seconds: float, cpu_seconds: dict[str, float],
              backlog: tuple[int, int], in_flight: int, connects: int, retries: int) -> dict:
    every = [ms for values in window.latencies.values() for ms in values]
    errors = sum(window.errors.values())
    p99 = percentile(every, 0.99)
    held = p99 <= P99_LIMIT_MS and errors == 0 and window.generations_failed == 0 \
        and window.generations_abandoned == 0
    return {
        "phones": phones,
        "seconds": round(seconds, 1),
        "requests": len(every),
        "rps": round(len(every) / seconds, 2),
        "rps_per_phone": round(len(every) / seconds / phones, 4),
        "p50_ms": round(percentile(every, 0.5), 1),
        "p99_ms": round(p99, 1),
        "by_kind": {
            kind: {"count": len(values), "p50_ms": round(percentile(values, 0.5), 1),
                   "p99_ms": round(percentile(values, 0.99), 1)}
            for kind, values in sorted(window.latencies.items())
        },
        "errors": errors,
        "error_kinds": dict(window.errors),
        "generations_started": window.generations_started,
        "generations_ready": len(window.generations_ready),
        "generations_failed": window.generations_failed,
        "generations_abandoned": window.generations_abandoned,
        "generations_per_hour_per_phone": round(window.generations_started * 3600 / seconds / phones, 2),
        "generate_to_ready_p50_s": round(percentile(window.generations_ready, 0.5), 1),
        "generations_in_flight_at_end": in_flight,
        "task_backlog_start": backlog[0],
        "task_backlog_end": backlog[1],
        "connections_opened": connects,
        "stale_connection_retries": retries,
        "client_loop_lag_p99_ms": round(percentile(window.loop_lag_ms, 0.99), 1),
        # CPU per role in % of one core (200 = both cores of this machine).
        "cpu_percent": {role: round(100 * spent / seconds, 1) for role, spent in cpu_seconds.items()},
        "held": held,
    }


def limits(*, cores: int, web_workers: int, task_workers: int) -> dict[str, tuple[float, str]]:
    """Each role's ceiling in % of one core, and why: a Python process uses one core at most (the GIL)."""
    return {
        "machine": (100.0 * cores, f"{cores} cores"),
        "web": (100.0 * min(web_workers, cores), f"{web_workers} workers on {cores} cores"),
        "postgres": (100.0 * cores, f"{cores} cores"),
        "redis": (100.0, "one thread"),
        "task workers": (100.0 * min(task_workers, cores), f"{task_workers} workers on {cores} cores"),
        "fake KIE": (100.0, "one Python process; the harness, not the service"),
        "client": (100.0, "one Python process; the harness, not the service"),
        "other": (100.0 * cores, "processes outside the benchmark; not the service: a shared machine"),
    }


def pressure(step: dict, role_limits: dict[str, tuple[float, str]]) -> list[dict]:
    """Every role's CPU as a share of its ceiling, highest first; a task queue that grew during the step
    (more than a few tasks waiting at its end) counts as the task workers at their limit."""
    rows = []
    for role, (ceiling, why) in role_limits.items():
        used = step["cpu_percent"].get(role, 0.0)
        row = {"role": role, "cpu_percent": used, "limit_percent": ceiling, "share": round(used / ceiling, 2),
               "why": why}
        if role == "task workers" and step["task_backlog_end"] > max(5, step["task_backlog_start"]):
            row["share"] = max(row["share"], 1.0)
            row["why"] += f"; queue grew {step['task_backlog_start']} -> {step['task_backlog_end']}"
        rows.append(row)
    return sorted(rows, key=lambda row: row["share"], reverse=True)


def verdict(steps: list[dict], role_limits: dict[str, tuple[float, str]]) -> dict:
    """The largest step held, and what saturates first: judged on the first step that failed (else the
    last one). When the machine's cores are nearly all busy they are the limit, and the role using the
    most of them is named; otherwise the role nearest its own ceiling."""
    held = [step["phones"] for step in steps if step["held"]]
    failed = next((step for step in steps if not step["held"]), None)
    judged = failed or steps[-1]
    ranked = pressure(judged, role_limits)
    machine = next(row for row in ranked if row["role"] == "machine")
    services = [row for row in ranked if row["role"] != "machine"]
    if machine["share"] >= SATURATED:
        named = max(services, key=lambda row: row["cpu_percent"])
        first = (f"the machine's CPU ({machine['cpu_percent']:.0f}% of {machine['limit_percent']:.0f}%); "
                 f"its largest user: {named['role']} ({named['cpu_percent']:.0f}%)")
    else:
        named = services[0]
        first = (f"{named['role']}: {named['cpu_percent']:.0f}% of {named['limit_percent']:.0f}% "
                 f"({named['why']}), {named['share']:.0%} of its limit")
    if "not the service" in named["why"]:
        first += "; this ramp under-reports the service's capacity"
    steal = judged["cpu_percent"].get("steal", 0.0)
    if steal >= STEAL_WARNING:
        first += (f"; the host took {steal:.0f}% of a core from this VM (steal) during that step: "
                  "its latencies are partly the host's, rerun the step to confirm")
    return {
        "largest_phones_held": max(held, default=0),
        "judged_at_phones": judged["phones"],
        "judged_step_failed": failed is not None,
        "saturates_first": first,
        "pressure": ranked,
    }


ROLES = ("web", "postgres", "postgres (this db)", "redis", "task workers", "fake KIE", "client", "other",
         "machine", "steal")
# CPU the hypervisor gave other guests while this VM wanted it (% of one core): above this a step's latencies
# say more about the host than about the service.
STEAL_WARNING = 20.0


def step_line(step: dict) -> str:
    cpu = step["cpu_percent"]
    return (f"{step['phones']:>6} {step['rps']:>8.1f} {step['p50_ms']:>7.1f} {step['p99_ms']:>7.1f} "
            f"{step['errors'] + step['generations_failed'] + step['generations_abandoned']:>6} "
            f"{step['generations_started']:>5}/{step['generations_ready']:<5} "
            f"{step['generate_to_ready_p50_s']:>6.1f} {step['task_backlog_end']:>7} "
            + " ".join(f"{cpu.get(role, 0.0):>6.0f}" for role in ROLES)
            + f"  {'held' if step['held'] else 'FAILED'}")


def step_header() -> str:
    short = {"postgres (this db)": "pg-db", "task workers": "tasks", "fake KIE": "kie", "postgres": "pg"}
    return (f"{'phones':>6} {'req/s':>8} {'p50 ms':>7} {'p99 ms':>7} {'errors':>6} {'gen start/ready':<11} "
            f"{'ready s':>6} {'backlog':>7} " + " ".join(f"{short.get(role, role)[:6]:>6}" for role in ROLES)
            + "  (CPU: % of one core)")


def kinds_line(step: dict) -> str:
    return (f"        per phone {step['rps_per_phone']:.3f} req/s, "
            f"{step['generations_per_hour_per_phone']:.1f} generations/h; ") + ", ".join(f"{kind} {row['count']} p50 {row['p50_ms']:.0f} p99 {row['p99_ms']:.0f}"
                                   for kind, row in step["by_kind"].items())
