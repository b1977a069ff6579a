"""Fixtures of the compatibility suite: clients, and videos brought to each state through the real API.

Videos are made the way the app makes them (POST /api/generate, the task worker, KIE's callback from the
fake KIE server), so the shapes checked are the ones a real generation produces.
"""

import pytest

from credits.services import credits_grant
from tests.videos.conftest import (  # noqa: F401 - fake_kie and fake_kie_server are fixtures reused here
    GOOD_BODY,
    deliver,
    fake_kie,
    fake_kie_server,
    run_tasks,
)

SLASHES = pytest.mark.parametrize("slash", ["", "/"], ids=["no-slash", "trailing-slash"])


def top_up(user, credits: int = 200) -> None:
    credits_grant(user=user, amount=credits, type="bonus", description="compat suite top-up")


def start_generation(client, **body) -> str:
    """POST /api/generate; the taskId the app polls with."""
    response = client.post("/api/generate", {**GOOD_BODY, **body}, format="json")
    assert response.status_code in (200, 202), response.content[:400]
    return response.json()["data"]["taskId"]


def _generate_and_call_back(client, kie) -> str:
    seen = len(kie.callbacks())
    task_id = start_generation(client)
    run_tasks()
    for callback in kie.wait_callbacks(seen + 1)[seen:]:
        deliver(client, callback)
    run_tasks()
    return task_id


def make_ready_video(client, kie) -> str:
    """A generation KIE finished and whose files were stored: the taskId."""
    return _generate_and_call_back(client, kie)


def make_failed_video(client, kie) -> str:
    """A generation KIE rejected (and that was refunded): the taskId."""
    kie.configure(job_fail_rate=1)
    try:
        return _generate_and_call_back(client, kie)
    finally:
        kie.configure(job_fail_rate=0)


@pytest.fixture
def rich_client(auth_client):
    """A signed-in app with enough credits for several generations."""
    top_up(auth_client.user)
    return auth_client
