"""SSRF: image URLs must be public https hosts in every spelling; file URLs named by a callback body are
never fetched unless they are on a configured KIE file host (KIE's record names the real ones)."""

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.security.conftest import error_code
from tests.videos.conftest import GOOD_BODY, balance, deliver, run_tasks
from videos.models import Video, VideoEvent

INTERNAL_IMAGE_URLS = [
    "https://127.1/a.jpg",  # short IPv4 forms resolvers accept
    "https://0x7f.0.0.1/a.jpg",
    "https://0x7f000001/a.jpg",  # hex
    "https://2130706433/a.jpg",  # decimal
    "https://0177.0.0.1/a.jpg",  # octal
    "https://017700000001/a.jpg",
    "https://0/a.jpg",
    "https://0.0.0.0/a.jpg",
    "https://192.168.1.10/a.jpg",
    "https://172.16.0.1/a.jpg",
    "https://100.64.0.1/a.jpg",  # carrier-grade NAT
    "https://169.254.169.254./latest/meta-data/",  # metadata, trailing dot
    "https://metadata.google.internal/computeMetadata/v1/",
    "https://224.0.0.1/a.jpg",  # multicast
    "https://[::1]/a.jpg",
    "https://[::]/a.jpg",
    "https://[::ffff:127.0.0.1]/a.jpg",  # IPv4-mapped
    "https://[::ffff:a9fe:a9fe]/a.jpg",
    "https://[64:ff9b::a9fe:a9fe]/a.jpg",  # NAT64 of 169.254.169.254
    "https://[2002:7f00:1::]/a.jpg",  # 6to4 of 127.0.0.1
    "https://[fd00::1]/a.jpg",
    "https://[fe80::1]/a.jpg",
    "https://\uff11\uff12\uff17.\uff10.\uff10.\uff11/a.jpg",  # full-width digits
    "https://good.com@127.0.0.1/a.jpg",  # userinfo tricks
    "https://good.com:443@127.0.0.1/a.jpg",
    "https://127.0.0.1\\@good.com/a.jpg",
    "https://127.0.0.1#@good.com/a.jpg",
    "https://localhost/a.jpg",
    "https://LocalHost./a.jpg",
    "https://printer.local/a.jpg",
    "https://intranet/a.jpg",  # single-label names
    "https://10.0.0.1%2f.good.com/a.jpg",
    "https://cdn.example.com\t/a.jpg",
    "https://cdn.example.com:8443/a.jpg",
    "https://cdn.example.com:22/a.jpg",
    "http://cdn.example.com/a.jpg",  # non-https schemes
    "ftp://cdn.example.com/a.jpg",
    "file:///etc/passwd",
    "gopher://127.0.0.1:6379/_INFO",
    "dict://127.0.0.1:11211/stats",
    "javascript:alert(1)",
    "data:image/png;base64,AAAA",
    "//cdn.example.com/a.jpg",
]


@pytest.mark.django_db
@pytest.mark.parametrize("url", INTERNAL_IMAGE_URLS)
def test_internal_or_non_https_image_urls_are_refused_before_anything_is_charged(fake_kie, auth_client, url):
    start = balance(auth_client.user)

    response = auth_client.post("/api/generate", {**GOOD_BODY, "imageUrl": url}, format="json")

    assert response.status_code == 400 and error_code(response) == "VALIDATION_ERROR"
    assert [item["field"] for item in response.json()["error"]["details"]] == ["imageUrl"]
    assert Video.objects.count() == 0 and balance(auth_client.user) == start
    run_tasks()
    assert fake_kie.state()["generateCalls"] == 0


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["https://cdn.example.com/a.jpg", "https://8.8.8.8/a.jpg", "https://[2606:4700::1111]/a.jpg"])
def test_public_https_image_urls_reach_kie_unchanged(fake_kie, auth_client, url):
    fake_kie.configure(fetch_images=False)  # the fake would fetch them like KIE; these hosts are offline here
    response = auth_client.post("/api/generate", {**GOOD_BODY, "imageUrl": url}, format="json")
    assert response.status_code == 200
    run_tasks()
    [job] = fake_kie.state()["jobs"].values()
    assert job["body"]["imageUrl"] == url


