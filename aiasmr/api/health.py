"""Health endpoints: plain JSON (not the envelope), in Express's shapes (routes/health.js).

Express also answered `memory` and `system` (heap sizes, platform, runtime version, pid); they describe the
process to an attacker and no monitor needs them, so they are left out (deliberate difference).
"""

import time
import uuid
from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.core.files.storage import default_storage
from django.db import connection
from django.db.models import Q
from django.http import JsonResponse
from django.utils import timezone
from django.utils.module_loading import import_string
from django.views.decorators.http import require_GET

STARTED_AT = time.monotonic()
STARTED_AT_WALL = timezone.now()


def _timed(check) -> dict:
    started = time.monotonic()
    try:
        detail = check() or {}
        result = {"status": "up", **detail}
    except Exception as exc:  # a health check reports every failure instead of raising it
        result = {"status": "down", "error": exc.__class__.__name__}
    result["latencyMs"] = round((time.monotonic() - started) * 1000, 2)
    return result


def check_database():
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def check_cache():
    key = f"health:{uuid.uuid4().hex}"
    cache.set(key, "1", 10)
    if cache.get(key) != "1":
        raise RuntimeError("cache did not return what was written")
    cache.delete(key)


def check_storage():
    default_storage.exists("health/probe")


def check_worker():
    from django_tasks_db.models import DBTaskResult, get_date_max

    threshold = timezone.now() - timedelta(seconds=settings.WORKER_STALE_SECONDS)
    # Ready tasks nobody takes mean no worker runs; running tasks this old mean a worker died mid-task
    # (the task library does not reclaim them; the next generations_sync closes them and runs them again).
    overdue = Q(run_after=get_date_max(), enqueued_at__lt=threshold) | Q(run_after__lt=threshold)
    waiting = DBTaskResult.objects.ready().filter(overdue).count()
    stalled = DBTaskResult.objects.filter(status="RUNNING", started_at__lt=threshold).count()
    if waiting or stalled:
        raise RuntimeError(
            f"{waiting} tasks waiting and {stalled} running longer than {settings.WORKER_STALE_SECONDS}s"
        )
    return {"waiting": 0, "stalled": 0}


CORE_CHECKS = {"database": check_database, "cache": check_cache, "storage": check_storage}


def optional_checks() -> dict:
    """The apps' own checks (settings.HEALTH_APP_CHECKS: framework glue imports no app), then the worker's."""
    app_checks = {name: import_string(path) for name, path in settings.HEALTH_APP_CHECKS.items()}
    return {**app_checks, "worker": check_worker}


# Express's service names in /detailed's `services` -> the check behind each.
EXPRESS_SERVICES = {"database": "database", "kieApi": "kie", "r2Storage": "storage"}


def uptime() -> int:
    """Whole seconds since this process started (Math.floor(process.uptime()))."""
    return int(time.monotonic() - STARTED_AT)


def application_info() -> dict:
    return {"uptime": uptime(), "version": settings.VERSION, "environment": settings.DJANGO_ENV}


def _now() -> str:
    return timezone.now().isoformat()


@require_GET
def health(request):
    return JsonResponse({"status": "OK", "timestamp": _now(), **application_info()})


@require_GET
def live(request):
    return JsonResponse({"status": "alive", "timestamp": _now(), "uptime": uptime()})


@require_GET
def ready(request):
    services = {name: _timed(check) for name, check in CORE_CHECKS.items()}
    failed = [name for name, result in services.items() if result["status"] != "up"]
    body = {"status": "ready", "timestamp": _now(), "services": services, "failed": failed}
    if failed:
        body.update(status="not_ready", error=f"unavailable: {', '.join(failed)}")
    return JsonResponse(body, status=503 if failed else 200)


@require_GET
def detailed(request):
    optional = optional_checks()
    checks = {name: _timed(check) for name, check in {**CORE_CHECKS, **optional}.items()}
    core_down = any(checks[name]["status"] != "up" for name in CORE_CHECKS)
    optional_down = any(checks[name]["status"] != "up" for name in optional)
    overall = "unhealthy" if core_down else "degraded" if optional_down else "healthy"
    services = {
        express: "healthy" if checks.get(name, {}).get("status") == "up" else "unhealthy"
        for express, name in EXPRESS_SERVICES.items()
    }
    body = {
        "overall": overall,
        "timestamp": _now(),
        "services": services,
        "application": {"status": "healthy", **application_info(), "startTime": STARTED_AT_WALL.isoformat()},
        # Each check's detail (status up/down, latency), cache and worker included.
        "checks": checks,
    }
    status = {"healthy": 200, "degraded": 207, "unhealthy": 503}[overall]
    return JsonResponse(body, status=status)
