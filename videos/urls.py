from django.urls import path

from videos.catalog_views import CatalogViewSet, UploadViewSet
from videos.gallery_views import GalleryViewSet, VideoLikeViewSet, VideoPublishViewSet
from videos.views import GenerationViewSet, KieCallbackViewSet, VideoViewSet

urlpatterns = [
    path("generate", GenerationViewSet.as_view({"post": "generate"})),
    path("generate/status/<str:task_id>", GenerationViewSet.as_view({"get": "status"})),
    path("generate/cancel/<str:task_id>", GenerationViewSet.as_view({"post": "cancel"})),
    path("kie-callback", KieCallbackViewSet.as_view({"post": "callback"})),
    path("kie-callback/health", KieCallbackViewSet.as_view({"get": "health"})),
    path("videos", VideoViewSet.as_view({"get": "list"})),
    # stats before <video_id> (Express's order made it unreachable); the id is checked by the selector (400).
    path("videos/stats", VideoViewSet.as_view({"get": "stats"})),
    path("videos/<str:video_id>", VideoViewSet.as_view({"get": "retrieve", "delete": "destroy"})),
    path("videos/<str:video_id>/like", VideoLikeViewSet.as_view({"post": "like", "delete": "unlike"})),
    path("videos/<str:video_id>/publish", VideoPublishViewSet.as_view({"post": "publish", "delete": "unpublish"})),
    path("gallery", GalleryViewSet.as_view({"get": "list"})),
    path("gallery/<str:video_id>/view", GalleryViewSet.as_view({"post": "view"})),
    path("videos/<str:video_id>/favorite", VideoViewSet.as_view({"put": "favorite"})),
    path("models", CatalogViewSet.as_view({"get": "models"})),
    path("prompt-templates", CatalogViewSet.as_view({"get": "prompt_templates"})),
    path("uploads/images", UploadViewSet.as_view({"post": "create"})),
]
