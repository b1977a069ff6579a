"""routes/kie-callback.js: KIE's callback, its health check and the development-only test hook.

KIE, not the app, reads these answers; Express acknowledged every accepted callback with
`{success: true, message, taskId}`. This service authenticates callbacks (Express accepted anyone's):
an unauthenticated one is refused in the error envelope (deliberate difference).
"""

from urllib.parse import urlsplit

import pytest

from tests.compat.conftest import SLASHES, run_tasks, start_generation
from tests.compat.shapes import TIMESTAMP, assert_ok

pytestmark = pytest.mark.django_db

# routes/kie-callback.js POST /: the acknowledgement
ACK = {"success": bool, "message": str, "taskId": str}
# routes/kie-callback.js GET /health
HEALTH = {"success": bool, "message": str, "timestamp": TIMESTAMP, "version": str}


@SLASHES
def test_a_kie_callback_is_acknowledged(auth_client, fake_kie, slash):
    # routes/kie-callback.js POST /: 200 {success: true, message, taskId}
    start_generation(auth_client)
    run_tasks()
    callback = fake_kie.wait_callbacks(1)[0]
    parts = urlsplit(callback["url"])
    response = auth_client.post(f"{parts.path}{slash}?{parts.query}", callback["body"], format="json")
    assert_ok(response, ACK)


def test_an_unauthenticated_callback_is_refused(api_client):
    # routes/kie-callback.js accepted any body naming a taskId (a defect): refused here, in the envelope
    response = api_client.post("/api/kie-callback", {"taskId": "abc", "status": "completed"}, format="json")
    assert response.status_code in (401, 403)
    assert response.json()["success"] is False


@SLASHES
def test_callback_health(api_client, slash):
    # routes/kie-callback.js GET /health
    body = assert_ok(api_client.get(f"/api/kie-callback/health{slash}"), HEALTH)
    assert body["success"] is True


def test_the_development_test_hook_is_not_served(api_client):
    # routes/kie-callback.js POST /test existed only with NODE_ENV=development: not part of the API
    response = api_client.post("/api/kie-callback/test", {"taskId": "abc"}, format="json")
    assert response.status_code == 404
