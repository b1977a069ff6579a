from django.urls import path

from aiasmr.lifecycle.views import AccountViewSet, RegistrationViewSet

urlpatterns = [
    path("auth/register", RegistrationViewSet.as_view({"post": "register"})),
    path("user/statistics", AccountViewSet.as_view({"get": "statistics"})),
    path("user/account", AccountViewSet.as_view({"delete": "delete_account"})),
]