class Listener:
    """A local HTTP server standing for an internal service: it counts every request it gets."""

    def __init__(self):
        listener = self
        self.requests: list[str] = []

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):  # noqa: N802
                listener.requests.append(self.path)
                self.send_response(200)
                self.send_header("Content-Type", "video/mp4")
                self.send_header("Content-Length", "4")
                self.end_headers()
                self.wfile.write(b"evil")

            do_HEAD = do_POST = do_GET  # noqa: N815

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def listener():
    server = Listener()
    yield server
    server.close()


def _internal_urls(listener, fake_kie) -> list[tuple[str, str]]:
    port, kie = listener.port, fake_kie.server.file_host
    return [
        (f"http://127.0.0.1:{port}/x.mp4", f"http://127.0.0.1:{port}/x.jpg"),
        (f"http://localhost:{port}/x.mp4", f"http://[::1]:{port}/x.jpg"),
        (f"http://{kie}@127.0.0.1:{port}/x.mp4", f"http://{kie}:pw@127.0.0.1:{port}/x.jpg"),  # userinfo
        (f"http://127.0.0.1:{port}\\@{kie}/x.mp4", f"http://2130706433:{port}/x.jpg"),
        ("http://169.254.169.254/latest/meta-data/iam", "https://evil.example/x.jpg"),
        (f"https://127.0.0.1:{port}/x.mp4", f"file:///etc/passwd#{port}"),
    ]


@pytest.mark.django_db
@pytest.mark.parametrize("case", range(6))
def test_callback_file_urls_on_internal_or_foreign_hosts_are_never_fetched(fake_kie, auth_client, listener, case):
    video_url, image_url = _internal_urls(listener, fake_kie)[case]
    task_id = auth_client.post("/api/generate", GOOD_BODY, format="json").json()["data"]["taskId"]
    run_tasks()
    [callback] = fake_kie.wait_callbacks(1)
    forged = {**callback["body"], "data": {**callback["body"]["data"], "video_url": video_url, "image_url": image_url}}

    assert deliver(auth_client, {**callback, "body": forged}).status_code == 200
    video = Video.objects.get(pk=task_id)
    assert video.status == "storing"
    assert (video.provider_video_url, video.provider_thumbnail_url) == ("", "")

    run_tasks()  # the copy asks KIE's record for the real file URLs

    assert listener.requests == []
    video.refresh_from_db()
    assert video.status == "ready"
    assert video.provider_video_url.startswith(f"{fake_kie.url}/files/")
    assert video.file_size and video.file_size > 4


@pytest.mark.django_db
def test_the_listener_is_reachable_so_the_test_above_can_fail(fake_kie, auth_client, listener, settings):
    """The control: once the listener is a configured KIE file host, the same callback is fetched."""
    settings.KIE_FILE_HOSTS = [*settings.KIE_FILE_HOSTS, f"127.0.0.1:{listener.port}"]
    task_id = auth_client.post("/api/generate", GOOD_BODY, format="json").json()["data"]["taskId"]
    run_tasks()
    [callback] = fake_kie.wait_callbacks(1)
    url = f"http://127.0.0.1:{listener.port}/x.mp4"
    forged = {**callback["body"], "data": {**callback["body"]["data"], "video_url": url, "image_url": ""}}

    deliver(auth_client, {**callback, "body": forged})
    run_tasks()

    assert listener.requests == ["/x.mp4"]
    assert Video.objects.get(pk=task_id).file_size == 4


@pytest.mark.django_db
def test_a_callback_with_a_nul_character_is_refused_not_a_500(fake_kie, auth_client):
    auth_client.post("/api/generate", GOOD_BODY, format="json")
    run_tasks()
    [callback] = fake_kie.wait_callbacks(1)
    events = VideoEvent.objects.count()
    for data in ({"task_id": "a\x00b"}, {**callback["body"]["data"], "video_url": "https://x.example/\x00"}):
        response = deliver(auth_client, {**callback, "body": {**callback["body"], "msg": "ok\x00", "data": data}})
        assert response.status_code == 400 and error_code(response) == "INVALID_CALLBACK"
    assert VideoEvent.objects.count() == events
