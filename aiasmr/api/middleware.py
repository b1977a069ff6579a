"""Request id, access log, body size limit, the general IP rate limit, and an envelope for every error."""

import logging
import re
import time
import uuid

from django.conf import settings
from django.http import JsonResponse

from aiasmr.api.error_handler import api_error_body, api_error_headers
from aiasmr.api.exceptions import ApiError, PayloadTooLarge, RateLimited, error_body
from aiasmr.api.logging import access_log
from aiasmr.api.ratelimit import client_ip, enforce_rate_limit
from aiasmr.api.request_context import reset_request_id, set_request_id

_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
_DEFAULT_ERROR_CODES = {
    400: "BAD_REQUEST",
    401: "NO_TOKEN",
    403: "ACCESS_DENIED",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    413: "PAYLOAD_TOO_LARGE",
    415: "UNSUPPORTED_MEDIA_TYPE",
    429: "RATE_LIMIT_EXCEEDED",
    500: "INTERNAL_SERVER_ERROR",
    502: "PROVIDER_ERROR",
    503: "SERVICE_UNAVAILABLE",
}
# Paths authenticated by their own signatures rather than limited by client IP.
RATE_LIMIT_EXEMPT = re.compile(r"^/(health$|api/health|api/kie-callback|api/billing/webhooks/)")


def error_json(status: int, code: str, message: str, details=None) -> JsonResponse:
    response = JsonResponse(error_body(code, message, details), status=status)
    response.error_code = code  # for the access log line
    return response


def api_error_json(error: ApiError) -> JsonResponse:
    """`error` answered from a middleware (outside DRF), exactly as the exception handler answers it."""
    response = JsonResponse(api_error_body(error), status=error.status_code, headers=api_error_headers(error))
    response.error_code = error.code
    return response


class RequestIdMiddleware:
    """Outermost: sets the request id, enforces the body limit, logs the access line, and turns
    any non-JSON error answer on /api/ (Django's 404/405/413/CSRF pages) into the envelope."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.headers.get("X-Request-ID", "")
        request_id = incoming if _VALID_REQUEST_ID.match(incoming) else uuid.uuid4().hex
        request.request_id = request_id
        token = set_request_id(request_id)
        started = time.monotonic()
        try:
            response = self._guarded(request)
            response = self._ensure_envelope(request, response)
            response["X-Request-ID"] = request_id
            self._log(request, response, started)
            return response
        finally:
            reset_request_id(token)

    def _guarded(self, request):
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        limit = settings.BODY_LIMITS.get(request.path, settings.DATA_UPLOAD_MAX_MEMORY_SIZE)
        if length > limit:
            return api_error_json(PayloadTooLarge(details={"maxBytes": limit}))
        return self.get_response(request)

    @staticmethod
    def _ensure_envelope(request, response):
        if response.status_code < 400 or not request.path.startswith("/api/"):
            return response
        if "json" in response.get("Content-Type", ""):
            return response
        status = response.status_code
        code = _DEFAULT_ERROR_CODES.get(status, "ERROR")
        message = {
            404: "No API route matches this path.",
            405: f"Method {request.method} is not allowed here.",
        }.get(status, "The request could not be processed.")
        wrapped = error_json(status, code, message)
        for header in ("Allow", "Retry-After", "Cache-Control"):
            if header in response:
                wrapped[header] = response[header]
        return wrapped

    @staticmethod
    def _log(request, response, started):
        user = getattr(request, "user", None)
        level = logging.ERROR if response.status_code >= 500 else logging.INFO
        access_log.log(
            level,
            "request",
            extra={
                "event": "access",
                "method": request.method,
                "path": request.path,
                "status": response.status_code,
                # The envelope's error code (None on success), so error rates can be watched by code.
                "code": getattr(response, "error_code", None),
                "duration_ms": round((time.monotonic() - started) * 1000, 2),
                "user": str(user.pk) if user is not None and user.is_authenticated else None,
                "ip": client_ip(request),
            },
        )


# Answers that carry a token (sign-in, refresh, registration) even though the request carries none.
TOKEN_ANSWER_PATHS = re.compile(r"^/api/auth/")


class NoStoreMiddleware:
    """`Cache-Control: no-store` on every answer to an authenticated request (a bearer token or a staff
    session) and on every answer that may carry a token: no shared or browser cache keeps a user's data."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if "no-store" in response.get("Cache-Control", ""):
            return response  # the admin's never_cache says more (no-cache, private) and stays
        user = getattr(request, "user", None)
        if (
            "HTTP_AUTHORIZATION" in request.META
            or TOKEN_ANSWER_PATHS.match(request.path)
            or (user is not None and user.is_authenticated)
        ):
            response["Cache-Control"] = "no-store"
        return response


class ApiRateLimitMiddleware:
    """The general limit on every API request, by client IP."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path.startswith("/api/") and not RATE_LIMIT_EXEMPT.match(request.path):
            try:
                enforce_rate_limit(request, "api", key="ip")
            except RateLimited as error:
                return api_error_json(error)
        return self.get_response(request)

