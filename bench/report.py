"""The benchmark's tables: ratios to the bare DRF ceiling and to the service's own ping, the targets,
CPU ms per request, the scaling check and the capacity plan's inputs."""

P99_OVER_P50_MAX = 10
SCALING_MAX = 1.3
BARE = "bare DRF GET /api/ping"
PING = "GET /api/ping"


def mean(values: list[float]) -> float:
    return sum(values) / len(values) if values else 0.0


def ceiling(bare_runs: list[dict]) -> dict:
    """The bare ceiling: its runs at the start and the end of the large pass, their mean and the drift."""
    start, end = bare_runs[0]["rps"], bare_runs[-1]["rps"]
    return {"start": start, "end": end, "mean": mean([start, end]), "drift": end / start - 1 if start else 0.0}


def add_ratios(results: list[dict], bare_rps: float) -> None:
    """Each row's share of the bare ceiling and of the service's ping (the mean of its ping rows), and
    its verdicts: the row's `target` share of the ceiling, and the tail (p99 over p50)."""
    ping_rps = mean([r["rps"] for r in results if r["name"].startswith(PING)])
    for r in results:
        r["over_bare"] = r["rps"] / bare_rps if bare_rps else 0.0
        r["over_ping"] = r["rps"] / ping_rps if ping_rps else 0.0
        r["p99_over_p50"] = r["p99"] / r["p50"] if r["p50"] else 0.0
        r.setdefault("target", None)
        r["target_met"] = None if r["target"] is None else r["over_bare"] >= r["target"]
        r["tail_ok"] = r["p99_over_p50"] <= P99_OVER_P50_MAX


def _cpu(row: dict, group: str, width: int) -> str:
    return f"{row['cpu_ms'][group]:{width}.2f}" if row["cpu_reliable"] else f"{'-':>{width}}"


def table(title: str, results: list[dict], notes: list[str]) -> str:
    lines = [
        title,
        f"{'endpoint':36} {'req/s':>7} {'p50 ms':>7} {'p99 ms':>8} {'p99/p50':>7} {'errors':>6} {'/bare':>6} "
        f"{'/ping':>6} {'web ms':>7} {'pg ms':>6} {'redis':>6}  target (/bare), p99 <= {P99_OVER_P50_MAX} x p50",
    ]
    for r in results:
        verdict = "" if r["target"] is None else f">= {r['target']}: {'met' if r['target_met'] else 'NOT met'}; "
        verdict += "p99 ok" if r["tail_ok"] else "p99 NOT ok"
        if not r["requests"]:
            verdict = "NO REQUEST COMPLETED"
        lines.append(
            f"{r['name']:36} {r['rps']:7.0f} {r['p50']:7.2f} {r['p99']:8.2f} {r['p99_over_p50']:7.1f} "
            f"{r['errors']:6d} {r['over_bare']:6.2f} {r['over_ping']:6.2f} {_cpu(r, 'web', 7)} {_cpu(r, 'pg', 6)} "
            f"{_cpu(r, 'redis', 6)}  {verdict}"
        )
    lines += [f"  {note}" for note in notes]
    return "\n".join(lines)


def scaling(large: list[dict], small: list[dict]) -> dict[str, float]:
    """Small-database req/s over large-database req/s, for the reads measured on both."""
    by_name = {r["name"]: r for r in large}
    return {
        r["name"]: r["rps"] / by_name[r["name"]]["rps"]
        for r in small
        if r["name"] in by_name and by_name[r["name"]]["rps"] and not r["name"].startswith(PING)
    }


def scaling_lines(ratios: dict[str, float]) -> str:
    lines = [f"scaling (small-database req/s over large-database req/s, target <= {SCALING_MAX}):"]
    for name, ratio in ratios.items():
        lines.append(f"  {name:36} {ratio:5.2f}  {'ok' if ratio <= SCALING_MAX else 'NOT ok'}")
    return "\n".join(lines)


def capacity(results: list[dict]) -> dict[str, dict]:
    """Per endpoint (first run of each name): CPU ms per request by group, and what one core serves at
    that cost (None for a run with too few requests for CPU figures)."""
    inputs: dict[str, dict] = {}
    for r in results:
        if r["name"] in inputs or r["name"].startswith(BARE):
            continue
        if not r["cpu_reliable"]:
            inputs[r["name"]] = dict.fromkeys(("web", "pg", "redis", "total", "per_core_rps"))
            continue
        cpu = {group: r["cpu_ms"][group] for group in ("web", "pg", "redis")}
        total = sum(cpu.values())
        inputs[r["name"]] = {**cpu, "total": total, "per_core_rps": 1000 / total if total else 0.0}
    return inputs


def capacity_lines(inputs: dict[str, dict]) -> str:
    lines = [
        "capacity inputs (large database; CPU ms per request: web = the gunicorn tree, pg = every `postgres`",
        "process, redis = `redis-server`; on a shared machine pg and redis include other users' work)",
        f"  {'endpoint':36} {'web':>7} {'pg':>7} {'redis':>7} {'total':>7} {'req/s per core':>15}",
    ]
    for name, row in inputs.items():
        if row["total"] is None:
            lines.append(f"  {name:36} {'-':>7} {'-':>7} {'-':>7} {'-':>7} {'-':>15}  (too few requests)")
            continue
        lines.append(f"  {name:36} {row['web']:7.2f} {row['pg']:7.2f} {row['redis']:7.2f} {row['total']:7.2f} "
                     f"{row['per_core_rps']:15.0f}")
    return "\n".join(lines)
