from django.urls import path

from accounts.views import AuthViewSet, SessionViewSet, UserViewSet

urlpatterns = [
    path("auth/register", AuthViewSet.as_view({"post": "register"})),
    path("auth/login", AuthViewSet.as_view({"post": "login"})),
    path("auth/refresh", AuthViewSet.as_view({"post": "refresh"})),
    path("auth/logout", SessionViewSet.as_view({"post": "logout"})),
    path("user/profile", UserViewSet.as_view({"get": "profile", "put": "update_profile"})),
    path("user/password", UserViewSet.as_view({"put": "password"})),
    path("user/preferences", UserViewSet.as_view({"get": "preferences", "put": "update_preferences"})),
    path("user/statistics", UserViewSet.as_view({"get": "statistics"})),
    path("user/account", UserViewSet.as_view({"delete": "delete_account"})),
]
