"""The dashboard: drawn from the database as inline SVG (no scripts, no CDN), with KIE's credits or "unavailable"."""

import re
import socket
import time
from datetime import timedelta
from decimal import Decimal

import pytest
import responses
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from aiasmr.backoffice.selectors import dashboard_data
from billing.models import Order, OrderStatus
from tests.admin.builders import billing_make, video_make
from tests.factories import UserFactory
from videos.models import Video, VideoStatus

KIE = "http://kie.test/api/v1"


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def business(db):
    customer = UserFactory()  # +20 bonus
    video_make(user=customer, status=VideoStatus.FAILED, error_code="CONTENT_POLICY", error_message="nope")
    video_make(user=customer, status=VideoStatus.FAILED, charge=False, error_code="CONTENT_POLICY")
    video_make(user=customer, status=VideoStatus.FAILED, charge=False, error_code="PROVIDER_TIMEOUT")
    video_make(user=customer, status=VideoStatus.READY, charge=False)
    stuck = video_make(user=customer, status=VideoStatus.PROCESSING, charge=False, provider_task_id="task-stuck")
    Video.objects.filter(pk=stuck.pk).update(updated_at=timezone.now() - timedelta(hours=2))
    video_make(user=customer, status=VideoStatus.PROCESSING, charge=False, provider_task_id="task-fresh")
    old = video_make(user=customer, status=VideoStatus.FAILED, charge=False, error_code="OLD")
    Video.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=40))
    records = billing_make(user=customer)
    Order.objects.filter(pk=records["order"].pk).update(amount=Decimal("19.99"))
    Order.objects.create(
        user=customer, credits=100, amount=Decimal("9.99"), provider="sandbox", status=OrderStatus.REFUNDED,
        completed_at=timezone.now(), refunded_at=timezone.now(),
    )
    return customer


@pytest.mark.django_db
def test_the_numbers_come_from_the_database(business):
    data = dashboard_data()
    assert len(data["days"]) == 30 and data["days"][-1] == timezone.localdate()
    today = -1
    assert data["generations"]["failed"][today] == 3  # the 40-day-old one is outside the window
    assert sum(data["generations"]["failed"]) == 3
    assert data["generations"]["ready"][today] == 1
    assert data["generations"]["processing"][today] == 2
    assert data["credits"]["spent"][today] == 20
    assert data["credits"]["refunded"][today] == 0
    assert data["revenue"]["revenue"][today] == Decimal("29.98")
    assert data["revenue"]["refunds"][today] == Decimal("9.99")
    assert data["failure_reasons"][0]["code"] == "CONTENT_POLICY" and data["failure_reasons"][0]["count"] == 2
    assert [reason["code"] for reason in data["failure_reasons"]] == ["CONTENT_POLICY", "PROVIDER_TIMEOUT"]
    assert data["stuck_count"] == 1 and data["stuck"][0].provider_task_id == "task-stuck"


@pytest.mark.django_db
@responses.activate
@override_settings(KIE_API_KEY="test-key", KIE_BASE_URL=KIE)
def test_the_page_draws_svg_charts_without_scripts_or_outside_assets(su_client, business):
    responses.get(f"{KIE}/chat/credit", json={"code": 200, "msg": "success", "data": 4321})
    response = su_client.get(reverse("admin:dashboard"))
    assert response.status_code == 200
    html = response.content.decode()
    for chart in ("chart-generations", "chart-credits", "chart-revenue"):
        assert f'<svg class="bo-chart" id="{chart}"' in html
    assert html.count('class="bo-bar bo-failed"') == 1  # one day with failures
    assert "4321" in html
    assert "task-stuck" in html and "task-fresh" not in html
    assert not re.search(r"<script(?![^>]*\ssrc=)[^>]*>", html), "inline script (the CSP forbids it)"
    assert not re.search(r'(src|href)="(https?:)?//', html), "an asset from outside the service"
    assert "script-src 'self'" in response["Content-Security-Policy"]


@pytest.mark.django_db
@override_settings(KIE_API_KEY="test-key", KIE_ACCOUNT_TIMEOUT_SECONDS=1.0)
def test_kie_unreachable_shows_unavailable_quickly(su_client, settings):
    settings.KIE_BASE_URL = f"http://127.0.0.1:{_closed_port()}/api/v1"
    started = time.monotonic()
    response = su_client.get(reverse("admin:dashboard"))
    assert response.status_code == 200
    assert time.monotonic() - started < 5
    assert re.search(r'id="bo-kie-credits".*?bo-unavailable', response.content.decode(), re.S)


@pytest.mark.django_db
def test_an_empty_database_renders(su_client):
    response = su_client.get(reverse("admin:dashboard"))
    assert response.status_code == 200
    assert response.content.decode().count('class="bo-chart"') == 3
