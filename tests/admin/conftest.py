import pytest
from django.conf import settings
from django.test import Client

from tests.admin.builders import staff_make

ADMIN_PREFIX = "/" + settings.ADMIN_URL


def admin_url(path: str = "") -> str:
    return ADMIN_PREFIX + path


@pytest.fixture
def superuser(db):
    user = staff_make(email="boss@example.com")
    user.is_superuser = True
    user.save(update_fields=["is_superuser"])
    return user


@pytest.fixture
def su_client(superuser):
    client = Client()
    client.force_login(superuser)
    client.user = superuser
    return client


@pytest.fixture
def staff_client(db):
    """A client for a staff member with the given permissions: staff_client("credits.grant_credits", ...)."""

    def make(*perms):
        staff = staff_make(perms=perms)
        client = Client()
        client.force_login(staff)
        client.user = staff
        return client

    return make
