"""A fake KIE server: KIE's paths, envelope, bearer auth and (signed) callbacks, over real HTTP.

`manage.py fake_kie --port N` runs it; tests start it in-process on a free port (`FakeKie().start()`).
Defaults feel like KIE but quick: a job is accepted at once, moves through wait, queueing and
generating, and succeeds after `job_seconds`, then KIE's snake_case callback is POSTed to its
callBackUrl. Knobs (CLI flags, or JSON to POST /_fake/config) switch on KIE's other behaviours:

  latency            seconds added to every API answer
  job_seconds        how long a job takes (0: done at once)
  generate_code      answer every generate with this KIE code (401, 402, 422, 429, 451, 455, 500, ...)
  generate_fail_rate fraction of generates answered with code 500
  generate_hang      seconds to sleep after creating the job, before answering (client timeouts)
  job_fail_rate      fraction of jobs that end in `fail` (1: all); fail_code / fail_msg
  callback           "send" (default), "lost" (never sent), "hold" (kept until POST /_fake/callbacks/deliver)
  callback_delay     extra seconds before the callback (late callbacks)
  callback_copies    how many times each callback is sent (duplicates)
  hmac_key           sign callbacks (X-Webhook-Timestamp / X-Webhook-Signature) with this key
  record_shape       "new" (taskId, failCode int) or "old" (id, failCode "")
  credits            what GET /chat/credit answers
  expired            records say expireFlag 1 and files answer 404
  file_failures      the next N file downloads answer 503
  public_url         the base of the file URLs it hands out (default http://<host>:<port>)

Control: GET /_fake/state (config, jobs, callbacks sent), POST /_fake/config, POST /_fake/reset,
POST /_fake/callbacks/deliver ({"url": optional override}).
"""

from __future__ import annotations

import copy
import json
import logging
import random
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import requests

from videos.kie.signing import webhook_signature

logger = logging.getLogger("aiasmr.fake_kie")

MEDIA_DIR = Path(__file__).resolve().parent / "fake_media"
API_PREFIX = "/api/v1"
ASPECT_RATIOS = {"16:9", "4:3", "1:1", "3:4", "9:16"}

DEFAULTS = {
    "api_key": "fake-kie-key",
    "latency": 0.0,
    "job_seconds": 8.0,
    "long_duration": 8,
    "generate_code": 200,
    "generate_fail_rate": 0.0,
    "generate_hang": 0.0,
    "job_fail_rate": 0.0,
    "fail_code": 400,
    "fail_msg": "Content policy violation.",
    "callback": "send",
    "callback_delay": 0.0,
    "callback_copies": 1,
    "hmac_key": "",
    "record_shape": "new",
    "credits": 5000,
    "expired": False,
    "file_failures": 0,
    "public_url": "",
}


class FakeKieState:
    def __init__(self, **config):
        self.lock = threading.Lock()
        self.config = {**DEFAULTS, **config}
        self.jobs: dict[str, dict] = {}
        self.callbacks: list[dict] = []  # every callback due: sent, lost or held
        self.generate_calls = 0
        self.file_requests = 0

    def reset(self, **config):
        with self.lock:
            keep = {"api_key": self.config["api_key"], "public_url": self.config["public_url"]}
            self.config = {**DEFAULTS, **keep, **config}
            self.jobs.clear()
            self.callbacks.clear()
            self.generate_calls = 0
            self.file_requests = 0


def _envelope(code: int, msg: str, data=None) -> dict:
    return {"code": code, "msg": msg, "data": data}


