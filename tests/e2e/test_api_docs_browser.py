"""The API docs in a real browser, under the site's CSP: Swagger UI and ReDoc render the operations, and
no request leaves the machine (the probe found Swagger UI blank and ReDoc fetching Google Fonts)."""

from urllib.parse import urlsplit

import pytest

from tests.e2e.conftest import ARTIFACTS

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# An operation summary from the schema (videos.views), rendered by both UIs.
SUMMARY = "The user's videos, newest first"


def _record_requests(page) -> list[str]:
    urls: list[str] = []
    page.on("request", lambda request: urls.append(request.url))
    return urls


def _shot(page, name: str) -> None:
    # The visible part only: ReDoc's full page is too tall to capture in time; the fixture's own final
    # screenshot then sees a blank page.
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"))
    page.goto("about:blank")


def _foreign(urls: list[str], live_server) -> list[str]:
    own = urlsplit(live_server.url).netloc
    # data: and blob: URLs are built inside the page (ReDoc's search worker): nothing leaves the machine.
    return [url for url in urls if urlsplit(url).scheme not in ("data", "blob") and urlsplit(url).netloc != own]


def test_swagger_ui_renders_the_operations_under_the_csp(page, live_server):
    urls = _record_requests(page)
    page.goto("/api/docs/")
    page.wait_for_selector(".opblock-summary", timeout=20_000)
    assert SUMMARY in page.inner_text("#swagger-ui")
    assert page.locator(".opblock").count() > 20
    _shot(page, "api-docs-swagger")
    assert page.csp_violations == []
    assert any("/api/schema/" in url for url in urls)
    assert _foreign(urls, live_server) == []


def test_redoc_renders_the_operations_from_this_server_only(page, live_server):
    urls = _record_requests(page)
    page.goto("/api/redoc/")
    page.wait_for_selector(f'h2:has-text("{SUMMARY}")', timeout=20_000)
    assert page.locator("h2").count() > 20  # an operation heading each
    _shot(page, "api-docs-redoc")

    # Its bundle is served without the Redocly logo it would fetch from cdn.redoc.ly.
    assert page.csp_violations == []
    assert any("/api/schema/" in url for url in urls)
    assert _foreign(urls, live_server) == []
