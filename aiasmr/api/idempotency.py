"""The Idempotency-Key header shared by the endpoints that create something (generate, purchase)."""

import re

from drf_spectacular.utils import OpenApiParameter

from aiasmr.api.exceptions import ValidationFailed

_VALID_KEY = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")

IDEMPOTENCY_HEADER = OpenApiParameter(
    "Idempotency-Key",
    str,
    OpenApiParameter.HEADER,
    required=False,
    description=(
        "1-128 characters of A-Z a-z 0-9 . _ : - (a UUID fits). Repeating a request with the same key "
        "returns what the first one created instead of creating (and charging) again; the same key "
        "with a different request is 409 IDEMPOTENCY_KEY_REUSED."
    ),
)


def idempotency_key(request) -> str | None:
    key = request.headers.get("Idempotency-Key", "")
    if not key:
        return None
    if not _VALID_KEY.match(key):
        raise ValidationFailed(
            details=[{"field": "Idempotency-Key", "message": "1-128 characters of A-Z a-z 0-9 . _ : -"}]
        )
    return key
