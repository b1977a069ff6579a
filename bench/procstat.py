"""CPU time of the processes a benchmark runs, read from /proc (Linux), grouped by role.

A `CpuSampler` snapshots the CPU seconds (user + system, all threads) of each process in each group;
the difference of two snapshots is what each group spent in between. A process that appeared in the
meantime (a new PostgreSQL backend, a restarted worker) counts from zero; one that exited is lost, which
is why the groups are sampled right around each measured run.
"""

import os
from pathlib import Path

TICKS = os.sysconf("SC_CLK_TCK")


def _stat(pid: int) -> tuple[str, int, float] | None:
    """(command name, parent pid, CPU seconds) of a live process, or None once it is gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The name is in parentheses and may hold spaces; the fields after it are space-separated.
    name = text[text.index("(") + 1 : text.rindex(")")]
    fields = text[text.rindex(")") + 2 :].split()
    return name, int(fields[1]), (int(fields[11]) + int(fields[12])) / TICKS


def _all() -> dict[int, tuple[str, int, float]]:
    found = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit() and (stat := _stat(int(entry))) is not None:
            found[int(entry)] = stat
    return found


def tree(root: int, table: dict[int, tuple[str, int, float]] | None = None) -> set[int]:
    """The process and all its descendants."""
    table = table if table is not None else _all()
    members, frontier = {root}, [root]
    while frontier:
        parent = frontier.pop()
        for pid, (_, ppid, _) in table.items():
            if ppid == parent and pid not in members:
                members.add(pid)
                frontier.append(pid)
    return members & set(table)


class CpuSampler:
    """Groups are either process trees (root pids) or every process with a given command name."""

    def __init__(self, trees: dict[str, list[int]] | None = None, names: dict[str, str] | None = None):
        self.trees = trees or {}
        self.names = names or {}

    def snapshot(self) -> dict[str, dict[int, float]]:
        table = _all()
        groups: dict[str, dict[int, float]] = {}
        for group, roots in self.trees.items():
            members = set().union(*(tree(root, table) for root in roots)) if roots else set()
            groups[group] = {pid: table[pid][2] for pid in members}
        for group, name in self.names.items():
            groups[group] = {pid: stat[2] for pid, stat in table.items() if stat[0] == name}
        return groups

    @staticmethod
    def spent(before: dict[str, dict[int, float]], after: dict[str, dict[int, float]]) -> dict[str, float]:
        """CPU seconds each group spent between two snapshots."""
        return {
            group: sum(max(0.0, cpu - before.get(group, {}).get(pid, 0.0)) for pid, cpu in pids.items())
            for group, pids in after.items()
        }
