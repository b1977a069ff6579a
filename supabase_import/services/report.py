"""What the import says: counts, skipped rows with their reason, notes."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field


@dataclass
class ImportReport:
    """Counts per (table, outcome) and a line per skipped row or noteworthy change.

    Within a batch they are held until it commits: a batch retried row by row is counted once.
    """

    write: Callable[[str], None]
    counts: Counter = field(default_factory=Counter)
    _held: tuple[Counter, list] | None = None

    def add(self, table: str, outcome: str, n: int = 1) -> None:
        if n:
            (self._held[0] if self._held else self.counts)[(table, outcome)] += n

    def line(self, text: str) -> None:
        if self._held:
            self._held[1].append(text)
        else:
            self.write(text)

    def skip(self, table: str, row_id, reason: str, n: int = 1) -> None:
        self.add(table, "skipped", n)
        self.line(f"SKIPPED {table} {row_id}: {reason}")

    def rows_of_imported_users(self, *, table: str, batch: list[dict], already: set, users: set) -> Iterator[dict]:
        """The rows of `batch` not imported yet whose user was imported; the others' skips are reported."""
        for row in batch:
            if row["id"] in already:
                continue
            if row["user_id"] not in users:
                self.skip(table, row["id"], f"user {row['user_id']} not imported")
                continue
            yield row

    def note(self, table: str, row_id, message: str) -> None:
        self.add(table, "notes")
        self.line(f"NOTE {table} {row_id}: {message}")

    def hold(self) -> None:
        self._held = (Counter(), [])

    def release(self, *, keep: bool) -> None:
        held, self._held = self._held, None
        if keep and held:
            self.counts.update(held[0])
            for text in held[1]:
                self.write(text)


class MediaHostsUnfetchable(Exception):
    """Ready videos have media on hosts that are neither the bucket nor fetchable by the copy task."""
