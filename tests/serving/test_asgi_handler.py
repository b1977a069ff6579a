"""The ASGI handler runs a request's middleware chain and view as one sync call on the request's thread,
instead of a hop between the event loop and a thread for every sync middleware step."""

import json

import pytest
from asgiref import sync
from asgiref.testing import ApplicationCommunicator
from django.core.handlers.asgi import ASGIHandler

from aiasmr.asgi_handler import SyncChainASGIHandler


def _scope(path: str, method: str = "GET") -> dict:
    return {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method, "scheme": "http",
        "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": "",
        "headers": [(b"host", b"127.0.0.1")], "client": ("127.0.0.1", 5000), "server": ("127.0.0.1", 8000),
    }


async def _serve(app, path: str) -> tuple[int, dict, dict]:
    communicator = ApplicationCommunicator(app, _scope(path))
    await communicator.send_input({"type": "http.request", "body": b""})
    start = await communicator.receive_output(5)
    body = await communicator.receive_output(5)
    await communicator.wait(5)
    headers = {name.decode().lower(): value.decode() for name, value in start["headers"]}
    return start["status"], headers, json.loads(body["body"])


@pytest.fixture
def hops(monkeypatch):
    """How many times sync code is handed to a thread."""
    counted = []
    original = sync.SyncToAsync.__call__

    async def counting(self, *args, **kwargs):
        counted.append(getattr(self.func, "__qualname__", repr(self.func)))
        return await original(self, *args, **kwargs)

    monkeypatch.setattr(sync.SyncToAsync, "__call__", counting)
    return counted


def test_a_request_is_answered_through_the_whole_stack_in_three_hops_at_most(hops):
    status, headers, body = sync.async_to_sync(_serve)(SyncChainASGIHandler(), "/api/ping")
    assert (status, body["success"], body["data"]) == (200, True, {"pong": True})
    assert headers["x-request-id"] and headers["x-content-type-options"] == "nosniff"  # our and Django's middleware
    # request_started's receivers, the middleware chain with the view, response.close().
    assert len(hops) <= 3, hops


def test_django_s_own_handler_would_hop_for_every_sync_middleware_step(hops):
    status, _, _ = sync.async_to_sync(_serve)(ASGIHandler(), "/api/ping")
    assert status == 200
    assert len(hops) > 6, hops  # what the handler saves; if this drops, the handler may be unneeded


def test_unknown_routes_and_trailing_slashes_behave_as_under_the_stock_handler(hops):
    status, _, body = sync.async_to_sync(_serve)(SyncChainASGIHandler(), "/api/no-such-route")
    assert (status, body["success"], body["error"]["code"]) == (404, False, "NOT_FOUND")
    status, _, body = sync.async_to_sync(_serve)(SyncChainASGIHandler(), "/api/ping/")
    assert (status, body["data"]) == (200, {"pong": True})
