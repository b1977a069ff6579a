"""Shapes of the Express backend's answers, and `assert_shape` to hold this service to them.

A shape reads like the Express source: a dict maps each key Express sends to the JSON type(s) it has.

- `str`, `int`, `bool`, `dict`, `list`: that JSON type (`int` never accepts a boolean).
- `NUMBER`: a JSON number, integral or not (`price: 9.99`).
- `str | None`: nullable; the key must still be there.
- `{...}`: a nested object; `[shape]`: an array whose every item has `shape`.
- `Enum("a", "b")`: a string with one of these values; `TIMESTAMP`: an ISO 8601 string; `UUID`: a uuid string.
- `Optional(shape)`: the key may be absent (Express leaves it out, e.g. `undefined` values); if present, typed.
- `ABSENT`: the key must not be there (a second spelling of a field already sent under its Express name).

Keys the service adds beyond Express are allowed, unless an added key is another spelling of an Express
key (`taskId` beside `task_id`, `isFavorite` beside `is_favorite`): mobile decoders would silently take
the wrong one, and the issue says "no field in two spellings".
"""

from __future__ import annotations

import datetime
import types
import uuid
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Enum:
    values: tuple

    def __init__(self, *values):
        object.__setattr__(self, "values", values)


@dataclass(frozen=True)
class Optional:
    shape: Any


@dataclass(frozen=True)
class Nullable:
    """`TIMESTAMP | None` for the markers below (plain types use Python's own `str | None`)."""

    shape: Any


class _Marker:
    def __init__(self, name):
        self.name = name

    def __repr__(self):
        return self.name

    def __or__(self, other):
        assert other is None, "only `| None` is supported on a marker"
        return Nullable(self)


NUMBER = _Marker("NUMBER")
TIMESTAMP = _Marker("TIMESTAMP")
UUID = _Marker("UUID")
ABSENT = _Marker("ABSENT")
ANY = _Marker("ANY")


def _spelling(key: str) -> str:
    return key.replace("_", "").replace("-", "").lower()


def _type_name(value) -> str:
    if value is None:
        return "null"
    return {bool: "bool", int: "int", float: "number", str: "str", list: "array", dict: "object"}.get(
        type(value), type(value).__name__
    )


def _check(value, shape, path: str, errors: list[str]) -> None:
    if shape is ANY:
        return
    if isinstance(shape, Nullable):
        if value is not None:
            _check(value, shape.shape, path, errors)
        return
    if isinstance(shape, types.UnionType):
        alternatives = shape.__args__
        if value is None and type(None) in alternatives:
            return
        if any(_matches(value, alt) for alt in alternatives if alt is not type(None)):
            return
        errors.append(f"{path}: {_type_name(value)} {value!r:.60} is not {shape}")
        return
    if isinstance(shape, tuple):  # alternatives of non-type shapes, e.g. (str, NUMBER)
        if not any(_matches(value, alt) for alt in shape):
            errors.append(f"{path}: {_type_name(value)} {value!r:.60} is none of {shape}")
        return
    if isinstance(shape, dict):
        if not isinstance(value, dict):
            errors.append(f"{path}: expected an object, got {_type_name(value)} {value!r:.60}")
            return
        _check_object(value, shape, path, errors)
        return
    if isinstance(shape, list):
        if not isinstance(value, list):
            errors.append(f"{path}: expected an array, got {_type_name(value)} {value!r:.60}")
            return
        for index, item in enumerate(value):
            _check(item, shape[0], f"{path}[{index}]", errors)
        return
    if not _matches(value, shape):
        errors.append(f"{path}: expected {_describe(shape)}, got {_type_name(value)} {value!r:.80}")


def _describe(shape) -> str:
    if isinstance(shape, Enum):
        return f"one of {shape.values}"
    if isinstance(shape, type):
        return shape.__name__
    return repr(shape)


def _matches(value, shape) -> bool:
    if shape is NUMBER:
        return isinstance(value, int | float) and not isinstance(value, bool)
    if shape is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if shape is float:
        return isinstance(value, float)
    if shape is TIMESTAMP:
        if not isinstance(value, str):
            return False
        try:
            datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return False
        return True
    if shape is UUID:
        if not isinstance(value, str):
            return False
        try:
            uuid.UUID(value)
        except ValueError:
            return False
        return True
    if isinstance(shape, Enum):
        return value in shape.values
    if isinstance(shape, dict | list):
        errors: list[str] = []
        _check(value, shape, "", errors)
        return not errors
    if isinstance(shape, type):
        return isinstance(value, shape)
    raise TypeError(f"unknown shape {shape!r}")


