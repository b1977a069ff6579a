"""The chaos soak, short: about 500 randomized operations from concurrent clients against the real server
on a private PostgreSQL while KIE misbehaves, a task worker is killed and PostgreSQL restarts; then the
ledger is proven whole (bench/soak.py; `make soak` runs 10,000). Marked `slow`, part of `make test`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bench import soak

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.skipif(not soak.available(), reason="needs PostgreSQL 15's initdb (and runuser when run as root)")
def test_a_short_chaos_soak_leaves_the_ledger_whole(tmp_path):
    output = tmp_path / "soak.json"
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("DJANGO_", "PYTEST_", "DATABASE_")) and k != "TESTING"}
    run = subprocess.run(  # noqa: S603
        [sys.executable, "bench/soak.py", "--operations", "500", "--clients", "8", "--settle-timeout", "60",
         "--output", str(output)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
    )
    assert output.exists(), run.stdout[-3000:] + run.stderr[-3000:]
    result = json.loads(output.read_text())
    figures = result["figures"]
    assert result["checks"] == {
        "credits_audit clean": True,
        "jobs left open": 0,
        "debits refunded twice": 0,
        "failed/cancelled jobs without their refund": 0,
        "orders credited twice": 0,
        "completed orders not credited": 0,
        "client balances not equal to the ledger": 0,
        "5xx outside the injected outage": 0,
        "transport errors outside the injected outage": 0,
    }, figures
    assert run.returncode == 0
    assert figures["operations (client steps)"] == 500
    assert len(figures["faults injected"]) == 10
    # The faults really bit: jobs failed and were refunded, a killed worker came back.
    assert figures["videos by status"].get("failed", 0) > 0
    assert figures["ledger rows by type"].get("refund", 0) > 0
    assert figures["task workers restarted"]
