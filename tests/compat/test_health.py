"""routes/health.js: plain JSON (no envelope) for load balancers and monitors, and two admin routes.

Express answered `memory` and `system` (heap sizes, platform, runtime version, pid) on GET /health; they
describe the Node process and tell an attacker the runtime, so they are optional here (deliberate
difference: monitors, not the app, read them).
"""

import pytest

from tests.compat.conftest import SLASHES
from tests.compat.shapes import TIMESTAMP, Enum, Optional, assert_error, assert_ok
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

MEMORY = {"used": int, "total": int, "external": int}
# routes/health.js GET /
HEALTH = {
    "status": Enum("OK"),
    "timestamp": TIMESTAMP,
    "version": str,
    "environment": str,
    "uptime": int,  # Math.floor(process.uptime())
    "memory": Optional(MEMORY),
    "system": Optional({"platform": str, "nodeVersion": str, "pid": int}),
}
# routes/health.js GET /live
LIVE = {"status": Enum("alive"), "timestamp": TIMESTAMP, "uptime": int}
# routes/health.js GET /ready
READY = {"status": Enum("ready"), "timestamp": TIMESTAMP}
SERVICE_STATE = Enum("healthy", "unhealthy")
# routes/health.js GET /detailed: services/error-recovery.js checkServicesHealth spread, plus application
DETAILED = {
    "overall": Enum("healthy", "degraded", "unhealthy"),
    "timestamp": TIMESTAMP,
    "services": {"database": SERVICE_STATE, "kieApi": SERVICE_STATE, "r2Storage": SERVICE_STATE},
    "application": {"status": str, "version": str, "environment": str, "uptime": int, "startTime": TIMESTAMP},
    "system": Optional(dict),
}
# routes/health.js GET /metrics (admin)
METRICS = {
    "success": bool,
    "metrics": {
        "timestamp": TIMESTAMP,
        "application": {"uptime": int, "version": str, "environment": str},
        "users": {"total": int, "active_24h": int},
        "videos": {"total": int, "completed": int, "processing": int, "failed": int, "success_rate": int},
        "credits": {"spent_24h": int, "purchased_24h": int, "transactions_24h": int},
        "database": Optional(dict),
        "system": Optional(dict),
    },
}
# routes/health.js POST /cleanup (admin): error-recovery.js cleanupOrphanedResources {actions, errors}
CLEANUP = {"success": bool, "message": str, "result": {"actions": list, "errors": list}}


@pytest.mark.parametrize("path", ["/api/health", "/api/health/", "/health", "/health/"])
def test_health(api_client, path):
    # routes/health.js GET /
    assert_ok(api_client.get(path), HEALTH)


@SLASHES
def test_live(api_client, slash):
    # routes/health.js GET /live
    assert_ok(api_client.get(f"/api/health/live{slash}"), LIVE)


@SLASHES
def test_ready(api_client, slash):
    # routes/health.js GET /ready: 200 {status: 'ready', timestamp}
    assert_ok(api_client.get(f"/api/health/ready{slash}"), READY)


@SLASHES
def test_detailed(api_client, fake_kie, slash):
    # routes/health.js GET /detailed: 200 healthy, 207 degraded, 503 unhealthy
    response = api_client.get(f"/api/health/detailed{slash}")
    overall = response.json().get("overall")
    assert_ok(response, DETAILED, status={"healthy": 200, "degraded": 207, "unhealthy": 503}.get(overall, 200))


@pytest.mark.parametrize(("method", "path"), [("get", "/api/health/metrics"), ("post", "/api/health/cleanup")])
def test_admin_routes_need_a_token(api_client, method, path):
    # routes/health.js adminAuthMiddleware -> authMiddleware: 401 NO_TOKEN
    assert_error(getattr(api_client, method)(path), 401, "NO_TOKEN")


@pytest.mark.parametrize(("method", "path"), [("get", "/api/health/metrics"), ("post", "/api/health/cleanup")])
def test_admin_routes_refuse_a_user_with_insufficient_permissions(auth_client, method, path):
    # middleware/auth.js adminAuthMiddleware: 403 INSUFFICIENT_PERMISSIONS
    assert_error(getattr(auth_client, method)(path), 403, "INSUFFICIENT_PERMISSIONS")


@SLASHES
def test_metrics_for_staff(make_auth_client, slash):
    # routes/health.js GET /metrics: Express's adminAuthMiddleware checked a role nobody had (a defect);
    # staff can read them here
    staff = make_auth_client(UserFactory(is_staff=True))
    assert_ok(staff.get(f"/api/health/metrics{slash}"), METRICS)


@SLASHES
def test_cleanup_for_staff(make_auth_client, slash):
    # routes/health.js POST /cleanup for staff
    staff = make_auth_client(UserFactory(is_staff=True))
    assert_ok(staff.post(f"/api/health/cleanup{slash}"), CLEANUP)
