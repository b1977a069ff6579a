from io import StringIO

import pytest
from django.core.management import call_command

from billing.catalog import catalog_ensure
from rewards.seed import reward_tables_ensure


@pytest.fixture(autouse=True)
def reward_tables(db):
    """The seeded reward tables and catalogue (a transactional test's flush empties them)."""
    reward_tables_ensure()
    catalog_ensure()


def audit_clean() -> None:
    out = StringIO()
    call_command("credits_audit", "--no-progress", stdout=out)
    assert "credits audit clean" in out.getvalue()
