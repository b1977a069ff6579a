"""Fallback views: every unknown route and unhandled error in the contract's envelope."""

from django.http import JsonResponse
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from aiasmr.api.exceptions import error_body
from aiasmr.api.request_context import current_request_id


def not_found(request, exception=None):
    return JsonResponse(error_body("NOT_FOUND", "No route matches this path."), status=404)


def server_error(request):
    body = error_body("INTERNAL_ERROR", "An unexpected error occurred.", {"requestId": current_request_id()})
    return JsonResponse(body, status=500)


def bad_request(request, exception=None):
    return JsonResponse(error_body("BAD_REQUEST", "The request could not be processed."), status=400)


def permission_denied(request, exception=None):
    return JsonResponse(error_body("ACCESS_DENIED", "You do not have permission to do this."), status=403)


class PingSerializer(serializers.Serializer):
    pong = serializers.BooleanField()


class PingView(APIView):
    """The cheapest DRF JSON answer (no auth, no database): the load benchmark's ceiling."""

    authentication_classes: list = []
    permission_classes = [AllowAny]

    @extend_schema(responses={200: PingSerializer}, summary="Liveness of the API stack itself")
    def get(self, request):
        return Response({"pong": True})
