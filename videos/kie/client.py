"""KIE's video API behind typed results: one requests session, explicit timeouts, errors mapped once.

Every KIE business code maps to a `KieError` subclass carrying the project's error code. Only what is
safe is retried by callers: a rejection that KIE answered (429, 455) or a connection that never
reached KIE. A generate that timed out after sending raises `KieOutcomeUnknown` and must not be re-sent.
"""

from __future__ import annotations

import functools
import logging
import threading
from dataclasses import dataclass, field
from typing import Any

import requests
from django.conf import settings
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from aiasmr.api.exceptions import ProviderError
from aiasmr.api.metrics import KIE_ERRORS

logger = logging.getLogger("aiasmr.kie")

STATES = ("wait", "queueing", "generating", "success", "fail")


class KieError(ProviderError):
    """KIE answered with an error, or could not be reached. `retryable`: safe to send again later."""

    code = "PROVIDER_ERROR"
    default_message = "The video provider failed."
    retryable = False

    def __init__(self, message: str | None = None, *, kie_code: int | None = None, code: str | None = None):
        super().__init__(message, code=code, details={"providerCode": kie_code} if kie_code else {})
        self.kie_code = kie_code


class KieRejected(KieError):
    """KIE refused the request (a definite answer: no job was created)."""


class KieRetryableRejection(KieRejected):
    """KIE refused for now (rate limit, maintenance): sending again later is safe."""

    retryable = True


class KieUnreachable(KieError):
    """The request never reached KIE (connection refused, DNS, connect timeout): safe to retry."""

    code = "PROVIDER_UNAVAILABLE"
    retryable = True


# Gateway errors without KIE's envelope: the request may have reached KIE before the gateway gave up.
GATEWAY_UNCERTAIN = frozenset({502, 504})


class KieOutcomeUnknown(KieError):
    """The request was sent but no answer came (read timeout, dropped connection, garbled answer)."""

    code = "PROVIDER_TIMEOUT"


class KieDownloadError(KieError):
    code = "MEDIA_DOWNLOAD_FAILED"

    def __init__(self, message: str, *, status: int | None = None):
        super().__init__(message)
        self.status = status


# KIE's business codes -> (project error code, class). Codes outside the table are PROVIDER_ERROR.
CODE_MAP: dict[int, tuple[str, type[KieError]]] = {
    401: ("PROVIDER_AUTH_FAILED", KieRejected),
    402: ("PROVIDER_OUT_OF_CREDITS", KieRejected),
    404: ("PROVIDER_NOT_FOUND", KieRejected),
    422: ("PROMPT_REJECTED", KieRejected),
    429: ("PROVIDER_RATE_LIMITED", KieRetryableRejection),
    451: ("IMAGE_FETCH_FAILED", KieRejected),
    455: ("PROVIDER_MAINTENANCE", KieRetryableRejection),
    500: ("PROVIDER_ERROR", KieRejected),
    501: ("GENERATION_FAILED", KieRejected),
    505: ("PROVIDER_DISABLED", KieRejected),
}


def error_for_code(kie_code: int, message: str = "") -> KieError:
    error_code, cls = CODE_MAP.get(kie_code, ("PROVIDER_ERROR", KieRejected))
    return cls(message or f"KIE answered {kie_code}.", kie_code=kie_code, code=error_code)


@dataclass(frozen=True)
class GenerateResult:
    task_id: str


@dataclass(frozen=True)
class RecordDetail:
    task_id: str
    state: str  # one of STATES ("" when KIE sent something else)
    video_id: str = ""
    video_url: str = ""
    image_url: str = ""
    fail_code: str = ""
    fail_msg: str = ""
    expired: bool = False
    generate_time: str = ""
    raw: dict = field(default_factory=dict, compare=False, repr=False)


