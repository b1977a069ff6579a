from csp.decorators import csp_replace
from django.conf import settings
from django.contrib import admin
from django.urls import include, path, re_path
from django.views.static import serve
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerSplitView

from aiasmr.api import health
from aiasmr.api.metrics import metrics_view
from aiasmr.api.views import PingView, redoc_bundle
from aiasmr.backoffice.health_views import HealthCleanupView, HealthMetricsView

# The docs pages load images from this server only: ReDoc's bundle hard-codes a Redocly logo from
# cdn.redoc.ly, which the browser then never requests (the page hides the refused image).
docs_csp = csp_replace({"img-src": ["'self'", "data:", "blob:"], "media-src": ["'self'"]})

# Every API route answers with or without one trailing slash (aiasmr.api.trailing_slash), as Express did.
api_patterns = [
    path("health", health.health),
    path("health/live", health.live),
    path("health/ready", health.ready),
    path("health/detailed", health.detailed),
    path("health/metrics", HealthMetricsView.as_view()),
    path("health/cleanup", HealthCleanupView.as_view()),
    path("ping", PingView.as_view()),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves Swagger UI's init script as a file of its own (`?script`): the CSP allows
    # no inline script.
    path("docs/", docs_csp(SpectacularSwaggerSplitView.as_view(url_name="schema")), name="api-docs"),
    path("redoc/redoc.standalone.js", redoc_bundle, name="api-redoc-bundle"),
    path("redoc/", docs_csp(SpectacularRedocView.as_view(url_name="schema")), name="api-redoc"),
    path("", include("accounts.urls")),
    path("", include("aiasmr.lifecycle.urls")),
    path("", include("credits.urls")),
    path("", include("rewards.urls")),
    path("", include("billing.urls")),
    path("", include("videos.urls")),
]

urlpatterns = [
    path("health", health.health),
    path("metrics", metrics_view),
    path("api/", include(api_patterns)),
    path(settings.ADMIN_URL, admin.site.urls),
]

if settings.SERVE_LOCAL_MEDIA:
    # Local storage only (development, `make run`); production serves files from R2.
    urlpatterns.append(
        re_path(r"^media/(?P<path>.*)$", serve, {"document_root": settings.MEDIA_ROOT}),
    )

handler404 = "aiasmr.api.views.not_found"
handler500 = "aiasmr.api.views.server_error"
handler400 = "aiasmr.api.views.bad_request"
handler403 = "aiasmr.api.views.permission_denied"