class FakeKie:
    """The server: `start()` on a free port when port=0, `stop()`, `base_url` for KIE_BASE_URL."""

    def __init__(self, *, host: str = "127.0.0.1", port: int = 0, **config):
        self.state = FakeKieState(**config)
        self.httpd = ThreadingHTTPServer((host, port), _handler_for(self))
        self.httpd.daemon_threads = True
        self.host, self.port = self.httpd.server_address[:2]
        self._thread: threading.Thread | None = None
        self._timers: list[threading.Timer] = []

    @property
    def url(self) -> str:
        return self.state.config["public_url"] or f"http://{self.host}:{self.port}"

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}{API_PREFIX}"

    @property
    def file_host(self) -> str:
        return f"{self.host}:{self.port}"

    def start(self) -> FakeKie:
        self._thread = threading.Thread(target=self.httpd.serve_forever, name="fake-kie", daemon=True)
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        self.httpd.serve_forever()

    def stop(self) -> None:
        for timer in self._timers:
            timer.cancel()
        self.httpd.shutdown()
        self.httpd.server_close()

    # --- jobs -----------------------------------------------------------------------------------

    def job_state(self, job: dict) -> str:
        seconds = job["job_seconds"]
        elapsed = time.monotonic() - job["created"]
        if elapsed >= seconds:
            return "fail" if job["fail"] else "success"
        if elapsed < seconds * 0.1:
            return "wait"
        if elapsed < seconds * 0.3:
            return "queueing"
        return "generating"

    def record(self, job: dict) -> dict:
        config = self.state.config
        state = self.job_state(job)
        task_id = job["task_id"]
        data = {
            "state": state,
            "generateTime": job["created_at"],
            "expireFlag": 1 if config["expired"] else 0,
            "failCode": "" if config["record_shape"] == "old" else None,
            "failMsg": "",
            "videoInfo": None,
            "generateParam": {"prompt": job["body"].get("prompt", "")},
        }
        data["id" if config["record_shape"] == "old" else "taskId"] = task_id
        if state == "success":
            data["videoInfo"] = {
                "videoId": job["video_id"],
                "videoUrl": f"{self.url}/files/{task_id}.mp4",
                "imageUrl": f"{self.url}/files/{task_id}.jpg",
            }
        elif state == "fail":
            data["failCode"] = job["fail_code"] if config["record_shape"] == "new" else str(job["fail_code"])
            data["failMsg"] = job["fail_msg"]
        return data

    def callback_body(self, job: dict) -> dict:
        task_id = job["task_id"]
        if job["fail"]:
            code = 500 if int(job["fail_code"]) >= 500 else 400
            data = {"task_id": task_id, "video_id": "", "video_url": "", "image_url": ""}
            return {"code": code, "msg": job["fail_msg"], "data": data}
        return {
            "code": 200,
            "msg": "All generated successfully.",
            "data": {
                "task_id": task_id,
                "video_id": job["video_id"],
                "video_url": f"{self.url}/files/{task_id}.mp4",
                "image_url": f"{self.url}/files/{task_id}.jpg",
            },
        }

    def create_job(self, body: dict) -> dict:
        config = self.state.config
        task_id = uuid.uuid4().hex
        job = {
            "task_id": task_id,
            "video_id": uuid.uuid4().hex,
            "body": body,
            "callback_url": str(body.get("callBackUrl") or ""),
            "created": time.monotonic(),
            "created_at": time.strftime("%Y-%m-%d %H:%M:%S"),
            "job_seconds": float(config["job_seconds"]),
            "fail": random.random() < float(config["job_fail_rate"]),
            "fail_code": config["fail_code"],
            "fail_msg": config["fail_msg"],
        }
        with self.state.lock:
            self.state.jobs[task_id] = job
        if job["callback_url"]:
            delay = job["job_seconds"] + float(config["callback_delay"])
            timer = threading.Timer(delay, self._callback_due, args=(job,))
            timer.daemon = True
            self._timers = [t for t in self._timers if t.is_alive()] + [timer]
            timer.start()
        return job

    def _callback_due(self, job: dict) -> None:
        config = self.state.config
        mode = config["callback"]
        for _ in range(max(1, int(config["callback_copies"]))):
            entry = {
                "task_id": job["task_id"],
                "url": job["callback_url"],
                "body": self.callback_body(job),
                "status": mode if mode in ("lost", "hold") else "pending",
                "answer": None,
            }
            with self.state.lock:
                if self.state.jobs.get(job["task_id"]) is not job:
                    return  # forgotten by a reset: its callback must not leak into what comes next
                self.state.callbacks.append(entry)
            if mode == "send":
                self.deliver(entry)

    def deliver(self, entry: dict, *, url: str | None = None) -> None:
        headers = {"Content-Type": "application/json"}
        key = self.state.config["hmac_key"]
        if key:
            timestamp = str(int(time.time()))
            headers["X-Webhook-Timestamp"] = timestamp
            headers["X-Webhook-Signature"] = webhook_signature(
                key=key, task_id=entry["task_id"], timestamp=timestamp
            )
        try:
            response = requests.post(url or entry["url"], json=entry["body"], headers=headers, timeout=15)
            entry["status"], entry["answer"] = "sent", response.status_code
        except requests.RequestException as exc:
            entry["status"], entry["answer"] = "error", exc.__class__.__name__
            logger.warning("callback delivery failed: %s", exc.__class__.__name__)

    def deliver_held(self, *, url: str | None = None) -> int:
        with self.state.lock:
            held = [entry for entry in self.state.callbacks if entry["status"] in ("hold", "lost")]
        for entry in held:
            self.deliver(entry, url=url)
        return len(held)

    def snapshot(self) -> dict:
        with self.state.lock:
            return {
                "config": dict(self.state.config),
                "generateCalls": self.state.generate_calls,
                "fileRequests": self.state.file_requests,
                "jobs": {
                    task_id: {"state": self.job_state(job), "body": job["body"], "fail": job["fail"]}
                    for task_id, job in self.state.jobs.items()
                },
                "callbacks": copy.deepcopy(self.state.callbacks),
            }


