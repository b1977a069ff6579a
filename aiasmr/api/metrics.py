"""Prometheus metrics: what the service counts, the request-latency middleware, and `/metrics`.

The apps import the counters from here and count after their transaction commits (`count_on_commit`),
so a rolled-back write is never counted. Under gunicorn every process writes its values to
PROMETHEUS_MULTIPROC_DIR (bin/serve sets it; `make run` shares it with the task worker) and a scrape
sums them; without it (tests, runserver) the process's own registry answers. The task queue is read
from django_tasks_db's table at scrape time, so its figures are right whichever process asks.

`/metrics` is not public: it answers 404 unless METRICS_TOKEN is set, then only to
`Authorization: Bearer <METRICS_TOKEN>`.
"""

from __future__ import annotations

import hmac
import os
import time
from collections.abc import Callable

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Min
from django.http import Http404, HttpRequest, HttpResponse
from django.utils import timezone
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector

REQUEST_LATENCY = Histogram(
    "aiasmr_http_request_duration_seconds",
    "Time from the request reaching Django to the response leaving it, by route pattern.",
    ["method", "route", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
GENERATIONS = Counter(
    "aiasmr_generations_total",
    "Generations by model and outcome: started, ready, failed, cancelled.",
    ["model", "quality", "outcome"],
)
KIE_ERRORS = Counter(
    "aiasmr_kie_errors_total",
    "Failed calls to KIE by error code (the service's code and KIE's numeric code when it sent one).",
    ["code", "kie_code"],
)
PAYMENT_EVENTS = Counter(
    "aiasmr_payment_events_total",
    "Payment provider events by provider, type and outcome (processed, ignored, duplicate, failed).",
    ["provider", "type", "outcome"],
)
REFUNDS = Counter(
    "aiasmr_refunds_total",
    "Refunds of a generation's charge, by who gave them (system or staff).",
    ["by"],
)
REFUNDED_CREDITS = Counter(
    "aiasmr_refunded_credits_total",
    "Credits given back by refunds, by who gave them.",
    ["by"],
)


def count_on_commit(increment: Callable[[], None]) -> None:
    """Counts once the surrounding transaction commits (at once outside a transaction)."""
    transaction.on_commit(increment)


class TaskQueueCollector:
    """Depth and age of django_tasks_db's queue, read at scrape time (one grouped query)."""

    def collect(self):
        from django_tasks_db.models import DBTaskResult

        depth = GaugeMetricFamily(
            "aiasmr_task_queue_depth", "Tasks waiting or running, by queue, task and status.",
            labels=["queue", "task", "status"],
        )
        age = GaugeMetricFamily(
            "aiasmr_task_queue_oldest_age_seconds",
            "Age of the oldest task waiting or running (seconds since it was enqueued), by queue and status.",
            labels=["queue", "status"],
        )
        now = timezone.now()
        rows = (
            DBTaskResult.objects.filter(status__in=("READY", "RUNNING"))
            .values("queue_name", "task_path", "status")
            .annotate(n=Count("id"), oldest=Min("enqueued_at"))
        )
        oldest: dict[tuple[str, str], float] = {}
        for row in rows:
            task = row["task_path"].rsplit(".", 1)[-1]
            depth.add_metric([row["queue_name"], task, row["status"].lower()], row["n"])
            key = (row["queue_name"], row["status"].lower())
            oldest[key] = max(oldest.get(key, 0.0), (now - row["oldest"]).total_seconds())
        for (queue, status), seconds in oldest.items():
            age.add_metric([queue, status], seconds)
        yield depth
        yield age


def _registry() -> CollectorRegistry:
    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        MultiProcessCollector(registry)
    else:
        for collector in (REQUEST_LATENCY, GENERATIONS, KIE_ERRORS, PAYMENT_EVENTS, REFUNDS, REFUNDED_CREDITS):
            registry.register(collector)
    registry.register(TaskQueueCollector())
    return registry


def metrics_view(request: HttpRequest) -> HttpResponse:
    """The scrape endpoint; 404 unless METRICS_TOKEN is set and presented as a bearer token."""
    token = getattr(settings, "METRICS_TOKEN", "")
    presented = request.headers.get("Authorization", "")
    if not token or not hmac.compare_digest(presented.encode(), f"Bearer {token}".encode()):
        raise Http404
    return HttpResponse(generate_latest(_registry()), content_type=CONTENT_TYPE_LATEST)


KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


class RequestMetricsMiddleware:
    """Times every request into REQUEST_LATENCY, labelled with its route pattern (not its path, so
    ids do not make new series); requests no route matched share the label `unmatched`."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        response = self.get_response(request)
        match = getattr(request, "resolver_match", None)
        route = f"/{match.route}" if match is not None and match.route else "unmatched"
        method = request.method if request.method in KNOWN_METHODS else "other"
        REQUEST_LATENCY.labels(method, route, str(response.status_code)).observe(
            time.perf_counter() - started
        )
        return response
