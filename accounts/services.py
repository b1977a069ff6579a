"""Writes for accounts: tokens, profile, password, and the user's own rows on deletion.

Registration (with the signup bonus) and account deletion (with the videos and their files) span apps:
aiasmr.lifecycle.services."""

import uuid

from django.contrib.auth import authenticate
from django.db import transaction
from django.db.models import F
from django.http import HttpRequest
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import RefreshToken, UntypedToken

from accounts.models import Profile, User
from aiasmr.api.exceptions import ApiError, InvalidToken, LoginFailed
from aiasmr.api.logging import security_log


def auth_tokens_issue(*, user: User) -> dict:
    refresh = RefreshToken.for_user(user)
    refresh["ver"] = user.token_version  # copied into the access token
    return {"token": str(refresh.access_token), "refreshToken": str(refresh)}


def user_login(*, request: HttpRequest, email: str, password: str) -> User:
    user = authenticate(request, username=(email or "").strip().lower(), password=password)
    if user is None:
        # One answer for a wrong password and an unknown email: no hint which it was.
        security_log.warning("login failed", extra={"event": "login_failed", "email_domain": email.rpartition("@")[2]})
        raise LoginFailed()
    return user


def _raw_refresh_token(raw: str) -> RefreshToken:
    try:
        return RefreshToken(raw)
    except TokenError:
        raise InvalidToken("The refresh token is invalid, expired or revoked.")


def auth_token_refresh(*, raw_refresh: str) -> dict:
    """Rotates a refresh token: the old one is blacklisted exactly once, even under concurrent use.

    A refresh token used a second time means two parties hold it (a stolen copy, or a replay): every
    session of the account is then revoked, and the user logs in again.
    """
    try:
        old = UntypedToken(raw_refresh)  # signature and expiry; the blacklist is checked below
    except TokenError:
        raise InvalidToken("The refresh token is invalid or expired.")
    if old.get("token_type") != "refresh":
        raise InvalidToken("This is not a refresh token.")
    with transaction.atomic():
        outstanding = OutstandingToken.objects.select_for_update().filter(jti=old.get("jti")).first()
        if outstanding is None:
            raise InvalidToken("The refresh token is unknown.")
        _, created = BlacklistedToken.objects.get_or_create(token=outstanding)
    user = User.objects.filter(pk=old.get("user_id"), is_active=True).first()
    if user is None:
        raise InvalidToken("The account no longer exists.")
    if old.get("ver", 0) != user.token_version:
        raise InvalidToken("The sessions of this account were revoked.")
    if not created:
        security_log.warning("refresh token reuse", extra={"event": "refresh_reuse", "user": str(user.pk)})
        _sessions_revoke(user=user)
        raise InvalidToken("The refresh token was already used; every session was signed out.")
    return auth_tokens_issue(user=user)


def auth_logout(*, user: User, raw_refresh: str | None) -> None:
    """Revokes one refresh token, or with none given every token of the user (logout everywhere)."""
    if raw_refresh:
        token = _raw_refresh_token(raw_refresh)
        if str(token["user_id"]) != str(user.pk):
            raise InvalidToken("The refresh token belongs to another account.")
        token.blacklist()
        return
    _sessions_revoke(user=user)


def _sessions_revoke(*, user: User) -> None:
    """Logs the user out everywhere: refresh tokens blacklisted, access tokens refused (version bump)."""
    with transaction.atomic():
        _revoke_all_refresh_tokens(user=user)
        User.objects.filter(pk=user.pk).update(token_version=F("token_version") + 1)


def _revoke_all_refresh_tokens(*, user: User) -> None:
    pending = OutstandingToken.objects.filter(user=user, blacklistedtoken__isnull=True)
    BlacklistedToken.objects.bulk_create(
        [BlacklistedToken(token=token) for token in pending], ignore_conflicts=True
    )


def profile_lock(*, user_id: uuid.UUID | None) -> Profile | None:
    """Locks the user's profile row until the transaction ends: the first lock of every path that writes
    the profile (credits, billing, profile edits), so that they all lock in one order. None without a user
    (or a profile)."""
    if user_id is None:
        return None
    return Profile.objects.select_for_update().filter(user_id=user_id).first()


def _profile_fields_update(*, user: User, changes: dict) -> Profile:
    fields = {name: value for name, value in changes.items() if value is not None}
    with transaction.atomic():
        profile = profile_lock(user_id=user.pk)
        for name, value in fields.items():
            setattr(profile, name, value)
        profile.save(update_fields=[*fields, "updated_at"])
    return profile


def profile_update(
    *,
    user: User,
    first_name: str | None = None,
    last_name: str | None = None,
    bio: str | None = None,
    avatar_url: str | None = None,
) -> Profile:
    """Writes the documented profile fields that are given (None leaves a field as it is); nothing else
    (credits, plan, email) can reach the row."""
    changes = {"first_name": first_name, "last_name": last_name, "bio": bio, "avatar_url": avatar_url}
    return _profile_fields_update(user=user, changes=changes)


def preferences_update(
    *,
    user: User,
    preferred_resolution: str | None = None,
    max_duration: int | None = None,
    language: str | None = None,
    timezone: str | None = None,
) -> Profile:
    changes = {
        "preferred_resolution": preferred_resolution,
        "max_duration": max_duration,
        "language": language,
        "timezone": timezone,
    }
    return _profile_fields_update(user=user, changes=changes)


def password_change(*, user: User, current_password: str, new_password: str) -> dict:
    """Changes the password, revokes every other session, and returns fresh tokens for this one."""
    if not user.check_password(current_password):
        security_log.warning("password change refused", extra={"event": "password_change_failed", "user": str(user.pk)})
        raise ApiError("The current password is wrong.", code="INVALID_CURRENT_PASSWORD")
    with transaction.atomic():
        user.set_password(new_password)
        user.token_version += 1
        user.save(update_fields=["password", "token_version"])
        _revoke_all_refresh_tokens(user=user)
    return auth_tokens_issue(user=user)


def user_delete(*, user: User) -> None:
    """Revokes the user's refresh tokens and deletes the user and the profile (other apps' rows follow
    their foreign keys: aiasmr.lifecycle.services.account_delete removes the videos first)."""
    with transaction.atomic():
        _revoke_all_refresh_tokens(user=user)
        user.delete()
