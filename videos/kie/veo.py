"""KIE's Veo 3.1 endpoints (/veo/*), over the same client, envelope and error mapping as Runway.

A Veo record is translated into the Runway-shaped `RecordDetail` the settlement code already reads:
successFlag 0 -> "generating", 1 -> "success", 2 and 3 -> "fail".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from videos.kie.client import GenerateResult, KieClient, KieError, KieOutcomeUnknown, RecordDetail

SUCCESS_FLAGS = {0: "generating", 1: "success", 2: "fail", 3: "fail"}
GENERATION_TYPES = {0: "TEXT_2_VIDEO", 1: "FIRST_AND_LAST_FRAMES_2_VIDEO", 2: "FIRST_AND_LAST_FRAMES_2_VIDEO"}


def veo_generate(
    client: KieClient,
    *,
    prompt: str,
    model: str,
    aspect_ratio: str,
    callback_url: str,
    image_urls: list[str] | None = None,
    watermark: str = "",
) -> GenerateResult:
    image_urls = list(image_urls or [])
    body: dict[str, Any] = {
        "prompt": prompt,
        "model": model,
        "aspectRatio": aspect_ratio,
        "generationType": GENERATION_TYPES[min(len(image_urls), 2)],
        "callBackUrl": callback_url,
        "enableFallback": False,  # a fallback-generated video cannot be upgraded to 1080p
        "enableTranslation": True,
    }
    if image_urls:
        body["imageUrls"] = image_urls
    if watermark:
        body["watermark"] = watermark
    data = client.call("POST", "/veo/generate", json_body=body)
    task_id = data.get("taskId") if isinstance(data, dict) else None
    if not task_id:
        raise KieOutcomeUnknown("KIE accepted the Veo job without a task id.")
    return GenerateResult(task_id=str(task_id))


def _urls(value) -> list[str]:
    if isinstance(value, str):
        return [value] if value else []
    if isinstance(value, list):
        return [str(item) for item in value if isinstance(item, str) and item]
    return []


def parse_veo_record(data: Any, *, task_id: str = "") -> RecordDetail:
    if not isinstance(data, dict):
        raise KieOutcomeUnknown("KIE's Veo record has no data.")
    try:
        flag = int(data.get("successFlag"))
    except (TypeError, ValueError):
        flag = None
    response = data.get("response") if isinstance(data.get("response"), dict) else {}
    result_urls = _urls(response.get("resultUrls")) or _urls(response.get("originUrls"))
    error_code = data.get("errorCode")
    return RecordDetail(
        task_id=str(data.get("taskId") or task_id),
        state=SUCCESS_FLAGS.get(flag, "") if flag is not None else "",
        video_url=result_urls[0] if flag == 1 and result_urls else "",
        fail_code="" if error_code in (None, "") else str(error_code),
        fail_msg=str(data.get("errorMessage") or ""),
        generate_time=str(data.get("createTime") or ""),
        raw=data,
    )


def veo_record(client: KieClient, task_id: str) -> RecordDetail:
    return parse_veo_record(
        client.call("GET", "/veo/record-info", params={"taskId": task_id}), task_id=task_id
    )


@dataclass(frozen=True)
class HdResult:
    url: str  # "" when KIE has no 1080p file (yet, or ever: `final`)
    final: bool = False
    message: str = ""


def veo_1080p(client: KieClient, task_id: str, *, index: int = 0) -> HdResult:
    """KIE's 1080p file of a finished job. It may need minutes after success: not ready is not final."""
    try:
        data = client.call("GET", "/veo/get-1080p-video", params={"taskId": task_id, "index": index})
    except KieError as exc:
        # 422: KIE will never have it (fallback video, unsupported ratio); anything else: ask again later.
        return HdResult(url="", final=exc.kie_code == 422, message=exc.message)
    url = ""
    if isinstance(data, dict):
        url = str(data.get("resultUrl") or data.get("url") or "")
    elif isinstance(data, str):
        url = data
    return HdResult(url=url, message="" if url else "not ready")
