"""/metrics: hidden without its token; request latency by route, generations, KIE errors, payment events,
refunds and the task queue move as the service works."""

from __future__ import annotations

import re

import pytest
from rest_framework.test import APIClient

from tests.videos.conftest import GOOD_BODY, deliver, fake_kie, fake_kie_server, run_tasks  # noqa: F401 - fixtures
from videos.models import Video

TOKEN = "metrics-test-token"  # noqa: S105 - a test value


def scrape(client: APIClient | None = None) -> str:
    client = client or APIClient()
    response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/plain")
    return response.content.decode()


def sample(text: str, name: str, **labels) -> float:
    """The value of one series (0 when absent); labels given must all match."""
    total = 0.0
    for line in text.splitlines():
        match = re.match(rf"^{re.escape(name)}(?:\{{(.*)\}})? (\S+)$", line)
        if not match:
            continue
        found = dict(re.findall(r'(\w+)="([^"]*)"', match.group(1) or ""))
        if all(found.get(key) == value for key, value in labels.items()):
            total += float(match.group(2))
    return total


@pytest.fixture(autouse=True)
def metrics_token(settings):
    settings.METRICS_TOKEN = TOKEN


@pytest.mark.django_db
class TestAccess:
    def test_without_the_setting_metrics_do_not_exist(self, settings, api_client):
        settings.METRICS_TOKEN = ""
        assert api_client.get("/metrics", HTTP_AUTHORIZATION="Bearer ").status_code == 404
        assert api_client.get("/metrics").status_code == 404

    @pytest.mark.parametrize("header", [None, "Bearer wrong", f"Token {TOKEN}", f"Bearer {TOKEN}x"])
    def test_a_missing_or_wrong_token_is_a_404(self, api_client, header):
        extra = {"HTTP_AUTHORIZATION": header} if header else {}
        response = api_client.get("/metrics", **extra)
        assert response.status_code == 404
        assert b"aiasmr_" not in response.content


@pytest.mark.django_db
def test_request_latency_is_counted_by_route_pattern(api_client):
    before = scrape()
    for _ in range(3):
        assert api_client.get("/api/ping").status_code == 200
    api_client.get("/api/no-such-route")
    after = scrape()
    count = "aiasmr_http_request_duration_seconds_count"
    assert sample(after, count, route="/api/ping", method="GET", status="200") - sample(
        before, count, route="/api/ping", method="GET", status="200"
    ) == 3
    assert sample(after, count, route="unmatched", status="404") > sample(before, count, route="unmatched", status="404")
    assert 'le="0.1"' in after


@pytest.mark.django_db(transaction=True)
def test_generations_kie_errors_refunds_and_the_queue_move(auth_client, fake_kie):  # noqa: F811
    before = scrape()
    assert auth_client.post("/api/generate", GOOD_BODY, format="json").status_code == 200
    queued = scrape()
    assert sample(queued, "aiasmr_generations_total", outcome="started") - sample(
        before, "aiasmr_generations_total", outcome="started"
    ) == 1
    assert sample(queued, "aiasmr_task_queue_depth", status="ready") >= 1
    assert sample(queued, "aiasmr_task_queue_oldest_age_seconds", status="ready") >= 0
    assert "aiasmr_task_queue_oldest_age_seconds{" in queued

    run_tasks()  # submitted to the fake KIE
    video = Video.objects.get(user=auth_client.user)
    body = {"code": 501, "msg": "Content policy violation.", "data": {"taskId": video.provider_task_id}}
    callback = {"url": "http://testserver/api/kie-callback?secret=test-callback-secret", "body": body}
    assert deliver(auth_client, callback).status_code == 200
    settled = scrape()
    assert sample(settled, "aiasmr_generations_total", outcome="failed") - sample(
        before, "aiasmr_generations_total", outcome="failed"
    ) == 1
    assert sample(settled, "aiasmr_refunds_total", by="system") - sample(before, "aiasmr_refunds_total", by="system") == 1
    assert sample(settled, "aiasmr_refunded_credits_total", by="system") - sample(
        before, "aiasmr_refunded_credits_total", by="system"
    ) == video.credit_cost

    # KIE refuses the next submission: counted by code.
    fake_kie.configure(generate_code=402)
    assert auth_client.post("/api/generate", GOOD_BODY, format="json").status_code == 200
    run_tasks()
    refused = scrape()
    assert sample(refused, "aiasmr_kie_errors_total", kie_code="402") - sample(
        before, "aiasmr_kie_errors_total", kie_code="402"
    ) >= 1


@pytest.mark.django_db
def test_payment_events_are_counted_by_type_and_outcome(auth_client):
    before = scrape()
    order_id = auth_client.post(
        "/api/credits/purchase", {"package": "basic", "amount": 100}, format="json"
    ).json()["data"]["order"]["id"]
    assert auth_client.post(f"/api/billing/sandbox/confirm/{order_id}", {}, format="json").status_code == 200
    after = scrape()
    series = {"provider": "sandbox", "type": "payment_intent.succeeded", "outcome": "processed"}
    assert sample(after, "aiasmr_payment_events_total", **series) - sample(
        before, "aiasmr_payment_events_total", **series
    ) == 1
