"""Bearer access tokens (simplejwt), refused once the user's token version has moved on."""

import functools
import uuid

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.settings import api_settings

from accounts.models import Profile, User
from aiasmr.api.exceptions import InvalidToken
from aiasmr.db import PreparedSelect


@functools.cache
def _user_with_profile_lookup():
    user_fields = [f.attname for f in User._meta.concrete_fields]
    profile_fields = [f.attname for f in Profile._meta.concrete_fields]
    lookup = PreparedSelect(
        User, [*user_fields, *(f"profile__{name}" for name in profile_fields)], where="t.id = %s AND t.is_active"
    )
    return lookup, user_fields, profile_fields


def user_with_profile(user_id: uuid.UUID) -> User | None:
    """The active user and their profile in one query whose SQL is built once (every request runs it)."""
    lookup, user_fields, profile_fields = _user_with_profile_lookup()
    rows = lookup.rows([user_id])
    if not rows:
        return None
    row = rows[0]
    user = User.from_db("default", user_fields, [row[name] for name in user_fields])
    if row["profile__user_id"] is not None:
        profile = Profile.from_db("default", profile_fields, [row[f"profile__{name}"] for name in profile_fields])
        User.profile.related.set_cached_value(user, profile)
        Profile.user.field.set_cached_value(profile, user)
    return user


class BearerAuthentication(JWTAuthentication):
    def get_user(self, validated_token):
        try:
            user_id = uuid.UUID(str(validated_token.get(api_settings.USER_ID_CLAIM)))
        except ValueError:
            raise InvalidToken("The token names no account.")
        user = user_with_profile(user_id)
        if user is None:
            raise InvalidToken("The account no longer exists or is disabled.")
        if validated_token.get("ver", 0) != user.token_version:
            raise InvalidToken("The token was revoked; log in again.")
        return user


class BearerAuthenticationScheme(OpenApiAuthenticationExtension):
    """The OpenAPI security scheme of BearerAuthentication (registered when this module is imported)."""

    target_class = "accounts.authentication.BearerAuthentication"
    name = "bearerAuth"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
