"""The fake KIE server itself: its state (config, jobs, callbacks due) and the jobs' lifecycle."""

from __future__ import annotations

import copy
import json
import logging
import random
import threading
import time
import uuid
from http.server import ThreadingHTTPServer

import requests

from devtools.fake_kie.handler import handler_for
from devtools.fake_kie.knobs import API_PREFIX, DEFAULTS, VEO_FAIL_CODES
from videos.kie.signing import webhook_signature

logger = logging.getLogger("aiasmr.fake_kie")


class FakeKieState:
    def __init__(self, **config):
        self.lock = threading.Lock()
        self.config = {**DEFAULTS, **config}
        self.jobs: dict[str, dict] = {}
        self.callbacks: list[dict] = []  # every callback due: sent, lost or held
        self.generate_calls = 0
        self.file_requests = 0
        self.downloads: list[str] = []  # file names served (e.g. "<task>-1080p.mp4")
        self.image_fetches: list[dict] = []  # every image URL fetched, as KIE would

    def reset(self, **config):
        with self.lock:
            keep = {"api_key": self.config["api_key"], "public_url": self.config["public_url"]}
            self.config = {**DEFAULTS, **keep, **config}
            self.jobs.clear()
            self.callbacks.clear()
            self.generate_calls = 0
            self.file_requests = 0
            self.downloads.clear()
            self.image_fetches.clear()


class FakeKie:
    """The server: `start()` on a free port when port=0, `stop()`, `base_url` for KIE_BASE_URL."""

    def __init__(self, *, host: str = "127.0.0.1", port: int = 0, **config):
        self.state = FakeKieState(**config)
        self.httpd = ThreadingHTTPServer((host, port), handler_for(self))
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
        if job["api"] == "veo":
            return self._veo_callback_body(job)
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

    def fetch_images(self, urls: list[str]) -> str:
        """Fetches each image like KIE does before generating; returns what went wrong ("" when all fine)."""
        for url in urls:
            entry = {"url": url, "status": None, "contentType": "", "bytes": 0}
            with self.state.lock:
                self.state.image_fetches.append(entry)
            try:
                response = requests.get(url, timeout=10)
            except requests.RequestException as exc:
                entry["status"] = exc.__class__.__name__
                return f"{url}: {exc.__class__.__name__}"
            entry["status"] = response.status_code
            entry["contentType"] = response.headers.get("Content-Type", "")
            entry["bytes"] = len(response.content)
            if response.status_code != 200:
                return f"{url}: HTTP {response.status_code}"
            if not entry["contentType"].startswith("image/") or not response.content:
                return f"{url}: not an image"
        return ""

    def hd_ready(self, job: dict) -> bool:
        if self.job_state(job) != "success":
            return False
        done_at = job["created"] + job["job_seconds"]
        return time.monotonic() >= done_at + float(self.state.config["hd_seconds"])

    def veo_record(self, job: dict) -> dict:
        """Veo's record-info: successFlag 0 generating, 1 success, 2 failed, 3 generation failed."""
        state = self.job_state(job)
        task_id = job["task_id"]
        flag = {"success": 1, "fail": 3 if int(job["fail_code"]) == 501 else 2}.get(state, 0)
        data = {
            "taskId": task_id,
            "paramJson": json.dumps(job["body"]),
            "createTime": job["created_at"],
            "completeTime": time.strftime("%Y-%m-%d %H:%M:%S") if flag else None,
            "successFlag": flag,
            "response": None,
            "errorCode": None,
            "errorMessage": None,
            "fallbackFlag": False,
        }
        if flag == 1:
            data["response"] = {
                "taskId": task_id,
                "resultUrls": [f"{self.url}/files/{task_id}.mp4"],
                "originUrls": [],
                "resolution": "720p",
            }
        elif flag:
            data["errorCode"] = int(job["fail_code"])
            data["errorMessage"] = job["fail_msg"]
        return data

    def _veo_callback_body(self, job: dict) -> dict:
        task_id = job["task_id"]
        if job["fail"]:
            code = int(job["fail_code"])
            code = code if code in VEO_FAIL_CODES else 500
            data = {"taskId": task_id, "info": None, "fallbackFlag": False}
            return {"code": code, "msg": job["fail_msg"], "data": data}
        info = {"resultUrls": [f"{self.url}/files/{task_id}.mp4"], "originUrls": [], "resolution": "720p"}
        return {
            "code": 200,
            "msg": "Veo3 video generated successfully.",
            "data": {"taskId": task_id, "info": info, "fallbackFlag": False},
        }

    def create_job(self, body: dict, *, api: str = "runway", image_problem: str = "") -> dict:
        """A job of `api` (runway or veo); one whose image KIE could not fetch fails with 400."""
        config = self.state.config
        task_id = uuid.uuid4().hex
        job = {
            "api": api,
            "task_id": task_id,
            "video_id": uuid.uuid4().hex,
            "body": body,
            "callback_url": str(body.get("callBackUrl") or ""),
            "created": time.monotonic(),
            "created_at": time.strftime("%Y-%m-%d %H:%M:%S"),
            "job_seconds": float(config["job_seconds"]),
            "fail": bool(image_problem) or random.random() < float(config["job_fail_rate"]),
            "fail_code": 400 if image_problem else config["fail_code"],
            "fail_msg": config["fail_msg"],
        }
        if image_problem:
            job["fail_msg"] = f"Image could not be fetched: {image_problem}"
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
                "downloads": list(self.state.downloads),
                "imageFetches": copy.deepcopy(self.state.image_fetches),
                "jobs": {
                    task_id: {
                        "api": job["api"],
                        "state": self.job_state(job),
                        "body": job["body"],
                        "fail": job["fail"],
                    }
                    for task_id, job in self.state.jobs.items()
                },
                "callbacks": copy.deepcopy(self.state.callbacks),
            }
