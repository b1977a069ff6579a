import pytest
from django.test import override_settings

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("path", ["/health", "/api/health"])
def test_health_is_plain_json(api_client, path):
    body = api_client.get(path).json()
    assert body["status"] == "OK"
    assert {"timestamp", "version", "environment", "uptime"} <= set(body)
    assert "success" not in body


def test_live(api_client):
    response = api_client.get("/api/health/live")
    assert response.status_code == 200
    assert response.json()["status"] == "alive"


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
    assert response.json()["failed"] == ["cache"]


def test_detailed_reports_every_service(api_client):
    response = api_client.get("/api/health/detailed")
    body = response.json()
    assert set(body["services"]) == {"database", "cache", "storage", "kie", "worker"}
    assert body["overall"] in {"healthy", "degraded"}
    assert response.status_code == {"healthy": 200, "degraded": 207}[body["overall"]]