def _handler_for(server: FakeKie):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "FakeKIE/1.0"

        def log_message(self, format, *args):  # noqa: A002 - the base class's name
            logger.debug("fake kie: " + format, *args)

        # --- plumbing ---------------------------------------------------------------------------

        def _send_json(self, payload, status: int = 200) -> None:
            raw = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        def _body(self):
            if not hasattr(self, "_raw"):
                length = int(self.headers.get("Content-Length") or 0)
                self._raw = self.rfile.read(length) if length else b""
            raw = self._raw
            try:
                return json.loads(raw) if raw else {}
            except ValueError:
                return None

        def _authorized(self) -> bool:
            key = server.state.config["api_key"]
            return not key or self.headers.get("Authorization", "") == f"Bearer {key}"

        def _route(self, method: str) -> None:
            if hasattr(self, "_raw"):
                del self._raw
            self._body()  # always drain the body: the connection is kept alive
            parts = urlsplit(self.path)
            path, query = parts.path, parse_qs(parts.query)
            if path.startswith("/_fake/"):
                return self._control(method, path)
            if path.startswith("/files/"):
                return self._file(method, path[len("/files/") :])
            if not path.startswith(API_PREFIX):
                return self._send_json(_envelope(404, "Not found"), 404)
            latency = float(server.state.config["latency"])
            if latency:
                time.sleep(latency)
            if not self._authorized():
                return self._send_json(_envelope(401, "Unauthorized: invalid API key"), 401)
            route = (method, path[len(API_PREFIX) :])
            if route == ("POST", "/runway/generate"):
                return self._generate()
            if route == ("GET", "/runway/record-detail"):
                return self._record(query.get("taskId", [""])[0])
            if route == ("GET", "/chat/credit"):
                return self._send_json(_envelope(200, "success", int(server.state.config["credits"])))
            if route == ("POST", "/common/download-url"):
                body = self._body() or {}
                url = str(body.get("url") or "")
                if not url.startswith(server.url + "/files/"):
                    return self._send_json(_envelope(422, "Not a KIE file URL"))
                return self._send_json(_envelope(200, "success", f"{url}?download=1"))
            return self._send_json(_envelope(404, "Not found"), 404)

        def do_GET(self):  # noqa: N802
            self._route("GET")

        def do_HEAD(self):  # noqa: N802
            self._route("HEAD")

        def do_POST(self):  # noqa: N802
            self._route("POST")

        # --- KIE's API --------------------------------------------------------------------------

        def _generate(self) -> None:
            config = server.state.config
            body = self._body()
            with server.state.lock:
                server.state.generate_calls += 1
            if not isinstance(body, dict):
                return self._send_json(_envelope(422, "Invalid JSON"))
            forced = int(config["generate_code"])
            if forced != 200:
                return self._send_json(_envelope(forced, f"Forced failure {forced}"))
            if random.random() < float(config["generate_fail_rate"]):
                return self._send_json(_envelope(500, "Internal error"))
            problem = _validate_generate(body, long_duration=int(config["long_duration"]))
            if problem:
                return self._send_json(_envelope(422, problem))
            job = server.create_job(body)
            hang = float(config["generate_hang"])
            if hang:
                time.sleep(hang)
            self._send_json(_envelope(200, "success", {"taskId": job["task_id"]}))

        def _record(self, task_id: str) -> None:
            job = server.state.jobs.get(task_id)
            if job is None:
                return self._send_json(_envelope(404, "Task not found"))
            self._send_json(_envelope(200, "success", server.record(job)))

        def _file(self, method: str, name: str) -> None:
            name = name.split("?")[0]
            task_id, _, ext = name.rpartition(".")
            config = server.state.config
            with server.state.lock:
                server.state.file_requests += 1
                failing = config["file_failures"] > 0
                if failing:
                    config["file_failures"] -= 1
            if failing:
                return self._send_json({"error": "unavailable"}, 503)
            job = server.state.jobs.get(task_id)
            if (
                job is None
                or ext not in ("mp4", "jpg")
                or config["expired"]
                or server.job_state(job) != "success"
            ):
                return self._send_json({"error": "not found"}, 404)
            path = MEDIA_DIR / ("sample.mp4" if ext == "mp4" else "cover.jpg")
            raw = path.read_bytes()
            self.send_response(200)
            self.send_header("Content-Type", "video/mp4" if ext == "mp4" else "image/jpeg")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            if method != "HEAD":
                self.wfile.write(raw)

        # --- control ----------------------------------------------------------------------------

        def _control(self, method: str, path: str) -> None:
            if (method, path) == ("GET", "/_fake/state"):
                return self._send_json(server.snapshot())
            body = self._body() or {}
            if (method, path) == ("POST", "/_fake/config"):
                unknown = sorted(set(body) - set(DEFAULTS))
                if unknown:
                    return self._send_json({"error": f"unknown knobs: {unknown}"}, 400)
                with server.state.lock:
                    server.state.config.update(body)
                return self._send_json({"config": server.state.config})
            if (method, path) == ("POST", "/_fake/reset"):
                server.state.reset(**body)
                return self._send_json({"config": server.state.config})
            if (method, path) == ("POST", "/_fake/callbacks/deliver"):
                return self._send_json({"delivered": server.deliver_held(url=body.get("url"))})
            return self._send_json({"error": "unknown control path"}, 404)

    return Handler


def _validate_generate(body: dict, *, long_duration: int) -> str:
    prompt = body.get("prompt")
    if not isinstance(prompt, str) or not prompt.strip():
        return "prompt is required"
    if len(prompt) > 1800:
        return "prompt is longer than 1800 characters"
    if body.get("duration") not in (5, long_duration):
        return "duration must be 5 or the long duration"
    if body.get("quality") not in ("720p", "1080p"):
        return "quality must be 720p or 1080p"
    if body.get("duration") == long_duration and body.get("quality") == "1080p":
        return "the long duration cannot be 1080p"
    if not body.get("imageUrl") and body.get("aspectRatio") not in ASPECT_RATIOS:
        return "aspectRatio is invalid"
    if not body.get("callBackUrl"):
        return "callBackUrl is required"
    return ""
