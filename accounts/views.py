"""Auth and user endpoints: validate, call one service or selector, serialize.

Register, statistics and account deletion span apps: aiasmr/lifecycle/views.py (same URLs)."""

from drf_spectacular.utils import extend_schema
from rest_framework import viewsets
from rest_framework.permissions import AllowAny
from rest_framework.response import Response

from accounts import selectors, services
from accounts.authentication import OptionalBearerAuthentication
from accounts.serializers import (
    AuthResultSerializer,
    LoginSerializer,
    LogoutSerializer,
    PasswordChangeSerializer,
    PreferencesSerializer,
    ProfileResultSerializer,
    ProfileUpdateSerializer,
    RefreshSerializer,
    TokenPairSerializer,
    auth_result_data,
)
from aiasmr.api.exceptions import ApiError, NotAuthenticated
from aiasmr.api.ratelimit import enforce_rate_limit, rate_limit
from aiasmr.api.renderers import envelope
from aiasmr.api.schema import error_response


def _validated(serializer_class, request, **kwargs):
    serializer = serializer_class(data=request.data, **kwargs)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


class AuthViewSet(viewsets.ViewSet):
    authentication_classes: list = []
    permission_classes = [AllowAny]

    @extend_schema(
        request=LoginSerializer,
        responses={200: AuthResultSerializer, 401: error_response("LOGIN_FAILED")},
        summary="Log in with email and password",
    )
    @rate_limit("auth", key="ip")
    def login(self, request):
        data = _validated(LoginSerializer, request)
        user = services.user_login(request=request, email=data["email"], password=data["password"])
        return Response(envelope(auth_result_data(user=user, tokens=services.auth_tokens_issue(user=user)), "Logged in."))

    @extend_schema(
        request=RefreshSerializer,
        responses={200: AuthResultSerializer, 401: error_response("NO_TOKEN, INVALID_TOKEN, USER_NOT_FOUND")},
        summary="New tokens: send the current access token (or Express's) as Bearer, or a refresh token as "
        "Bearer or {refreshToken} (rotated)",
    )
    def refresh(self, request):
        data = _validated(RefreshSerializer, request)
        raw = data.get("refreshToken") or _bearer(request)
        if not raw:
            raise NotAuthenticated("Send the access or refresh token as a Bearer header, or refreshToken.")
        try:
            user, tokens = services.auth_token_refresh(raw=raw, from_body=bool(data.get("refreshToken")))
        except ApiError:
            # Only refusals count against the auth limit: an app refreshing at every start never reaches it.
            enforce_rate_limit(request, "auth", key="ip")
            raise
        return Response(envelope(auth_result_data(user=user, tokens=tokens), "Token refreshed successfully"))


def _bearer(request) -> str | None:
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


class SessionViewSet(viewsets.ViewSet):
    # Public, as Express's: no token, or a refused one, still answers 200 (nothing to revoke).
    authentication_classes = [OptionalBearerAuthentication]
    permission_classes = [AllowAny]

    @extend_schema(
        request=LogoutSerializer,
        responses={200: None, 401: error_response("INVALID_TOKEN (a refresh token of another account)")},
        summary="Sign out this session (the refresh token's, else the access token's); `everywhere` signs out "
        "every session; without a valid token, nothing to do (200)",
    )
    def logout(self, request):
        data = _validated(LogoutSerializer, request)
        if request.user.is_authenticated:
            services.auth_logout(
                user=request.user,
                raw_refresh=data.get("refreshToken"),
                session_family=request.auth.family,
                everywhere=data["everywhere"],
            )
        return Response(envelope(None, "Logged out successfully"))


class UserViewSet(viewsets.ViewSet):
    @extend_schema(responses={200: ProfileResultSerializer}, summary="The user's profile")
    def profile(self, request):
        return Response(ProfileResultSerializer({"user": selectors.profile_get(user=request.user)}).data)

    @extend_schema(
        request=ProfileUpdateSerializer,
        responses={200: ProfileResultSerializer},
        summary="Update first_name, last_name, bio, avatar_url (other fields are ignored)",
    )
    def update_profile(self, request):
        data = _validated(ProfileUpdateSerializer, request)
        profile = services.profile_update(user=request.user, **data)
        return Response(envelope(ProfileResultSerializer({"user": profile}).data, "Profile updated successfully"))

    @extend_schema(
        request=PasswordChangeSerializer,
        responses={200: TokenPairSerializer, 400: error_response("VALIDATION_ERROR, PASSWORD_CHANGE_FAILED")},
        summary="Change the password; other sessions are logged out, fresh tokens returned",
    )
    @rate_limit("sensitive", key="user")
    def password(self, request):
        data = _validated(PasswordChangeSerializer, request)
        tokens = services.password_change(
            user=request.user, current_password=data["currentPassword"], new_password=data["newPassword"]
        )
        return Response(envelope(tokens, "Password changed."))

    @extend_schema(responses={200: PreferencesSerializer}, summary="Generation and display preferences")
    def preferences(self, request):
        return Response(PreferencesSerializer(selectors.profile_get(user=request.user)).data)

    @extend_schema(request=PreferencesSerializer, responses={200: PreferencesSerializer})
    def update_preferences(self, request):
        data = _validated(PreferencesSerializer, request)
        profile = services.preferences_update(user=request.user, **data)
        return Response(envelope(PreferencesSerializer(profile).data, "Preferences updated."))
