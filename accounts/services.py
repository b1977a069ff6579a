"""Writes for accounts: sign-in, sessions (accounts.tokens), profile, password, and the user's own rows
on deletion.

Registration (with the signup bonus) and account deletion (with the videos and their files) span apps:
aiasmr.lifecycle.services."""

import uuid

from django.contrib.auth import authenticate
from django.db import transaction
from django.http import HttpRequest

from accounts import tokens
from accounts.models import Profile, User
from accounts.tokens import auth_tokens_issue
from aiasmr.api.exceptions import ApiError, LoginFailed
from aiasmr.api.logging import security_log


def user_login(*, request: HttpRequest, email: str, password: str) -> User:
    user = authenticate(request, username=(email or "").strip().lower(), password=password)
    if user is None:
        # One answer for a wrong password and an unknown email: no hint which it was.
        security_log.warning("login failed", extra={"event": "login_failed", "email_domain": email.rpartition("@")[2]})
        raise LoginFailed()
    return user


def auth_token_refresh(*, raw: str, from_body: bool = True) -> tuple[User, dict]:
    """POST /auth/refresh (accounts.tokens.token_refresh): the user and a fresh token pair."""
    return tokens.token_refresh(raw=raw, from_body=from_body)


def auth_logout(
    *, user: User, raw_refresh: str | None, session_family: uuid.UUID | None, everywhere: bool = False
) -> None:
    """Signs out one device: the session of the given refresh token, else the session of the access token
    the request came with (its family). `everywhere` signs out every session of the user instead.

    An Express-era app logs out with its token alone and must not sign the user's other phones out. Its
    Express token has no session to revoke here (Express never revoked one either): the app forgets it."""
    if everywhere:
        tokens.sessions_revoke(user=user)
    elif raw_refresh:
        tokens.refresh_token_revoke(user=user, raw_refresh=raw_refresh)
    elif session_family is not None:
        tokens.token_family_revoke(user=user, family=session_family, reason="logout")


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
    """Changes the password, revokes every session (Express's tokens too), and returns fresh tokens for
    this one."""
    if not user.check_password(current_password):
        security_log.warning("password change refused", extra={"event": "password_change_failed", "user": str(user.pk)})
        raise ApiError("Current password is incorrect.", code="PASSWORD_CHANGE_FAILED")
    with transaction.atomic():
        user.set_password(new_password)
        user.save(update_fields=["password"])
        tokens.sessions_revoke(user=user)
    return auth_tokens_issue(user=user)


def user_delete(*, user: User) -> None:
    """Revokes the user's sessions and deletes the user and the profile (other apps' rows follow their
    foreign keys: aiasmr.lifecycle.services.account_delete removes the videos first)."""
    with transaction.atomic():
        tokens.sessions_revoke(user=user)
        user.delete()
