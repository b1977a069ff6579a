import pytest

from billing.catalog import catalog_ensure


@pytest.fixture(autouse=True)
def catalog(db):
    """The seeded packages and plans (a transactional test's flush empties the tables)."""
    catalog_ensure()
