"""Bearer authentication: this service's access tokens, refused once the user's token version has moved
on or their session family was signed out, and the tokens Express issued (accounts.tokens)."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework.exceptions import AuthenticationFailed
from rest_framework_simplejwt.authentication import JWTAuthentication

from accounts.tokens import bearer_user, bearer_verify
from aiasmr.api.exceptions import ApiError


class BearerAuthentication(JWTAuthentication):
    def authenticate(self, request):
        header = self.get_header(request)
        if header is None:
            return None
        raw = self.get_raw_token(header)
        if raw is None:
            return None
        bearer = bearer_verify(raw.decode("latin-1"))
        return bearer_user(bearer), bearer


class OptionalBearerAuthentication(BearerAuthentication):
    """For public endpoints that do more for a signed-in caller (logout): a bad token is no caller."""

    def authenticate(self, request):
        try:
            return super().authenticate(request)
        except (ApiError, AuthenticationFailed):  # any refusal (INVALID_TOKEN, USER_NOT_FOUND): anonymous
            return None


class BearerAuthenticationScheme(OpenApiAuthenticationExtension):
    """The OpenAPI security scheme of BearerAuthentication (registered when this module is imported)."""

    target_class = "accounts.authentication.BearerAuthentication"
    name = "bearerAuth"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}


class OptionalBearerAuthenticationScheme(OpenApiAuthenticationExtension):
    """The same `bearerAuth` scheme (registered by the class above, so no second component here)."""

    target_class = "accounts.authentication.OptionalBearerAuthentication"
    name: list[str] = []

    def get_security_requirement(self, auto_schema):
        return {"bearerAuth": []}

    def get_security_definition(self, auto_schema):
        return []
