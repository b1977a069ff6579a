"""Browser tests: Playwright drives Debian's Chromium (headless) against pytest-django's live server.

Playwright cannot download its own browser here; `.ci/run` (or `apt-get install -y chromium`) installs
Debian's. Without it these tests are skipped with that message, never silently.
"""

import os
from pathlib import Path

import pytest
from django.conf import settings

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "e2e"
INSTALL_HINT = "apt-get install -y chromium (Debian's Chromium; Playwright cannot download its own browser here)"


@pytest.fixture(scope="package")
def browser():
    """One Chromium for the browser tests (package scope: it is gone before the rest of the suite runs)."""
    if not Path(CHROMIUM).exists():
        pytest.skip(f"Chromium not found at {CHROMIUM}: {INSTALL_HINT}, or set CHROMIUM_PATH")
    sync_api = pytest.importorskip(
        "playwright.sync_api", reason="playwright is not installed: pip install -r requirements-dev.txt"
    )
    # Playwright's sync API keeps an event loop running in this thread while the browser is open; the
    # tests' own ORM calls are still plain synchronous code, so Django's async guard is lifted meanwhile.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-dev-shm-usage"],
        )
        yield browser
        browser.close()
    if previous is None:
        os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    else:
        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def page(browser, live_server, request):
    """A fresh browser context per test; a screenshot of the last page is kept under test-artifacts/e2e/."""
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.csp_violations = []
    page.on(
        "console",
        lambda message: page.csp_violations.append(message.text)
        if "Content Security Policy" in message.text or "Refused to" in message.text
        else None,
    )
    yield page
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    try:
        page.screenshot(path=str(ARTIFACTS / f"{request.node.name}-final.png"), full_page=True)
    finally:
        context.close()


def shot(page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def admin_path(path: str = "") -> str:
    return "/" + settings.ADMIN_URL + path


def admin_login(page, email: str, password: str) -> None:
    page.goto(admin_path("login/"))
    page.fill("#id_username", email)
    page.fill("#id_password", password)
    page.click("input[type=submit]")
