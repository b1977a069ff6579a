"""OpenAPI: every response documented inside the envelope, every error with its codes."""

import re

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.plumbing import is_list_serializer
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, inline_serializer
from rest_framework import serializers

from aiasmr.api.exceptions import ErrorCode, error_body, error_code

_CODE = re.compile(r"[A-Z][A-Z0-9_]*\b")


class ErrorDetailSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="Stable, machine-readable UPPER_SNAKE code.")
    message = serializers.CharField()
    retryAfter = serializers.CharField(  # noqa: N815 - Express's spelling
        required=False, help_text='Rate limits only: the window as Express words it ("60 seconds", "1 hour").'
    )
    details = serializers.JSONField(help_text="Field errors (a list of {field, message}) or context.")


class ErrorEnvelopeSerializer(serializers.Serializer):
    success = serializers.BooleanField(default=False)
    error = ErrorDetailSerializer()


class ErrorResponse(OpenApiResponse):
    """An error answer documented with the registered codes it may carry."""

    def __init__(self, *, codes: tuple[ErrorCode, ...], description: str):
        self.codes = codes
        examples = [
            OpenApiExample(entry.code, value=error_body(entry.code, entry.message), response_only=True)
            for entry in codes
        ]
        super().__init__(response=ErrorEnvelopeSerializer, description=description, examples=examples)


def documented_codes(description: str) -> tuple[str, ...]:
    """The codes a description names: comma-separated UPPER_SNAKE codes, each optionally followed by a
    note in parentheses ("VALIDATION_ERROR (details: [...]), INVALID_JSON")."""
    depth, part, parts = 0, "", []
    for char in description:
        depth += {"(": 1, ")": -1}.get(char, 0)
        if char == "," and depth == 0:
            parts.append(part)
            part = ""
        else:
            part += char
    parts.append(part)
    codes = []
    for text in parts:
        match = _CODE.match(text.strip())
        if match is None:
            raise ValueError(f"error_response({description!r}): {text.strip()!r} does not start with an error code")
        codes.append(match.group(0))
    return tuple(codes)


def error_response(description: str) -> OpenApiResponse:
    """The documented error answer for the codes `description` names (each must be in ERROR_CODES): the
    envelope, with one example per code carrying the registry's default message."""
    codes = tuple(error_code(code) for code in documented_codes(description))
    return ErrorResponse(codes=codes, description=description)


def common_errors() -> dict[int, str]:
    """The errors every operation may answer, by status, from the registry (with the notes clients need)."""
    notes = {
        "VALIDATION_ERROR": "details: [{field, message}]",
        "RATE_LIMIT_EXCEEDED": "error.retryAfter, Retry-After header",
        "INTERNAL_SERVER_ERROR": "details.requestId",
    }
    by_status: dict[int, list[str]] = {}
    for code in ("VALIDATION_ERROR", "INVALID_JSON", "NUMBER_OUT_OF_RANGE", "NO_TOKEN", "INVALID_TOKEN", "USER_NOT_FOUND",
                 "RATE_LIMIT_EXCEEDED", "INTERNAL_SERVER_ERROR"):
        note = f" ({notes[code]})" if code in notes else ""
        by_status.setdefault(error_code(code).status, []).append(code + note)
    return {status: ", ".join(codes) for status, codes in by_status.items()}


COMMON_ERRORS = common_errors()


class EnvelopeAutoSchema(AutoSchema):
    """Wraps each documented success body in {success, data, message} and adds the error envelope."""

    def _is_list_view(self, serializer=None):
        # Every body here is an object (the envelope's data), never a bare list, even for a `list`
        # action: only a many=True serializer is an array. Operation ids keep drf-spectacular's naming.
        if serializer is None:
            return super()._is_list_view()
        return is_list_serializer(serializer)

    def _get_response_bodies(self, direction="response"):
        bodies = super()._get_response_bodies(direction)
        for status, description in COMMON_ERRORS.items():
            if status == 401 and not self.get_auth():
                continue
            bodies.setdefault(str(status), self._get_response_for_code(error_response(description), str(status)))
        return bodies

    def _get_response_for_code(self, serializer, status_code, media_types=None, direction="response"):
        if isinstance(serializer, ErrorResponse):
            wrong = [entry.code for entry in serializer.codes if int(status_code) not in entry.statuses]
            if wrong:
                raise ValueError(f"{self.method} {self.path}: {', '.join(wrong)} documented under {status_code}, "
                                 "not the status registered in ERROR_CODES")
        response = super()._get_response_for_code(serializer, status_code, media_types, direction)
        # A serializer with `plain_body = True` is the whole body already (the health routes' {success, ...}).
        wrap = serializer is not None and not _is_error(serializer) and not getattr(serializer, "plain_body", False)
        if str(status_code).startswith("2") and wrap:
            for media in response.get("content", {}).values():
                inner = media.get("schema")
                if inner is None:
                    continue
                media["schema"] = {
                    "type": "object",
                    "required": ["success", "data"],
                    "properties": {
                        "success": {"type": "boolean", "enum": [True]},
                        "data": inner,
                        "message": {"type": "string"},
                    },
                }
        return response


def _is_error(serializer) -> bool:
    target = getattr(serializer, "response", serializer)
    return target is ErrorEnvelopeSerializer or isinstance(target, ErrorEnvelopeSerializer)


__all__ = ["EnvelopeAutoSchema", "ErrorEnvelopeSerializer", "ErrorResponse", "error_response", "inline_serializer"]
