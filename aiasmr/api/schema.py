"""OpenAPI: every response documented inside the envelope, every error with its codes."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.plumbing import is_list_serializer
from drf_spectacular.utils import OpenApiResponse, inline_serializer
from rest_framework import serializers


class ErrorDetailSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="Stable, machine-readable UPPER_SNAKE code.")
    message = serializers.CharField()
    details = serializers.JSONField(help_text="Field errors (a list of {field, message}) or context.")


class ErrorEnvelopeSerializer(serializers.Serializer):
    success = serializers.BooleanField(default=False)
    error = ErrorDetailSerializer()


def error_response(description: str) -> OpenApiResponse:
    return OpenApiResponse(response=ErrorEnvelopeSerializer, description=description)


COMMON_ERRORS = {
    400: "VALIDATION_ERROR (details: [{field, message}]), INVALID_JSON",
    401: "NOT_AUTHENTICATED, INVALID_TOKEN",
    429: "RATE_LIMITED (Retry-After header)",
    500: "INTERNAL_ERROR (details.requestId)",
}


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
        response = super()._get_response_for_code(serializer, status_code, media_types, direction)
        if str(status_code).startswith("2") and serializer is not None and not _is_error(serializer):
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


class BearerAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "aiasmr.api.authentication.BearerAuthentication"
    name = "bearerAuth"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}


__all__ = ["EnvelopeAutoSchema", "ErrorEnvelopeSerializer", "error_response", "inline_serializer"]
