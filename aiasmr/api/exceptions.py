"""The one error registry and hierarchy (aiasmr.api.error_handler renders them in the envelope)."""

from dataclasses import dataclass


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
    # Non-finite (1e400) or beyond a signed 64-bit integer: valid JSON syntax, but no field can hold it.
    ErrorCode("NUMBER_OUT_OF_RANGE", 400, "A number in the request body is out of range."),
    ErrorCode("NOT_ACCEPTABLE", 400, "Only application/json responses are offered."),
    ErrorCode("PAYLOAD_TOO_LARGE", 413, "The request body is too large."),
    ErrorCode("TOO_MANY_FIELDS", 400, "The request has too many query or form fields."),
    ErrorCode("UNSUPPORTED_MEDIA_TYPE", 415, "Send the body as application/json."),
    ErrorCode("METHOD_NOT_ALLOWED", 405, "This method is not allowed here."),
    ErrorCode("NOT_FOUND", 404, "The resource was not found."),
    ErrorCode("CONFLICT", 409, "The request conflicts with the current state."),
    ErrorCode("IDEMPOTENCY_KEY_REUSED", 409, "This Idempotency-Key was used for a different request."),
    # --- rate limits: one code per limiter (settings.RATE_LIMITS scope), Express's codes and messages ---
    ErrorCode("RATE_LIMIT_EXCEEDED", 429, "Too many requests from this IP. Please try again later."),
    ErrorCode("AUTH_RATE_LIMIT_EXCEEDED", 429, "Too many authentication attempts. Please try again later."),
    ErrorCode(
        "VIDEO_GENERATION_LIMIT_EXCEEDED", 429,
        "You have exceeded the video generation limit. Please try again later.",
    ),
    ErrorCode(
        "CREDITS_PURCHASE_LIMIT_EXCEEDED", 429,
        "You have exceeded the daily credits purchase limit. Please try again tomorrow.",
    ),
    ErrorCode("UPLOAD_RATE_LIMIT_EXCEEDED", 429, "Too many image uploads. Please try again later."),
    ErrorCode("STRICT_RATE_LIMIT_EXCEEDED", 429, "Too many requests to this sensitive endpoint. Please try again later."),
    # --- authentication and permissions ---
    ErrorCode("NO_TOKEN", 401, "Access denied. No token provided."),
    ErrorCode("INVALID_TOKEN", 401, "Invalid or expired token."),
    ErrorCode("LOGIN_FAILED", 401, "Invalid email or password."),
    ErrorCode("ACCESS_DENIED", 403, "You do not have permission to do this."),
    ErrorCode("USER_NOT_FOUND", 401, "User not found."),
    ErrorCode("INSUFFICIENT_PERMISSIONS", 403, "Insufficient permissions."),
    # --- accounts ---
    ErrorCode("PROFILE_NOT_FOUND", 400, "This account has no profile, so no balance."),
    ErrorCode("REGISTRATION_FAILED", 400, "Registration failed."),
    ErrorCode("PASSWORD_CHANGE_FAILED", 400, "Password change failed."),
    ErrorCode("CONFIRMATION_REQUIRED", 400, "Confirmation is required."),
    # --- credits and generation ---
    ErrorCode("INSUFFICIENT_CREDITS", 400, "Not enough credits."),
    ErrorCode("PLAN_UPGRADE_REQUIRED", 403, "Your plan does not include this quality; upgrade to generate it."),
    ErrorCode("TASK_NOT_FOUND", 404, "Task not found."),
    ErrorCode("VIDEO_NOT_FOUND", 404, "Video not found."),
    ErrorCode("VIDEO_NOT_SETTLED", 409, "The video is still being generated; it settles itself."),
    ErrorCode("CANNOT_CANCEL_COMPLETED", 400, "Cannot cancel a completed generation."),
    ErrorCode("ALREADY_FAILED", 400, "This generation has already failed."),
    # HTTP 200 with success false: Express answered it with res.json (the app decodes it so).
    ErrorCode("CANCELLATION_NOT_SUPPORTED", 200, "The provider already has this job; it cannot be cancelled."),
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
    # --- free credits and the gallery ---
    ErrorCode("ALREADY_CHECKED_IN", 409, "You have already checked in today."),
    ErrorCode("INVALID_REFERRAL_CODE", 400, "This referral code does not exist."),
    ErrorCode("VIDEO_NOT_PUBLISHABLE", 409, "Only a completed video can be published."),
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
    # --- in-app purchases (App Store, Google Play) ---
    ErrorCode("STORE_NOT_CONFIGURED", 503, "This store is not configured on this server."),
    ErrorCode("STORE_UNAVAILABLE", 502, "The store could not be reached; try again later."),
    ErrorCode("STORE_SIGNATURE_INVALID", 400, "The store purchase is not signed by the store."),
    ErrorCode("STORE_APP_MISMATCH", 400, "The store purchase is for another app."),
    ErrorCode("STORE_ENVIRONMENT_MISMATCH", 400, "The store purchase is from another store environment."),
    ErrorCode("STORE_ACCOUNT_MISMATCH", 403, "The store purchase was made for another account."),
    ErrorCode("STORE_PRODUCT_UNKNOWN", 400, "This store product is not sold here."),
    ErrorCode("STORE_PURCHASE_NOT_FOUND", 400, "The store does not know this purchase."),
    ErrorCode("STORE_PURCHASE_NOT_COMPLETED", 409, "The store purchase is not completed."),
    ErrorCode("STORE_PURCHASE_CONSUMED", 409, "The store purchase was already used."),
    ErrorCode("STORE_PURCHASE_REVOKED", 409, "The store purchase was refunded or revoked."),
    ErrorCode("STORE_PUSH_UNAUTHORIZED", 401, "The push is not authenticated by the store's service account."),
    # --- the server ---
    ErrorCode("INTERNAL_SERVER_ERROR", 500, "Internal server error occurred"),
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
    # Keys Express sends beside code and message at the error's top level (a rate limit's `retryAfter`).
    extra: dict = {}

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


