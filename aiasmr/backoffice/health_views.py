"""GET /api/health/metrics and POST /api/health/cleanup: staff only, plain {success, ...} (routes/health.js).

Express's adminAuthMiddleware wanted a role no user had, so nobody could call them (a defect); here staff
can. No token: 401 NO_TOKEN; signed in but not staff: 403 INSUFFICIENT_PERMISSIONS.
"""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from aiasmr.api.permissions import IsStaff
from aiasmr.api.schema import error_response
from aiasmr.backoffice.health_selectors import health_cleanup, health_metrics


class _ApplicationSerializer(serializers.Serializer):
    uptime = serializers.IntegerField(help_text="Whole seconds since this process started.")
    version = serializers.CharField()
    environment = serializers.CharField()


class _UsersSerializer(serializers.Serializer):
    total = serializers.IntegerField()
    active_24h = serializers.IntegerField()


class _VideosSerializer(serializers.Serializer):
    total = serializers.IntegerField()
    completed = serializers.IntegerField()
    processing = serializers.IntegerField()
    failed = serializers.IntegerField()
    success_rate = serializers.IntegerField(help_text="Percent of videos ready, rounded.")


class _CreditsSerializer(serializers.Serializer):
    spent_24h = serializers.IntegerField()
    purchased_24h = serializers.IntegerField()
    transactions_24h = serializers.IntegerField()


class _MetricsSerializer(serializers.Serializer):
    timestamp = serializers.DateTimeField()
    application = _ApplicationSerializer()
    users = _UsersSerializer()
    videos = _VideosSerializer()
    credits = _CreditsSerializer()


class MetricsResultSerializer(serializers.Serializer):
    plain_body = True  # not wrapped in the envelope (aiasmr.api.schema)

    success = serializers.BooleanField(default=True)
    metrics = _MetricsSerializer()


class _CleanupSerializer(serializers.Serializer):
    timestamp = serializers.DateTimeField()
    actions = serializers.ListField(child=serializers.CharField(), help_text="What the sweep did, step by step.")
    errors = serializers.ListField(child=serializers.CharField())
    counts = serializers.DictField(child=serializers.IntegerField(), help_text="The sweep's counts by step.")


class CleanupResultSerializer(serializers.Serializer):
    plain_body = True

    success = serializers.BooleanField(default=True)
    message = serializers.CharField(default="Cleanup completed")
    result = _CleanupSerializer()


_STAFF_ERRORS = {403: error_response("INSUFFICIENT_PERMISSIONS")}


class HealthMetricsView(APIView):
    permission_classes = [IsAuthenticated, IsStaff]

    @extend_schema(responses={200: MetricsResultSerializer, **_STAFF_ERRORS}, summary="Service metrics (staff)")
    def get(self, request):
        return Response(MetricsResultSerializer({"metrics": health_metrics()}).data)


class HealthCleanupView(APIView):
    permission_classes = [IsAuthenticated, IsStaff]

    @extend_schema(
        request=None,
        responses={200: CleanupResultSerializer, **_STAFF_ERRORS},
        summary="Run the generation sweep once (staff)",
    )
    def post(self, request):
        return Response(CleanupResultSerializer({"result": health_cleanup()}).data)
