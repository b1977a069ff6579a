"""The DRF exception handler: every error, expected or not, rendered in the envelope from the registry."""

import logging

from django.conf import settings
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation, TooManyFieldsSent
from django.http import Http404
from rest_framework import exceptions as drf
from rest_framework.response import Response
from rest_framework_simplejwt.exceptions import AuthenticationFailed as JwtAuthenticationFailed
from rest_framework_simplejwt.exceptions import InvalidToken as JwtInvalidToken

from aiasmr.api.exceptions import (
    AccessDenied,
    ApiError,
    InternalError,
    InvalidToken,
    MalformedRequest,
    MethodNotAllowed,
    NotAuthenticated,
    NotFound,
    PayloadTooLarge,
    RateLimited,
    UnsupportedMediaType,
    ValidationFailed,
    error_body,
    error_code,
)
from aiasmr.api.request_context import current_request_id

logger = logging.getLogger("aiasmr.errors")


def _validation_details(detail, prefix: str = "") -> list[dict]:
    """Flattens DRF's nested error detail into a list of {field, message}."""
    items: list[dict] = []
    if isinstance(detail, dict):
        for key, value in detail.items():
            field = key if key != "non_field_errors" else ""
            name = f"{prefix}.{field}" if prefix and field else (field or prefix)
            items.extend(_validation_details(value, name))
    elif isinstance(detail, list):
        for index, value in enumerate(detail):
            if isinstance(value, dict | list) and not isinstance(value, str):
                items.extend(_validation_details(value, f"{prefix}[{index}]" if prefix else str(index)))
            else:
                items.append({"field": prefix or "non_field_errors", "message": str(value)})
    else:
        items.append({"field": prefix or "non_field_errors", "message": str(detail)})
    return items


def as_api_error(exc: Exception) -> ApiError | None:
    """Maps Django's and DRF's own exceptions onto the hierarchy; None for unexpected ones."""
    if isinstance(exc, ApiError):
        return exc
    if isinstance(exc, drf.ValidationError):
        return ValidationFailed(details=_validation_details(exc.detail))
    if isinstance(exc, drf.ParseError):
        return MalformedRequest(str(exc.detail))
    if isinstance(exc, JwtInvalidToken | JwtAuthenticationFailed):
        return InvalidToken()
    if isinstance(exc, drf.NotAuthenticated):
        return NotAuthenticated()
    if isinstance(exc, drf.AuthenticationFailed):
        return InvalidToken()
    if isinstance(exc, drf.PermissionDenied | DjangoPermissionDenied):
        return AccessDenied()
    if isinstance(exc, drf.NotFound | Http404):
        return NotFound()
    if isinstance(exc, drf.MethodNotAllowed):
        return MethodNotAllowed()
    if isinstance(exc, drf.UnsupportedMediaType):
        return UnsupportedMediaType()
    if isinstance(exc, drf.NotAcceptable):
        return ApiError("Only application/json responses are offered.", code="NOT_ACCEPTABLE")
    if isinstance(exc, drf.Throttled):
        return RateLimited(retry_after=int(exc.wait or 60))
    if isinstance(exc, RequestDataTooBig):
        return PayloadTooLarge(details={"maxBytes": settings.DATA_UPLOAD_MAX_MEMORY_SIZE})
    if isinstance(exc, TooManyFieldsSent):
        return ApiError(code="TOO_MANY_FIELDS", message=error_code("TOO_MANY_FIELDS").message,
                        details={"maxFields": settings.DATA_UPLOAD_MAX_NUMBER_FIELDS})
    if isinstance(exc, SuspiciousOperation):  # Django's "a client's fault" family (bad Host, bad cookie, ...)
        return ApiError()
    if isinstance(exc, drf.APIException):
        error = ApiError(str(exc.detail))
        error.status_code = exc.status_code
        return error
    return None


def _as_field_list(details) -> list[dict]:
    """Validation details are always a list of {field, message} (middleware/validation.js)."""
    if isinstance(details, list):
        return details
    if isinstance(details, dict):
        return [{"field": str(field), "message": str(message)} for field, message in details.items()]
    return []


def api_error_body(error: ApiError) -> dict:
    """The envelope of `error`: 5xx answers carry the request id; validation details are a list."""
    body = error_body(error.code, error.message, error.details, extra=error.extra)
    if error.code == "VALIDATION_ERROR":
        body["error"]["details"] = _as_field_list(error.details)
    elif error.status_code >= 500:
        body["error"]["details"] = {**(error.details or {}), "requestId": current_request_id()}
    return body


def api_error_headers(error: ApiError) -> dict[str, str]:
    return {"Retry-After": str(error.retry_after)} if isinstance(error, RateLimited) else {}


def api_error_response(error: ApiError) -> Response:
    response = Response(api_error_body(error), status=error.status_code, headers=api_error_headers(error))
    response.error_code = error.code  # for the access log line
    return response


def envelope_exception_handler(exc, context):
    error = as_api_error(exc)
    if error is None:
        logger.exception("unhandled error", extra={"event": "unhandled_error"})
        error = InternalError()
    elif error.status_code >= 500:
        logger.error("provider error", extra={"event": "provider_error", "code": error.code})
    return api_error_response(error)