def _check_object(value: dict, shape: dict, path: str, errors: list[str]) -> None:
    for key, expected in shape.items():
        where = f"{path}.{key}"
        if expected is ABSENT:
            if key in value:
                errors.append(f"{where}: must not be sent (second spelling of an Express field)")
            continue
        if isinstance(expected, Optional):
            if key in value:
                _check(value[key], expected.shape, where, errors)
            continue
        if key not in value:
            errors.append(f"{where}: missing (Express sends it)")
            continue
        _check(value[key], expected, where, errors)
    express_spellings = {_spelling(key): key for key, expected in shape.items() if expected is not ABSENT}
    for key in value:
        if key in shape:
            continue
        twin = express_spellings.get(_spelling(key))
        if twin is not None:
            errors.append(f"{path}.{key}: second spelling of Express's {twin!r}")


def shape_errors(body, shape, path: str = "$") -> list[str]:
    errors: list[str] = []
    _check(body, shape, path, errors)
    return errors


def assert_shape(body, shape) -> None:
    """Fails listing every missing, mistyped or twice-spelled key."""
    errors = shape_errors(body, shape)
    assert not errors, "shape differs from Express:\n  " + "\n  ".join(errors)


# --- the envelopes ----------------------------------------------------------------------------------

# middleware/validation.js createValidationMiddleware: Joi details as {field, message, value?}.
VALIDATION_DETAIL = {"field": str, "message": str, "value": Optional(ANY)}


def error_shape(*, details=None, **extra) -> dict:
    """{success: false, error: {code, message, ...}}; Express sends `details` only on some errors."""
    error = {"code": str, "message": str, **extra}
    if details is not None:
        error["details"] = details
    return {"success": bool, "error": error}


def assert_error(response, status: int, code: str, *, details=None, **extra) -> dict:
    """The HTTP status, the error envelope and `error.code` Express answers; returns `error`."""
    assert response.status_code == status, (response.status_code, status, response.content[:400])
    body = response.json()
    assert_shape(body, error_shape(details=details, **extra))
    assert body["success"] is False
    assert body["error"]["code"] == code, (body["error"]["code"], code)
    return body["error"]


def assert_ok(response, shape: dict, *, status: int = 200) -> dict:
    """Status and shape of a success answer; returns the body."""
    assert response.status_code == status, (response.status_code, status, response.content[:600])
    body = response.json()
    assert_shape(body, shape)
    if "success" in shape:
        assert body["success"] is True
    return body


# --- rows as supabase-js returns them (PostgREST JSON: uuid/text/timestamptz -> str, int/bigint -> number,
# numeric -> number, text[] -> array, nullable columns -> null) -------------------------------------------

# supabase/schema.sql public.videos, plus is_favorite and error_message that routes/videos.js
# (toggle favorite) and services/video-processor.js (updateVideoStatus) write.
VIDEO_ROW = {
    "id": UUID,
    "user_id": str | None,
    "title": str,
    "description": str | None,
    "prompt": str,
    "triggers": [str],
    "category": str,
    "status": Enum("processing", "ready", "failed"),
    "credit_cost": int,
    "duration": str | None,  # stored as text: generate.js stores duration.toString(), e.g. "5"
    "resolution": str | None,
    "thumbnail_url": str | None,
    "preview_url": str | None,
    "download_url": str | None,
    "file_size": int | None,
    "views_count": int | None,
    "likes_count": int | None,
    "shares_count": int | None,
    "is_public": bool | None,
    "is_featured": bool | None,
    "generation_started_at": TIMESTAMP | None,
    "generation_completed_at": TIMESTAMP | None,
    "created_at": TIMESTAMP,
    "updated_at": TIMESTAMP,
    "aspect_ratio": Enum("16:9", "4:3", "1:1", "3:4", "9:16"),
    "provider": str | None,
    "quality": Enum("720p", "1080p"),
    "task_id": str | None,
    "is_favorite": bool,
    "error_message": str | None,
}

# supabase/schema.sql public.credit_transactions (services/credits-manager.js getCreditHistory: select *).
CREDIT_TRANSACTION_ROW = {
    "id": str,
    "user_id": str | None,
    "transaction_type": Enum("purchase", "usage", "refund", "bonus"),
    "amount": int,
    "description": str | None,
    "video_id": str | None,
    "subscription_id": str | None,
    "created_at": TIMESTAMP,
    "task_id": str | None,
    "check_in_id": str | None,
    "referral_id": str | None,
    "free_credits_type": str | None,
    "type": ABSENT,  # this service's old name for transaction_type
}

# routes/videos.js and routes/credits.js: the pagination block (Joi converts page and limit to numbers).
PAGINATION = {"page": int, "limit": int, "total": int, "totalPages": int, "hasNext": bool, "hasPrev": bool}

# services/auth-service.js registerUser / getUserById / loginUser: the user objects.
AUTH_USER = {"id": UUID, "email": str, "credits": int, "plan_type": str}
