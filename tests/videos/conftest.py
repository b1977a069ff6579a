"""Generation tests drive the fake KIE server over real HTTP and run the real task worker."""

from urllib.parse import urlsplit

import pytest
import requests
from django.core.files.storage import default_storage
from django_tasks_db.management.commands.db_worker import Worker

from accounts.models import Profile
from credits.models import CreditTransaction
from devtools.fake_kie import FakeKie

GOOD_BODY = {"prompt": "soap being cut slowly on a wooden board", "triggers": ["soap"]}


class FakeKieDriver:
    """Talks to the fake's control endpoints over HTTP."""

    def __init__(self, server: FakeKie):
        self.server = server
        self.url = server.url

    def reset(self, **knobs):
        requests.post(f"{self.url}/_fake/reset", json=knobs, timeout=5).raise_for_status()

    def configure(self, **knobs):
        requests.post(f"{self.url}/_fake/config", json=knobs, timeout=5).raise_for_status()

    def state(self) -> dict:
        return requests.get(f"{self.url}/_fake/state", timeout=5).json()

    def callbacks(self) -> list[dict]:
        return self.state()["callbacks"]

    def wait_callbacks(self, count: int, timeout: float = 5.0) -> list[dict]:
        import time

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.callbacks()
            if len(found) >= count:
                return found
            time.sleep(0.02)
        raise AssertionError(f"expected {count} callbacks, got {len(self.callbacks())}")


@pytest.fixture(scope="session")
def fake_kie_server():
    server = FakeKie(port=0).start()
    yield server
    server.stop()


@pytest.fixture
def fake_kie(fake_kie_server, settings, tmp_path):
    """A fresh fake (jobs done at once, callbacks held for the test to deliver) and local storage."""
    driver = FakeKieDriver(fake_kie_server)
    driver.reset(job_seconds=0, callback="hold")
    settings.KIE_API_KEY = "fake-kie-key"
    settings.KIE_BASE_URL = fake_kie_server.base_url
    settings.KIE_FILE_HOSTS = [fake_kie_server.file_host]
    settings.KIE_READ_TIMEOUT = 5
    settings.CALLBACK_URL = "http://testserver/api/kie-callback"
    settings.KIE_CALLBACK_SECRET = "test-callback-secret"
    settings.KIE_WEBHOOK_HMAC_KEY = ""
    settings.GENERATION_RETRY_BASE_SECONDS = 30
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "media"), "base_url": "http://testserver/media/"},
        },
    }
    return driver


def run_tasks(limit: int = 50) -> int:
    """Runs every task that is ready now (a task deferred with run_after waits), like the db_worker.

    The worker's own loop closes connections (fine in production, fatal inside a test transaction), so
    this claims and runs tasks with the worker's `run_task`.
    """
    from django.db import transaction
    from django_tasks_db.models import DBTaskResult

    worker = Worker(
        queue_names=["default"],
        interval=0,
        batch=True,
        backend_name="default",
        startup_delay=False,
        max_tasks=None,
        worker_id="test-worker",
        excluded_queue_names=[],
    )
    ran = []
    while len(ran) < limit:
        with transaction.atomic():
            task_result = DBTaskResult.objects.ready().filter(backend_name="default").get_locked()
            if task_result is None:
                break
            task_result.claim("test-worker")
        worker.run_task(task_result)
        ran.append(task_result.pk)
    failed = list(DBTaskResult.objects.filter(pk__in=ran, status="FAILED").values_list("task_path", "traceback"))
    assert not failed, failed
    return len(ran)


def deliver(client, callback: dict, *, headers: dict | None = None):
    """Posts a callback the fake recorded to the Django test client, at the URL KIE was given."""
    parts = urlsplit(callback["url"])
    extra = {f"HTTP_{k.upper().replace('-', '_')}": v for k, v in (headers or {}).items()}
    return client.post(f"{parts.path}?{parts.query}", callback["body"], format="json", **extra)


def balance(user) -> int:
    return Profile.objects.get(user=user).credits


def refunds(video) -> int:
    return CreditTransaction.objects.filter(video_id=video.pk, type="refund").count()


def stored_bytes(name: str) -> bytes:
    with default_storage.open(name, "rb") as handle:
        return handle.read()


@pytest.fixture
def served_media(fake_kie, settings, tmp_path):
    """Stored files served over real HTTP (as R2 or `make run` would), so the fake KIE can fetch uploads."""
    import functools
    import threading
    from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

    root = tmp_path / "media"
    root.mkdir(exist_ok=True)

    class Quiet(SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(root)))
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{httpd.server_address[1]}/"
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(root), "base_url": base},
        },
    }
    yield base
    httpd.shutdown()
    httpd.server_close()


def png_bytes(size=(64, 48), color=(200, 120, 40)) -> bytes:
    import io

    from PIL import Image

    output = io.BytesIO()
    Image.new("RGB", size, color).save(output, format="PNG")
    return output.getvalue()


def upload_image(client, raw: bytes, name: str = "photo.png"):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return client.post("/api/uploads/images", {"file": SimpleUploadedFile(name, raw)}, format="multipart")
