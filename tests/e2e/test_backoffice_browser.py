"""The back office in a real browser: log in, refund a failed generation once, dashboard charts, no entry
for customers. Screenshots land in test-artifacts/e2e/."""

import re

import pytest
from django.urls import reverse

from accounts.models import Profile
from credits.models import CreditTransaction, TransactionType
from tests.admin.builders import staff_make, video_make
from tests.e2e.conftest import admin_login, admin_path, shot
from tests.factories import DEFAULT_PASSWORD, UserFactory
from videos.models import VideoStatus

pytestmark = pytest.mark.browser

STAFF_PASSWORD = "Staff-pass-123!"
STAFF_PERMS = (
    "accounts.view_user",
    "videos.view_video",
    "credits.view_credittransaction",
    "credits.refund_credits",
)


@pytest.mark.django_db(transaction=True)
def test_staff_refunds_a_failed_generation_once_and_sees_the_balance_change(page):
    staff = staff_make(perms=STAFF_PERMS, email="staff@example.com", password=STAFF_PASSWORD)
    customer = UserFactory(email="customer@example.com")
    video = video_make(user=customer, status=VideoStatus.FAILED, error_code="CONTENT_POLICY",
                       error_message="The prompt was refused.")
    assert Profile.objects.get(user=customer).credits == 0

    admin_login(page, staff.email, STAFF_PASSWORD)
    page.wait_for_selector("#user-tools")
    # The admin's own stylesheet is served by the service (no CDN) and applied.
    assert page.evaluate("getComputedStyle(document.querySelector('#header')).display") == "flex"

    page.goto(admin_path(f"accounts/user/{customer.pk}/change/"))
    assert page.inner_text(".field-balance .readonly").strip() == "0"

    page.goto(admin_path("videos/video/?status__exact=failed"))
    page.click(f"#result_list a[href*='{video.pk}']")
    page.wait_for_selector("#bo-refund")
    assert "CONTENT_POLICY" in page.inner_text("#content-main")
    shot(page, "1-failed-generation")

    page.click("#bo-refund")
    page.wait_for_selector(".messagelist .success")
    shot(page, "2-refunded")
    assert page.inner_text(".field-charge_state .readonly").strip() == "refunded"

    page.click(".field-user_link a")
    page.wait_for_selector(".field-balance")
    assert page.inner_text(".field-balance .readonly").strip() == "20"
    shot(page, "3-balance-after-refund")

    page.goto(admin_path(f"videos/video/{video.pk}/change/"))
    page.click("#bo-refund")
    page.wait_for_selector(".messagelist .warning")
    shot(page, "4-second-refund-refused")
    assert Profile.objects.get(user=customer).credits == 20
    assert CreditTransaction.objects.filter(video=video, type=TransactionType.REFUND).count() == 1
    assert page.csp_violations == []


@pytest.mark.django_db(transaction=True)
def test_a_customer_cannot_enter_the_back_office(page):
    customer = UserFactory(email="customer@example.com")
    admin_login(page, customer.email, DEFAULT_PASSWORD)
    page.wait_for_selector(".errornote")
    shot(page, "customer-refused")
    page.goto(admin_path())
    assert re.search(re.escape(admin_path("login/")), page.url)
    assert page.locator("#user-tools").count() == 0


@pytest.mark.django_db(transaction=True)
def test_the_dashboard_renders_its_charts(page):
    staff = staff_make(email="staff@example.com", password=STAFF_PASSWORD)
    customer = UserFactory()
    video_make(user=customer, status=VideoStatus.FAILED, error_code="CONTENT_POLICY")
    video_make(user=customer, status=VideoStatus.READY, charge=False)

    admin_login(page, staff.email, STAFF_PASSWORD)
    page.click("#bo-dashboard-link")
    page.wait_for_selector("svg.bo-chart")
    assert page.url.endswith(reverse("admin:dashboard"))
    charts = page.locator("svg.bo-chart")
    assert charts.count() == 3
    for index in range(3):
        box = charts.nth(index).bounding_box()
        assert box and box["width"] > 300 and box["height"] > 80
    assert page.locator("#chart-generations rect.bo-failed").count() == 1
    assert page.locator("#chart-generations rect.bo-ready").count() == 1
    # The back office stylesheet loaded (served by the project itself).
    assert page.evaluate("getComputedStyle(document.querySelector('.bo-cards')).display") == "flex"
    assert "unavailable" in page.inner_text("#bo-kie-credits") or page.inner_text("#bo-kie-credits .bo-big").isdigit()
    shot(page, "dashboard")
    assert page.csp_violations == []