def parse_record(data: Any) -> RecordDetail:
    """Lenient to both documented shapes (`taskId` or older `id`; failCode int or "")."""
    if not isinstance(data, dict):
        raise KieOutcomeUnknown("KIE's record has no data.")
    info = data.get("videoInfo") or {}
    if not isinstance(info, dict):
        info = {}
    state = str(data.get("state") or "").strip().lower()
    fail_code = data.get("failCode")
    return RecordDetail(
        task_id=str(data.get("taskId") or data.get("id") or ""),
        state=state if state in STATES else "",
        video_id=str(info.get("videoId") or info.get("id") or ""),
        video_url=str(info.get("videoUrl") or info.get("video_url") or ""),
        image_url=str(info.get("imageUrl") or info.get("image_url") or ""),
        fail_code="" if fail_code in (None, "") else str(fail_code),
        fail_msg=str(data.get("failMsg") or ""),
        expired=str(data.get("expireFlag") or "0") == "1",
        generate_time=str(data.get("generateTime") or ""),
        raw=data,
    )


class KieClient:
    def __init__(self, *, api_key: str, base_url: str, connect_timeout: float, read_timeout: float):
        self.api_key = api_key
        self.base_url = base_url.rstrip("/")
        self.timeout = (connect_timeout, read_timeout)
        self._local = threading.local()  # requests sessions are not thread-safe: one per thread

    @property
    def session(self) -> requests.Session:
        session = getattr(self._local, "session", None)
        if session is None:
            session = requests.Session()
            # Reads are idempotent: a brief transient failure is retried. POSTs never are.
            retry = Retry(
                total=2,
                connect=2,
                read=1,
                status=2,
                backoff_factor=0.3,
                status_forcelist=(502, 503, 504),
                allowed_methods=frozenset({"GET"}),
                raise_on_status=False,
            )
            session.mount("http://", HTTPAdapter(max_retries=retry))
            session.mount("https://", HTTPAdapter(max_retries=retry))
            session.headers.update({"Authorization": f"Bearer {self.api_key}", "Accept": "application/json"})
            self._local.session = session
        return session

    def call(self, method: str, path: str, *, json_body: dict | None = None, params: dict | None = None):
        """Any KIE API call (videos.kie.veo uses it): the envelope's `data`, or a KieError."""
        return self._call(method, path, json_body=json_body, params=params)

    def _call(self, method: str, path: str, *, json_body: dict | None = None, params: dict | None = None):
        """Returns the envelope's `data`; raises a KieError for every failure (and counts it)."""
        try:
            return self._request(method, path, json_body=json_body, params=params)
        except KieError as exc:
            KIE_ERRORS.labels(exc.code, str(exc.kie_code or "")).inc()
            raise

    def _request(self, method: str, path: str, *, json_body: dict | None, params: dict | None):
        if not self.api_key:
            raise KieRejected("KIE_API_KEY is not configured.", code="PROVIDER_NOT_CONFIGURED")
        url = f"{self.base_url}{path}"
        try:
            response = self.session.request(method, url, json=json_body, params=params, timeout=self.timeout)
        except (requests.ConnectionError, requests.ConnectTimeout) as exc:
            if isinstance(exc, requests.ConnectTimeout) or not _sent(exc):
                raise KieUnreachable(f"KIE could not be reached: {exc.__class__.__name__}")
            raise KieOutcomeUnknown(f"KIE dropped the connection: {exc.__class__.__name__}")
        except requests.Timeout:
            raise KieOutcomeUnknown("KIE did not answer in time.")
        except requests.RequestException as exc:
            raise KieOutcomeUnknown(f"KIE call failed: {exc.__class__.__name__}")
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict) or "code" not in body:
            if response.status_code in GATEWAY_UNCERTAIN:
                # A gateway's own page: KIE may or may not have received (and started) the request.
                raise KieOutcomeUnknown(f"A gateway answered HTTP {response.status_code} for KIE.")
            if response.status_code >= 400:
                raise error_for_code(response.status_code, f"KIE answered HTTP {response.status_code}.")
            raise KieOutcomeUnknown(f"KIE answered HTTP {response.status_code} without an envelope.")
        try:
            code = int(body.get("code"))
        except (TypeError, ValueError):
            raise KieOutcomeUnknown("KIE's envelope has no numeric code.")
        if code != 200 or response.status_code >= 400:
            raise error_for_code(code if code != 200 else response.status_code, str(body.get("msg") or ""))
        return body.get("data")

    def generate(
        self,
        *,
        prompt: str,
        duration: int,
        quality: str,
        aspect_ratio: str,
        callback_url: str,
        image_url: str = "",
        watermark: str = "",
    ) -> GenerateResult:
        body = {
            "prompt": prompt,
            "duration": duration,
            "quality": quality,
            "aspectRatio": aspect_ratio,
            "waterMark": watermark or "",
            "callBackUrl": callback_url,
        }
        if image_url:
            body["imageUrl"] = image_url
        data = self._call("POST", "/runway/generate", json_body=body)
        task_id = data.get("taskId") if isinstance(data, dict) else None
        if not task_id:
            # KIE said 200 but gave no task id: a job may exist that we cannot name.
            raise KieOutcomeUnknown("KIE accepted the job without a task id.")
        return GenerateResult(task_id=str(task_id))

    def record_detail(self, task_id: str) -> RecordDetail:
        record = parse_record(self._call("GET", "/runway/record-detail", params={"taskId": task_id}))
        if not record.task_id:
            record = RecordDetail(**{**record.__dict__, "task_id": task_id})
        return record

    def account_credits(self) -> int:
        data = self._call("GET", "/chat/credit")
        try:
            return int(data)
        except (TypeError, ValueError):
            raise KieOutcomeUnknown("KIE's credit answer is not a number.")

    def download_url(self, url: str) -> str:
        """A temporary (20 minute) download link for a KIE file URL."""
        data = self._call("POST", "/common/download-url", json_body={"url": url})
        link = data if isinstance(data, str) else (data or {}).get("url") if isinstance(data, dict) else None
        if not link:
            raise KieOutcomeUnknown("KIE gave no download link.")
        return str(link)

    def open_download(self, url: str, *, allow_redirects: bool) -> requests.Response:
        """Starts streaming a file (no API key is sent to file hosts)."""
        try:
            response = requests.get(
                url,
                stream=True,
                timeout=self.timeout,
                allow_redirects=allow_redirects,
                headers={"Accept": "*/*"},
            )
        except requests.RequestException as exc:
            raise KieDownloadError(f"Download failed: {exc.__class__.__name__}")
        if response.status_code != 200:
            response.close()
            raise KieDownloadError(
                f"Download answered HTTP {response.status_code}.", status=response.status_code
            )
        return response


def _sent(exc: requests.ConnectionError) -> bool:
    """True when the connection broke after the request went out (the outcome is unknown)."""
    text = repr(exc)
    return any(marker in text for marker in ("RemoteDisconnected", "ConnectionResetError", "ProtocolError"))


@functools.lru_cache(maxsize=4)
def _client(api_key: str, base_url: str, connect_timeout: float, read_timeout: float) -> KieClient:
    return KieClient(
        api_key=api_key, base_url=base_url, connect_timeout=connect_timeout, read_timeout=read_timeout
    )


def kie_client(*, timeout: float | None = None) -> KieClient:
    """The client for the current settings (tests that override settings get a matching client).

    `timeout` caps both timeouts, for calls made while a person waits (health, the admin dashboard).
    """
    connect, read = settings.KIE_CONNECT_TIMEOUT, settings.KIE_READ_TIMEOUT
    if timeout is not None:
        connect, read = min(connect, timeout), min(read, timeout)
    return _client(settings.KIE_API_KEY, settings.KIE_BASE_URL, connect, read)
