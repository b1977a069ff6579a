"""Fallback views: every unknown route and unhandled error in the contract's envelope; ReDoc's bundle."""

import functools
from pathlib import Path

from django.contrib.staticfiles import finders
from django.http import HttpResponse
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from aiasmr.api.error_handler import as_api_error
from aiasmr.api.exceptions import AccessDenied, ApiError, InternalError, NotFound
from aiasmr.api.middleware import api_error_json


def not_found(request, exception=None):
    return api_error_json(NotFound("No route matches this path."))


def server_error(request):
    return api_error_json(InternalError())


def bad_request(request, exception=None):
    # Django's SuspiciousOperation family raised outside a DRF view (a bad Host, too many form fields,
    # a body over the limit): the same envelope the exception handler gives inside one.
    return api_error_json(as_api_error(exception) if exception is not None else ApiError())


def permission_denied(request, exception=None):
    return api_error_json(AccessDenied())


class PingSerializer(serializers.Serializer):
    pong = serializers.BooleanField()


class PingView(APIView):
    """The cheapest DRF JSON answer (no auth, no database): the load benchmark's ceiling."""

    authentication_classes: list = []
    permission_classes = [AllowAny]

    @extend_schema(responses={200: PingSerializer}, summary="Liveness of the API stack itself")
    def get(self, request):
        return Response({"pong": True})


# ReDoc's bundle draws a Redocly logo from cdn.redoc.ly in its side menu, unconditionally: the bundle is
# served from here with that address replaced by an empty image (the menu then hides it), so the docs
# page asks nothing of a third party.
REDOC_BUNDLE = "drf_spectacular_sidecar/redoc/bundles/redoc.standalone.js"
REDOC_THIRD_PARTY_LOGO = b"https://cdn.redoc.ly/redoc/logo-mini.svg"


@functools.cache
def _redoc_bundle() -> bytes:
    return Path(finders.find(REDOC_BUNDLE)).read_bytes().replace(REDOC_THIRD_PARTY_LOGO, b"data:,")


def redoc_bundle(request):
    return HttpResponse(
        _redoc_bundle(),
        content_type="application/javascript; charset=utf-8",
        headers={"Cache-Control": "public, max-age=86400"},
    )
