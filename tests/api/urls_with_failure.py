"""The real URLs plus one view that crashes, to see what a 500 looks like."""

from django.urls import path
from rest_framework.decorators import api_view, authentication_classes, permission_classes

from aiasmr.urls import handler404, handler500  # noqa: F401
from aiasmr.urls import urlpatterns as real_urlpatterns


@api_view(["GET"])
@authentication_classes([])
@permission_classes([])
def crash(request):
    raise RuntimeError("SELECT secret FROM somewhere")


urlpatterns = [path("api/test-crash", crash), *real_urlpatterns]
