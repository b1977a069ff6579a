"""Auth and user endpoints: validate, call one service or selector, serialize.

Register, statistics and account deletion span apps: aiasmr/lifecycle/views.py (same URLs)."""

from drf_spectacular.utils import extend_schema
from rest_framework import viewsets
from rest_framework.permissions import AllowAny
from rest_framework.response import Response

from accounts import selectors, services
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
    UserSerializer,
    auth_result_data,
)
from aiasmr.api.exceptions import NotAuthenticated
from aiasmr.api.ratelimit import rate_limit
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
        responses={200: TokenPairSerializer, 401: error_response("NOT_AUTHENTICATED, INVALID_TOKEN")},
        summary="Rotate a refresh token (Authorization: Bearer <refresh> or {refreshToken})",
    )
    @rate_limit("auth", key="ip")
    def refresh(self, request):
        data = _validated(RefreshSerializer, request)
        raw = data.get("refreshToken") or _bearer(request)
        if not raw:
            raise NotAuthenticated("Send the refresh token as a Bearer header or as refreshToken.")
        return Response(envelope(services.auth_token_refresh(raw_refresh=raw), "Token refreshed."))


def _bearer(request) -> str | None:
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


class SessionViewSet(viewsets.ViewSet):
    @extend_schema(
        request=LogoutSerializer,
        responses={200: None, 401: error_response("NOT_AUTHENTICATED, INVALID_TOKEN (also: a refresh token of another account)")},
        summary="Revoke the given refresh token, or every refresh token of the user when none is given",
    )
    def logout(self, request):
        data = _validated(LogoutSerializer, request)
        services.auth_logout(user=request.user, raw_refresh=data.get("refreshToken"))
        return Response(envelope(None, "Logged out."))


class UserViewSet(viewsets.ViewSet):
    @extend_schema(responses={200: ProfileResultSerializer}, summary="The user's profile")
    def profile(self, request):
        return Response({"user": UserSerializer(selectors.profile_get(user=request.user)).data})

    @extend_schema(
        request=ProfileUpdateSerializer,
        responses={200: ProfileResultSerializer},
        summary="Update first_name, last_name, bio, avatar_url (other fields are ignored)",
    )
    def update_profile(self, request):
        data = _validated(ProfileUpdateSerializer, request)
        profile = services.profile_update(user=request.user, **data)
        return Response(envelope({"user": UserSerializer(profile).data}, "Profile updated."))

    @extend_schema(
        request=PasswordChangeSerializer,
        responses={200: TokenPairSerializer, 400: error_response("VALIDATION_ERROR, INVALID_CURRENT_PASSWORD")},
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
