"""KIE's webhook signature: base64(HMAC-SHA256(key, task_id + "." + timestamp))."""

import base64
import hashlib
import hmac
import time


def webhook_signature(*, key: str, task_id: str, timestamp: str) -> str:
    digest = hmac.new(key.encode(), f"{task_id}.{timestamp}".encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def webhook_signature_valid(
    *, key: str, task_id: str, timestamp: str, signature: str, tolerance: int, now: float | None = None
) -> bool:
    """Constant-time check, and the timestamp must be within `tolerance` seconds of now."""
    try:
        sent_at = int(timestamp)
    except (TypeError, ValueError):
        return False
    if abs((now if now is not None else time.time()) - sent_at) > tolerance:
        return False
    expected = webhook_signature(key=key, task_id=task_id, timestamp=str(timestamp))
    return hmac.compare_digest(expected.encode(), (signature or "").encode())