class NumberOutOfRange(ApiError):
    """A JSON number no field can hold: non-finite (1e400) or beyond a signed 64-bit integer."""

    code = "NUMBER_OUT_OF_RANGE"


class NotAuthenticated(ApiError):
    """No `Authorization: Bearer` header (Express's NO_TOKEN)."""

    code = "NO_TOKEN"


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


def window_text(seconds: int) -> str:
    """A limiter's window the way Express's messages word it: "60 seconds", "15 minutes", "1 hour", "24 hours"."""
    for unit, size in (("hour", 3600), ("minute", 60)):
        if seconds >= size and seconds % size == 0 and (unit == "hour" or seconds > 60):
            count = seconds // size
            return f"{count} {unit}{'' if count == 1 else 's'}"
    return f"{seconds} second{'' if seconds == 1 else 's'}"


class RateLimited(ApiError):
    """429 of the general limiter (scope `api`); a subclass per other limiter carries Express's code for it.

    `error.retryAfter` is the window as Express words it (a string), the `Retry-After` header the seconds
    left, and `details` the limiter's {limit, windowMs} (Express sent them for generation only).
    """

    code = "RATE_LIMIT_EXCEEDED"
    scope = "api"

    def __init__(self, *, retry_after: int, scope: str | None = None, limit: int | None = None, window: int = 60):
        self.retry_after = max(1, int(retry_after))
        self.scope = scope or self.scope
        super().__init__(details={"limit": limit, "windowMs": window * 1000})
        self.extra = {"retryAfter": window_text(window)}


class AuthRateLimited(RateLimited):
    code = "AUTH_RATE_LIMIT_EXCEEDED"
    scope = "auth"


class GenerationRateLimited(RateLimited):
    code = "VIDEO_GENERATION_LIMIT_EXCEEDED"
    scope = "generate"


class PurchaseRateLimited(RateLimited):
    code = "CREDITS_PURCHASE_LIMIT_EXCEEDED"
    scope = "purchase"


class UploadRateLimited(RateLimited):
    code = "UPLOAD_RATE_LIMIT_EXCEEDED"  # not an Express limiter: image uploads are new
    scope = "upload"


class StrictRateLimited(RateLimited):
    code = "STRICT_RATE_LIMIT_EXCEEDED"
    scope = "sensitive"


# settings.RATE_LIMITS scope -> its error; a scope not listed answers the general limiter's code.
RATE_LIMIT_ERRORS: dict[str, type[RateLimited]] = {
    cls.scope: cls
    for cls in (
        RateLimited, AuthRateLimited, GenerationRateLimited, PurchaseRateLimited, UploadRateLimited, StrictRateLimited
    )
}


def rate_limited(*, scope: str, retry_after: int, limit: int, window: int) -> RateLimited:
    """The error of the limiter `scope` once `limit` requests per `window` seconds are used up."""
    error_class = RATE_LIMIT_ERRORS.get(scope, RateLimited)
    return error_class(retry_after=retry_after, scope=scope, limit=limit, window=window)


class ProviderError(ApiError):
    """A provider (KIE, payments, storage) failed; the request may succeed later."""

    code = "PROVIDER_ERROR"


class ServiceUnavailable(ApiError):
    code = "SERVICE_UNAVAILABLE"


class InternalError(ApiError):
    code = "INTERNAL_SERVER_ERROR"


class InsufficientPermissions(ApiError):
    """Signed in, but not staff (Express's adminAuthMiddleware)."""

    code = "INSUFFICIENT_PERMISSIONS"


def error_body(code: str, message: str, details=None, *, extra: dict | None = None) -> dict:
    return {"success": False, "error": {"code": code, "message": message, **(extra or {}), "details": details or {}}}
