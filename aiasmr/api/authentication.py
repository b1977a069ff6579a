"""Bearer access tokens (simplejwt), refused once the user's token version has moved on."""

from django.core.exceptions import ValidationError
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.settings import api_settings

from aiasmr.api.exceptions import InvalidToken


class BearerAuthentication(JWTAuthentication):
    def get_user(self, validated_token):
        from accounts.models import User

        user_id = validated_token.get(api_settings.USER_ID_CLAIM)
        try:
            # The profile comes in the same query: most endpoints read it (balance, plan, credits).
            user = User.objects.select_related("profile").get(pk=user_id, is_active=True)
        except (User.DoesNotExist, ValueError, ValidationError):
            user = None
        if user is None:
            raise InvalidToken("The account no longer exists or is disabled.")
        if validated_token.get("ver", 0) != user.token_version:
            raise InvalidToken("The token was revoked; log in again.")
        return user
