"""The ledger, user by user, and the balances set with it."""

from __future__ import annotations

from collections.abc import Iterator

from accounts.models import Profile, User
from billing.models import Subscription
from credits.models import CreditTransaction
from supabase_import import mapping
from supabase_import import source as src
from supabase_import.writer import existing, insert_rows, next_ids, query, raw_cursor
from videos.models import Video


class LedgerPhase:
    """Part of SupabaseImport (run.py): uses its source, report, batch size, _phase and _guarded."""

    def ledger(self) -> None:
        total = self.source.count("SELECT count(*) AS n FROM public.credit_transactions")
        done = 0
        self.progress("credit_transactions", 0, total)
        group: list = []
        rows_in_group = 0
        for item in self._ledger_groups():
            group.append(item)
            rows_in_group += len(item[3]) + 1
            if rows_in_group >= self.batch_size:
                self._guarded("credit_transactions", group, self._ledger_write, ident=lambda g: f"of user {g[0]}")
                done += sum(len(g[3]) for g in group)
                self.progress("credit_transactions", done, total)
                group, rows_in_group = [], 0
        if group:
            self._guarded("credit_transactions", group, self._ledger_write, ident=lambda g: f"of user {g[0]}")
            done += sum(len(g[3]) for g in group)
        self.progress("credit_transactions", done, total)

    def _ledger_groups(self) -> Iterator[tuple]:
        """(user id, credits, opened at, transactions) per Supabase user: two sorted streams merged."""
        transactions = self.source.stream(src.TRANSACTIONS_SQL)
        pending = next(transactions, None)

        def orphan(row):
            self.report.skip("credit_transactions", row["id"], f"orphan: user {row['user_id']} does not exist")

        for user in self.source.stream(src.BALANCES_SQL):
            while pending is not None and (pending["user_id"] is None or pending["user_id"] < user["id"]):
                orphan(pending)
                pending = next(transactions, None)
            own = []
            while pending is not None and pending["user_id"] == user["id"]:
                own.append(pending)
                pending = next(transactions, None)
            yield user["id"], user["credits"], user["created_at"], own
        while pending is not None:
            orphan(pending)
            pending = next(transactions, None)

    def _ledger_write(self, groups: list[tuple]) -> None:
        report, table = self.report, "credit_transactions"
        user_ids = [g[0] for g in groups]
        present = existing(User, "id", user_ids)
        done = {
            row[0]
            for row in query(
                f"SELECT DISTINCT user_id FROM {CreditTransaction._meta.db_table} "  # noqa: S608
                "WHERE user_id = ANY(%s) AND idempotency_key LIKE 'supabase:%%'",
                [list(present)],
            )
        }
        video_ids = list({t["video_id"] for g in groups for t in g[3] if t["video_id"]})
        owned = query(f"SELECT id, status, user_id FROM {Video._meta.db_table} WHERE id = ANY(%s)", [video_ids])  # noqa: S608
        subscriptions = existing(Subscription, "id", {t["subscription_id"] for g in groups for t in g[3]})
        rows, balances = [], {}
        for user_id, credits, opened_at, transactions in groups:
            if user_id not in present:
                if transactions:
                    report.skip(table, f"of user {user_id}", f"user not imported ({len(transactions)} rows)", len(transactions))
                continue
            if user_id in done:
                report.add(table, "already imported", len(transactions))
                continue
            plan = mapping.ledger_plan(
                user_id=user_id,
                credits=credits,
                opened_at=opened_at,
                transactions=transactions,
                # A transaction links only its own user's videos (one charge per video is a constraint).
                videos={video_id: status for video_id, status, owner in owned if owner == user_id},
                subscriptions=subscriptions,
            )
            for tx_id, reason in plan.skipped:
                report.skip(table, tx_id, reason)
            for message in plan.notes:
                report.note("user_profiles", user_id, message)
            if plan.rows:  # no rows: the profile's 0 already matches, and must not be touched again
                rows += plan.rows
                balances[user_id] = plan.balance
            report.add(table, "imported", len(transactions) - len(plan.skipped))
            report.add(table, "balance adjustments", sum(1 for r in plan.rows if r["idempotency_key"] in (
                "supabase:opening", "supabase:closing")))
        for row, pk in zip(rows, next_ids(CreditTransaction, len(rows)), strict=True):
            row["id"] = pk
        for row in rows:
            reverses = row.pop("_reverses", None)
            row["reverses_id"] = reverses["id"] if reverses else None
        insert_rows(CreditTransaction, rows, conflict=None)
        with raw_cursor() as cursor:
            if balances:
                cursor.execute(
                    f"UPDATE {Profile._meta.db_table} SET credits = b.credits "  # noqa: S608
                    "FROM unnest(%s::uuid[], %s::integer[]) AS b(user_id, credits) "
                    f"WHERE {Profile._meta.db_table}.user_id = b.user_id",
                    [list(balances), list(balances.values())],
                )
            charges = [(r["video_id"], r["id"]) for r in rows if r["type"] == "usage" and r.get("video_id")]
            if charges:
                cursor.execute(
                    f"UPDATE {Video._meta.db_table} SET debit_id = c.debit_id "  # noqa: S608
                    "FROM unnest(%s::uuid[], %s::bigint[]) AS c(video_id, debit_id) "
                    f"WHERE {Video._meta.db_table}.id = c.video_id AND {Video._meta.db_table}.debit_id IS NULL",
                    [[c[0] for c in charges], [c[1] for c in charges]],
                )
