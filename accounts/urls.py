from django.urls import path

from accounts.views import AuthViewSet, SessionViewSet, UserViewSet

# /api/auth/register, /api/user/statistics and /api/user/account: aiasmr/lifecycle/urls.py.
urlpatterns = [
    path("auth/login", AuthViewSet.as_view({"post": "login"})),
    path("auth/refresh", AuthViewSet.as_view({"post": "refresh"})),
    path("auth/logout", SessionViewSet.as_view({"post": "logout"})),
    path("user/profile", UserViewSet.as_view({"get": "profile", "put": "update_profile"})),
    path("user/password", UserViewSet.as_view({"put": "password"})),
    path("user/preferences", UserViewSet.as_view({"get": "preferences", "put": "update_preferences"})),
]
