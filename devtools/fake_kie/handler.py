"""The fake KIE server's HTTP side: KIE's API paths, file downloads and the /_fake/ control paths."""

from __future__ import annotations

import json
import logging
import random
import time
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlsplit

from devtools.fake_kie.knobs import (
    API_PREFIX,
    ASPECT_RATIOS,
    DEFAULTS,
    MEDIA_DIR,
    VEO_ASPECT_RATIOS,
    VEO_GENERATION_TYPES,
    VEO_MODELS,
)

logger = logging.getLogger("aiasmr.fake_kie")


def _envelope(code: int, msg: str, data=None) -> dict:
    return {"code": code, "msg": msg, "data": data}


def handler_for(server: Any) -> type[BaseHTTPRequestHandler]:
    """A request handler bound to `server` (a FakeKie: its state, jobs and callbacks)."""

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
            if route == ("POST", "/veo/generate"):
                return self._generate(api="veo")
            if route == ("GET", "/veo/record-info"):
                return self._record(query.get("taskId", [""])[0], api="veo")
            if route == ("GET", "/veo/get-1080p-video"):
                return self._hd(query.get("taskId", [""])[0])
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

        def _generate(self, api: str = "runway") -> None:
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
            if api == "veo":
                problem = _validate_veo_generate(body)
            else:
                problem = _validate_generate(body, long_duration=int(config["long_duration"]))
            if problem:
                return self._send_json(_envelope(422, problem))
            if api == "veo":
                images = body.get("imageUrls") or []
            else:
                images = [body["imageUrl"]] if body.get("imageUrl") else []
            image_problem = server.fetch_images(images) if config["fetch_images"] else ""
            if image_problem and api == "runway":
                return self._send_json(_envelope(451, f"Failed to fetch the image: {image_problem}"))
            job = server.create_job(body, api=api, image_problem=image_problem)
            hang = float(config["generate_hang"])
            if hang:
                time.sleep(hang)
            self._send_json(_envelope(200, "success", {"taskId": job["task_id"]}))

        def _record(self, task_id: str, api: str = "runway") -> None:
            job = server.state.jobs.get(task_id)
            if job is None or job["api"] != api:
                return self._send_json(_envelope(404, "Task not found"))
            record = server.veo_record(job) if api == "veo" else server.record(job)
            self._send_json(_envelope(200, "success", record))

        def _hd(self, task_id: str) -> None:
            job = server.state.jobs.get(task_id)
            if job is None or job["api"] != "veo":
                return self._send_json(_envelope(404, "Task not found"))
            forced = int(server.state.config["hd_code"])
            if forced != 200:
                return self._send_json(_envelope(forced, f"Forced failure {forced}"))
            if job["body"].get("aspectRatio") != "16:9":
                return self._send_json(_envelope(422, "1080P is only offered for 16:9 videos"))
            if not server.hd_ready(job):
                message = "1080P is processing. It should be ready in 1-2 minutes."
                return self._send_json(_envelope(400, message))
            hd_url = f"{server.url}/files/{task_id}-1080p.mp4"
            self._send_json(_envelope(200, "success", {"resultUrl": hd_url}))

        def _file(self, method: str, name: str) -> None:
            name = name.split("?")[0]
            task_id, _, ext = name.rpartition(".")
            hd = task_id.endswith("-1080p")
            task_id = task_id.removesuffix("-1080p")
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
                or (hd and not server.hd_ready(job))
            ):
                return self._send_json({"error": "not found"}, 404)
            with server.state.lock:
                server.state.downloads.append(name)
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


def _validate_veo_generate(body: dict) -> str:
    prompt = body.get("prompt")
    if not isinstance(prompt, str) or not prompt.strip():
        return "prompt is required"
    if body.get("model", "veo3_fast") not in VEO_MODELS:
        return "model is invalid"
    if body.get("aspectRatio", "16:9") not in VEO_ASPECT_RATIOS:
        return "aspectRatio is invalid"
    images = body.get("imageUrls") or []
    if not isinstance(images, list) or not all(isinstance(url, str) and url for url in images):
        return "imageUrls must be a list of URLs"
    kind = body.get("generationType") or ("FIRST_AND_LAST_FRAMES_2_VIDEO" if images else "TEXT_2_VIDEO")
    if kind not in VEO_GENERATION_TYPES:
        return "generationType is invalid"
    if kind == "TEXT_2_VIDEO" and images:
        return "TEXT_2_VIDEO takes no imageUrls"
    if kind == "FIRST_AND_LAST_FRAMES_2_VIDEO" and not 1 <= len(images) <= 2:
        return "FIRST_AND_LAST_FRAMES_2_VIDEO takes 1 or 2 imageUrls"
    if kind == "REFERENCE_2_VIDEO" and (body.get("model") != "veo3_fast" or not 1 <= len(images) <= 3):
        return "REFERENCE_2_VIDEO is for veo3_fast with 1 to 3 imageUrls"
    if not body.get("callBackUrl"):
        return "callBackUrl is required"
    return ""
