from django.urls import path
from rest_framework.response import Response
from rest_framework.views import APIView


class PingView(APIView):
    """What the service's `GET /api/ping` answers, in its envelope, with nothing around it."""

    def get(self, request):
        return Response({"success": True, "data": {"pong": True}})


urlpatterns = [path("api/ping", PingView.as_view())]
