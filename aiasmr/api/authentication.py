"""Bearer access tokens (simplejwt), refused once the user's token version has moved on."""

from rest_framework_simplejwt.authentication import JWTAuthentication

from aiasmr.api.exceptions import InvalidToken


class BearerAuthentication(JWTAuthentication):
    def get_user(self, validated_token):
        user = super().get_user(validated_token)
        if validated_token.get("ver", 0) != user.token_version:
            raise InvalidToken("The token was revoked; log in again.")
        return user
