"""Security suite: attacks against every surface, asserted on status codes, error codes and rows."""

import pytest

from billing.catalog import catalog_ensure
from tests.videos.conftest import fake_kie, fake_kie_server  # noqa: F401 - shared fixtures


@pytest.fixture(autouse=True)
def catalog(db):
    """The seeded packages and plans (a transactional test's flush empties the tables)."""
    catalog_ensure()


def error_code(response) -> str:
    return response.json()["error"]["code"]
