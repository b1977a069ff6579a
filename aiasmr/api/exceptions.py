"""The one error hierarchy, and the DRF exception handler that renders every error in the envelope."""

import logging
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404
from rest_framework import exceptions as drf
from rest_framework.response import Response
from rest_framework_simplejwt.exceptions import AuthenticationFailed as JwtAuthenticationFailed
from rest_framework_simplejwt.exceptions import InvalidToken as JwtInvalidToken

from aiasmr.api.request_context import current_request_id

logger = logging.getLogger("aiasmr.errors")


@dataclass(frozen=True)
class ErrorCode:
    """One error the API can answer: its stable code, its HTTP status and its default message."""

    code: str
    status: int
    message: str
    # Statuses this code also travels with, and why (a collision kept because clients already see it).
    also_status: tuple[int, ...] = ()

    @property
    def statuses(self) -> tuple[int, ...]:
        return (self.status, *self.also_status)


def _registry(*codes: ErrorCode) -> dict[str, ErrorCode]:
    registry: dict[str, ErrorCode] = {}
    for entry in codes:
        if entry.code in registry:
            raise ValueError(f"error code {entry.code} is registered twice")
        registry[entry.code] = entry
    return registry


# Every error code the API answers, in one place: the exception classes take their status and default
# message from it, and the OpenAPI error responses (aiasmr.api.schema.error_response) are built from it.
# The codes the Express app could see keep their Express spelling. A code raised anywhere must be here
# (tests/api/test_error_codes.py checks the whole code base).
ERROR_CODES: dict[str, ErrorCode] = _registry(
    # --- the request itself ---
    ErrorCode("BAD_REQUEST", 400, "The request could not be processed."),
    ErrorCode("VALIDATION_ERROR", 400, "The request is invalid."),
    ErrorCode("INVALID_JSON", 400, "The request body is not valid JSON."),
    ErrorCode("NOT_ACCEPTABLE", 400, "Only application/json responses are offered."),
    ErrorCode("PAYLOAD_TOO_LARGE", 413, "The request body is too large."),
    ErrorCode("UNSUPPORTED_MEDIA_TYPE", 415, "Send the body as application/json."),
    ErrorCode("METHOD_NOT_ALLOWED", 405, "This method is not allowed here."),
    ErrorCode("NOT_FOUND", 404, "The resource was not found."),
    ErrorCode("CONFLICT", 409, "The request conflicts with the current state."),
    ErrorCode("IDEMPOTENCY_KEY_REUSED", 409, "This Idempotency-Key was used for a different request."),
    ErrorCode("RATE_LIMITED", 429, "Too many requests; try again later."),
    # --- authentication and permissions ---
    ErrorCode("NOT_AUTHENTICATED", 401, "Authentication credentials were not provided."),
    ErrorCode("INVALID_TOKEN", 401, "The token is invalid or expired."),
    ErrorCode("LOGIN_FAILED", 401, "Invalid email or password."),
    ErrorCode("ACCESS_DENIED", 403, "You do not have permission to do this."),
    # --- accounts ---
    ErrorCode("EMAIL_ALREADY_REGISTERED", 409, "An account with this email already exists."),
    ErrorCode("INVALID_CURRENT_PASSWORD", 400, "The current password is wrong."),
    ErrorCode("PROFILE_NOT_FOUND", 400, "This account has no profile, so no balance."),
    # --- credits and generation ---
    ErrorCode("INSUFFICIENT_CREDITS", 402, "Not enough credits."),
    ErrorCode("PLAN_UPGRADE_REQUIRED", 403, "Your plan does not include this quality; upgrade to generate it."),
    ErrorCode("TASK_NOT_FOUND", 404, "Task not found."),
    ErrorCode("VIDEO_NOT_FOUND", 404, "Video not found."),
    ErrorCode("VIDEO_NOT_SETTLED", 409, "The video is still being generated; it settles itself."),
    ErrorCode("CANCELLATION_NOT_SUPPORTED", 409, "The provider already has this job; it cannot be cancelled."),
    ErrorCode("MODEL_NOT_AVAILABLE", 400, "This model does not exist or is switched off."),
    ErrorCode("UNSUPPORTED_IMAGE_TYPE", 400, "Only PNG, JPEG and WebP images are accepted."),
    ErrorCode("INVALID_IMAGE", 400, "The image could not be read."),
    ErrorCode("IMAGE_DIMENSIONS_TOO_LARGE", 400, "The image is too large in pixels."),
    ErrorCode("UPLOAD_QUOTA_EXCEEDED", 429, "Too many uploads; try again later."),
    ErrorCode("INVALID_CALLBACK", 400, "The callback is malformed."),
    ErrorCode("INVALID_CALLBACK_AUTH", 401, "The callback is not authenticated."),
    # --- the video provider (KIE): a failed or refused call is a 502; the codes also name a failed video ---
    ErrorCode("PROVIDER_ERROR", 502, "An upstream provider failed."),
    ErrorCode("PROVIDER_UNAVAILABLE", 502, "The video provider could not be reached."),
    ErrorCode("PROVIDER_TIMEOUT", 502, "The video provider did not answer in time."),
    ErrorCode("PROVIDER_NOT_CONFIGURED", 502, "KIE_API_KEY is not configured."),
    ErrorCode("PROVIDER_AUTH_FAILED", 502, "The video provider refused our credentials."),
    ErrorCode("PROVIDER_OUT_OF_CREDITS", 502, "The video provider account is out of credits."),
    ErrorCode("PROVIDER_RATE_LIMITED", 502, "The video provider is rate limiting us."),
    ErrorCode("PROVIDER_MAINTENANCE", 502, "The video provider is under maintenance."),
    ErrorCode("PROVIDER_DISABLED", 502, "The video provider disabled this model."),
    ErrorCode("PROMPT_REJECTED", 502, "The video provider rejected the prompt."),
    ErrorCode("IMAGE_FETCH_FAILED", 502, "The video provider could not fetch the image."),
    ErrorCode("GENERATION_FAILED", 502, "The video provider failed to generate the video."),
    ErrorCode("MEDIA_DOWNLOAD_FAILED", 502, "The generated file could not be downloaded."),
    ErrorCode("MEDIA_REJECTED", 502, "The generated file is not acceptable."),
    # --- payments ---
    ErrorCode("INVALID_PACKAGE", 400, "This package does not exist."),
    ErrorCode("AMOUNT_MISMATCH", 400, "The amount does not match the package."),
    ErrorCode("INVALID_PLAN", 400, "This plan does not exist."),
    ErrorCode("PLAN_NOT_AVAILABLE", 400, "This plan cannot be bought yet."),
    ErrorCode("TRIAL_ALREADY_USED", 409, "The trial can be bought once."),
    ErrorCode("SUBSCRIPTION_EXISTS", 409, "You already have an active subscription."),
    ErrorCode("SUBSCRIPTION_NOT_FOUND", 404, "You have no active subscription."),
    ErrorCode("ORDER_NOT_FOUND", 404, "The order was not found."),
    ErrorCode("ORDER_NOT_PAYABLE", 409, "This order cannot be paid."),
    ErrorCode("ORDER_NOT_REFUNDABLE", 409, "Only a completed, paid order can be refunded."),
    ErrorCode("INVALID_SIGNATURE", 400, "The webhook signature is missing, invalid or expired."),
    ErrorCode("PAYMENT_PROVIDER_ERROR", 502, "The payment provider is unavailable; try again later."),
    ErrorCode("PAYMENTS_NOT_CONFIGURED", 503, "Payments are not configured."),
    # An unknown payment provider is a 404; KIE's own 404 (an unknown task) travels under the same code
    # as a refused provider call (502).
    ErrorCode("PROVIDER_NOT_FOUND", 404, "The payment provider was not found.", also_status=(502,)),
    # --- the server ---
    ErrorCode("INTERNAL_ERROR", 500, "An unexpected error occurred."),
    ErrorCode("SERVICE_UNAVAILABLE", 503, "The service is temporarily unavailable."),
)


