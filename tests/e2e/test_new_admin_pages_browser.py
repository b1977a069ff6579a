"""The back-office pages added for the model catalogue, prompt templates, store purchases, free credits and
the sign-in lockout, opened in a real browser: each renders its rows under the CSP, not just a 200."""

import pytest

from rewards.seed import reward_tables_ensure
from tests.admin.builders import staff_make
from tests.e2e.conftest import admin_login, admin_path, shot

pytestmark = pytest.mark.browser

STAFF_PASSWORD = "Staff-pass-123!"
PAGES = {
    # changelist path: text one of its seeded rows (or its header) shows
    "videos/generationmodel/": "veo3_fast",
    "videos/modelprice/": "720p",
    "videos/prompttemplate/": "Kinetic",
    "rewards/checkinreward/": "Day",
    "rewards/referralrewardrule/": "registration",
    "billing/storepurchase/": "store purchase",
    "axes/accessattempt/": "access attempt",
}


@pytest.mark.django_db(transaction=True)
def test_each_new_admin_page_renders_its_content(page):
    reward_tables_ensure()  # a transactional flush empties the seeded reward tables
    staff = staff_make(email="root@example.com", password=STAFF_PASSWORD)
    staff.is_superuser = True
    staff.save(update_fields=["is_superuser"])
    violations = []
    page.on("console", lambda message: violations.append(message.text) if "Content Security Policy" in message.text else None)

    admin_login(page, staff.email, STAFF_PASSWORD)
    page.wait_for_selector("#user-tools")
    for path, text in PAGES.items():
        page.goto(admin_path(path))
        page.wait_for_selector("#content-main")
        assert text.lower() in page.inner_text("#content").lower(), path
        shot(page, "new-admin-" + path.strip("/").replace("/", "-"))

    # The dashboard gains the free-credits series beside purchased credits.
    page.goto(admin_path("dashboard/"))
    page.wait_for_selector("#chart-credits")
    assert "Free" in page.inner_text("#content")
    assert violations == []
