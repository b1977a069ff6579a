import pytest
from django.conf import settings
from django.core.cache import cache
from rest_framework.test import APIClient

from accounts.services import auth_tokens_issue
from tests.factories import UserFactory


def pytest_collection_modifyitems(config, items):
    """Races and killed connections need PostgreSQL; on SQLite (`make test` without DATABASE_URL) say so."""
    if "postgresql" in settings.DATABASES["default"]["ENGINE"]:
        return
    skip = pytest.mark.skip(
        reason="needs PostgreSQL: run with DATABASE_URL=postgres://postgres@127.0.0.1:5432/aiasmr, as .ci/run does"
    )
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _video_catalogue(request):
    """The model catalogue and prompt templates are seeded by a migration, and a transactional test's flush
    empties them for the tests after it: every database test gets them back (staff edits untouched)."""
    names = set(request.fixturenames)
    marker = request.node.get_closest_marker("django_db")
    if "transactional_db" in names or "live_server" in names or (marker and marker.kwargs.get("transaction")):
        request.getfixturevalue("transactional_db")
    elif "db" in names or marker:
        request.getfixturevalue("db")
    else:
        return
    from videos.catalog_seed import catalogue_ensure

    catalogue_ensure()


@pytest.fixture
def api_client():
    return APIClient()


@pytest.fixture
def user(db):
    return UserFactory()


@pytest.fixture
def tokens(user):
    return auth_tokens_issue(user=user)


@pytest.fixture
def auth_client(user, tokens):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['token']}")
    client.user = user
    return client


@pytest.fixture
def make_auth_client(db):
    def make(user=None):
        user = user or UserFactory()
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {auth_tokens_issue(user=user)['token']}")
        client.user = user
        return client

    return make


@pytest.fixture(scope="module")
def moto_server():
    """An S3-compatible server over HTTP (moto's server mode); its base URL."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()