def error_code(code: str) -> ErrorCode:
    """The registered error `code`; KeyError names an unregistered one."""
    try:
        return ERROR_CODES[code]
    except KeyError:
        raise KeyError(f"error code {code!r} is not registered in aiasmr.api.exceptions.ERROR_CODES") from None


class ApiError(Exception):
    """Base of every error the API shows: a registered code, its HTTP status and its default message.

    A subclass names its `code`; its `status_code` and `default_message` come from ERROR_CODES (a subclass
    may word its default message more precisely, never change the status).
    """

    code = "BAD_REQUEST"
    status_code = ERROR_CODES["BAD_REQUEST"].status
    default_message = ERROR_CODES["BAD_REQUEST"].message

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        entry = error_code(cls.code)
        if "status_code" in cls.__dict__:
            if cls.status_code not in entry.statuses:
                raise TypeError(f"{cls.__name__}: {cls.code} is registered with status {entry.status}")
        else:
            cls.status_code = entry.status
        if "default_message" not in cls.__dict__ and "code" in cls.__dict__:
            cls.default_message = entry.message

    def __init__(self, message: str | None = None, *, details=None, code: str | None = None):
        self.message = message or self.default_message
        self.details = details if details is not None else {}
        if code:
            self.code = code
        super().__init__(self.message)


class ValidationFailed(ApiError):
    code = "VALIDATION_ERROR"


class MalformedRequest(ApiError):
    code = "INVALID_JSON"


class NotAuthenticated(ApiError):
    code = "NOT_AUTHENTICATED"


class InvalidToken(ApiError):
    code = "INVALID_TOKEN"


class LoginFailed(ApiError):
    code = "LOGIN_FAILED"


class AccessDenied(ApiError):
    code = "ACCESS_DENIED"


class NotFound(ApiError):
    code = "NOT_FOUND"


class MethodNotAllowed(ApiError):
    code = "METHOD_NOT_ALLOWED"


class InsufficientCredits(ApiError):
    code = "INSUFFICIENT_CREDITS"

    def __init__(self, *, required: int, available: int):
        super().__init__(
            f"This needs {required} credits; {available} available.",
            details={"required": required, "available": available},
        )


class Conflict(ApiError):
    code = "CONFLICT"


class PayloadTooLarge(ApiError):
    code = "PAYLOAD_TOO_LARGE"


class UnsupportedMediaType(ApiError):
    code = "UNSUPPORTED_MEDIA_TYPE"


class RateLimited(ApiError):
    code = "RATE_LIMITED"

    def __init__(self, *, retry_after: int, scope: str = "api"):
        self.retry_after = max(1, int(retry_after))
        super().__init__(details={"retryAfter": self.retry_after, "scope": scope})


class ProviderError(ApiError):
    """A provider (KIE, payments, storage) failed; the request may succeed later."""

    code = "PROVIDER_ERROR"


class ServiceUnavailable(ApiError):
    code = "SERVICE_UNAVAILABLE"


class InternalError(ApiError):
    code = "INTERNAL_ERROR"


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
