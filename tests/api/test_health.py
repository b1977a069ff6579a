import pytest
from django.test import override_settings

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("path", ["/health", "/api/health"])
def test_health_is_plain_json(api_client, path):
    body = api_client.get(path).json()
    assert body["status"] == "OK"
    assert {"timestamp", "version", "environment", "uptime"} <= set(body)
    assert isinstance(body["uptime"], int)
    assert "success" not in body


def test_live(api_client):
    response = api_client.get("/api/health/live")
    assert response.status_code == 200
    assert response.json()["status"] == "alive"
    assert isinstance(response.json()["uptime"], int)


def test_ready_checks_database_cache_and_storage(api_client):
    response = api_client.get("/api/health/ready")
    assert response.status_code == 200
    assert {name: s["status"] for name, s in response.json()["services"].items()} == {
        "database": "up",
        "cache": "up",
        "storage": "up",
    }


def test_ready_is_503_naming_the_failed_service(api_client):
    broken_cache = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": "redis://127.0.0.1:1/0"}}
    with override_settings(CACHES=broken_cache):
        response = api_client.get("/api/health/ready")
    assert response.status_code == 503
    body = response.json()
    assert (body["status"], body["failed"]) == ("not_ready", ["cache"])
    assert {"timestamp", "error"} <= set(body)


def test_detailed_reports_every_service(api_client):
    response = api_client.get("/api/health/detailed")
    body = response.json()
    # Express's names and strings under `services`; every check's detail under `checks`
    assert set(body["services"]) == {"database", "kieApi", "r2Storage"}
    assert set(body["services"].values()) <= {"healthy", "unhealthy"}
    assert set(body["checks"]) == {"database", "cache", "storage", "kie", "worker"}
    assert body["overall"] in {"healthy", "degraded"}
    assert response.status_code == {"healthy": 200, "degraded": 207}[body["overall"]]


def _stale_task(**fields):
    from datetime import timedelta

    from django.utils import timezone
    from django_tasks_db.models import DBTaskResult

    from videos.tasks import storage_files_delete

    storage_files_delete.enqueue(paths=[])
    old = timezone.now() - timedelta(hours=1)
    DBTaskResult.objects.update(enqueued_at=old, **{key: old if value == "old" else value for key, value in fields.items()})


@pytest.mark.parametrize("fields", [{}, {"status": "RUNNING", "started_at": "old"}])
def test_detailed_is_degraded_when_no_worker_takes_tasks_or_one_died(api_client, fields):
    _stale_task(**fields)
    response = api_client.get("/api/health/detailed")
    body = response.json()
    assert body["checks"]["worker"]["status"] == "down"
    assert body["overall"] == "degraded"
    assert response.status_code == 207


def test_detailed_does_not_wait_on_a_hanging_kie(api_client, settings):
    """KIE accepts the connection and never answers: the check gives up after KIE_ACCOUNT_TIMEOUT_SECONDS."""
    import socket
    import time

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    settings.KIE_API_KEY = "key"
    settings.KIE_BASE_URL = f"http://127.0.0.1:{listener.getsockname()[1]}/api/v1"
    settings.KIE_ACCOUNT_TIMEOUT_SECONDS = 1.0
    try:
        started = time.monotonic()
        body = api_client.get("/api/health/detailed").json()
        elapsed = time.monotonic() - started
    finally:
        listener.close()
    assert body["checks"]["kie"]["status"] == "down"
    assert body["services"]["kieApi"] == "unhealthy"
    assert elapsed < 5  # the client's own read timeout is 30 s


def test_metrics_count_users_videos_and_the_last_day_of_credits(make_auth_client):
    from credits.models import CreditTransaction
    from credits.services import credits_grant
    from tests.admin.builders import staff_make, video_make
    from videos.models import VideoStatus

    staff = make_auth_client(staff_make())
    user = staff.user
    credits_grant(user=user, amount=100, type="purchase", description="bought")
    for status in (VideoStatus.READY, VideoStatus.READY, VideoStatus.STORING, VideoStatus.CANCELLED):
        video_make(user=user, status=status)
    metrics = staff.get("/api/health/metrics").json()["metrics"]
    assert metrics["users"]["total"] == 1
    assert metrics["videos"] == {"total": 4, "completed": 2, "processing": 1, "failed": 1, "success_rate": 50}
    # 4 usage debits of 20, the purchase, and whatever the account started with
    assert (metrics["credits"]["spent_24h"], metrics["credits"]["purchased_24h"]) == (80, 100)
    assert metrics["credits"]["transactions_24h"] == CreditTransaction.objects.count() >= 5


def test_cleanup_runs_the_sweep_once_and_lists_its_steps(make_auth_client):
    from tests.admin.builders import staff_make

    body = make_auth_client(staff_make()).post("/api/health/cleanup").json()
    assert body["success"] is True and body["result"]["errors"] == []
    assert body["result"]["actions"] and all(isinstance(action, str) for action in body["result"]["actions"])
    assert "requeued" in body["result"]["counts"]
