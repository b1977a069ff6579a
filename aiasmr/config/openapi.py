"""drf-spectacular's settings: the OpenAPI document and the docs pages."""


def openapi_settings(*, version: str, debug: bool) -> dict:
    return {
        "TITLE": "aiasmr API",
        "DESCRIPTION": (
            "The mobile API of the AI ASMR video app. Every success is wrapped as "
            '`{"success": true, "data": ..., "message": ...}` and every error as '
            '`{"success": false, "error": {"code", "message", "details"}}`.'
        ),
        "VERSION": version,
        "SERVE_INCLUDE_SCHEMA": False,
        "COMPONENT_SPLIT_REQUEST": True,
        "SCHEMA_PATH_PREFIX": r"/api",
        # Assets served by the project itself: the docs work offline and under a strict CSP.
        "SWAGGER_UI_DIST": "SIDECAR",
        "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
        "REDOC_DIST": "SIDECAR",
        # No call to swagger.io's validator badge: the docs page talks to this server only.
        "SWAGGER_UI_SETTINGS": {"deepLinking": True, "validatorUrl": None},
        "DISABLE_ERRORS_AND_WARNINGS": not debug,
        # One OpenAPI name for each choice that several serializers share.
        "ENUM_NAME_OVERRIDES": {
            "VideoQualityEnum": "videos.serializers.QUALITIES",
            "PreferredDurationEnum": "accounts.serializers.PREFERRED_DURATIONS",
        },
    }
