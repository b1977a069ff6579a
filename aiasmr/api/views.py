"""Fallback views: every unknown route and unhandled error in the contract's envelope."""

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
