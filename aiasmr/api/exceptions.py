"""The one error hierarchy, and the DRF exception handler that renders every error in the envelope."""

import logging

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404
from rest_framework import exceptions as drf
from rest_framework.response import Response
from rest_framework_simplejwt.exceptions import AuthenticationFailed as JwtAuthenticationFailed
from rest_framework_simplejwt.exceptions import InvalidToken as JwtInvalidToken

from aiasmr.api.request_context import current_request_id

logger = logging.getLogger("aiasmr.errors")


class ApiError(Exception):
    """Base of every error the API shows: an HTTP status, a stable code and a default message."""

    status_code = 400
    code = "BAD_REQUEST"
    default_message = "The request could not be processed."

    def __init__(self, message: str | None = None, *, details=None, code: str | None = None):
        self.message = message or self.default_message
        self.details = details if details is not None else {}
        if code:
            self.code = code
        super().__init__(self.message)


class ValidationFailed(ApiError):
    status_code = 400
    code = "VALIDATION_ERROR"
    default_message = "The request is invalid."


class MalformedRequest(ApiError):
    status_code = 400
    code = "INVALID_JSON"
    default_message = "The request body is not valid JSON."


class NotAuthenticated(ApiError):
    status_code = 401
    code = "NOT_AUTHENTICATED"
    default_message = "Authentication credentials were not provided."


class InvalidToken(ApiError):
    status_code = 401
    code = "INVALID_TOKEN"
    default_message = "The token is invalid or expired."


class LoginFailed(ApiError):
    status_code = 401
    code = "LOGIN_FAILED"
    default_message = "Invalid email or password."


class AccessDenied(ApiError):
    status_code = 403
    code = "ACCESS_DENIED"
    default_message = "You do not have permission to do this."


class NotFound(ApiError):
    status_code = 404
    code = "NOT_FOUND"
    default_message = "The resource was not found."


class MethodNotAllowed(ApiError):
    status_code = 405
    code = "METHOD_NOT_ALLOWED"
    default_message = "This method is not allowed here."


class InsufficientCredits(ApiError):
    status_code = 402
    code = "INSUFFICIENT_CREDITS"
    default_message = "Not enough credits."

    def __init__(self, *, required: int, available: int):
        super().__init__(
            f"This needs {required} credits; {available} available.",
            details={"required": required, "available": available},
        )


class Conflict(ApiError):
    status_code = 409
    code = "CONFLICT"
    default_message = "The request conflicts with the current state."


class PayloadTooLarge(ApiError):
    status_code = 413
    code = "PAYLOAD_TOO_LARGE"
    default_message = "The request body is too large."


class UnsupportedMediaType(ApiError):
    status_code = 415
    code = "UNSUPPORTED_MEDIA_TYPE"
    default_message = "Send the body as application/json."


class RateLimited(ApiError):
    status_code = 429
    code = "RATE_LIMITED"
    default_message = "Too many requests; try again later."

    def __init__(self, *, retry_after: int, scope: str = "api"):
        self.retry_after = max(1, int(retry_after))
        super().__init__(details={"retryAfter": self.retry_after, "scope": scope})


class ProviderError(ApiError):
    """A provider (KIE, payments, storage) failed; the request may succeed later."""

    status_code = 502
    code = "PROVIDER_ERROR"
    default_message = "An upstream provider failed."


class ServiceUnavailable(ApiError):
    status_code = 503
    code = "SERVICE_UNAVAILABLE"
    default_message = "The service is temporarily unavailable."


class InternalError(ApiError):
    status_code = 500
    code = "INTERNAL_ERROR"
    default_message = "An unexpected error occurred."


def error_body(code: str, message: str, details=None) -> dict:
    return {"success": False, "error": {"code": code, "message": message, "details": details or {}}}


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
    if isinstance(exc, drf.APIException):
        error = ApiError(str(exc.detail))
        error.status_code = exc.status_code
        return error
    return None


def api_error_response(error: ApiError) -> Response:
    body = error_body(error.code, error.message, error.details)
    if error.status_code >= 500:
        body["error"]["details"] = {**(error.details or {}), "requestId": current_request_id()}
    response = Response(body, status=error.status_code)
    if isinstance(error, RateLimited):
        response["Retry-After"] = str(error.retry_after)
    return response


def envelope_exception_handler(exc, context):
    error = as_api_error(exc)
    if error is None:
        logger.exception("unhandled error", extra={"event": "unhandled_error"})
        error = InternalError()
    elif error.status_code >= 500:
        logger.error("provider error", extra={"event": "provider_error", "code": error.code})
    return api_error_response(error)
