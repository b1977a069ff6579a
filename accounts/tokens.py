"""Tokens: this service's access/refresh pairs (simplejwt) with their session families, and the tokens
the Express backend issued before the cut-over.

- Ours: a refresh token and its access token carry `ver` (the user's token_version: password change and
  logout everywhere move it) and `fam` (the family: one sign-in on one device, kept across rotations).
- Express's (`auth-service.js generateToken`): HS256 `{id, email, iat, exp}` signed with its JWT_SECRET,
  here `settings.LEGACY_JWT_SECRET` (read at request time; empty refuses them). They carry no version, so
  one issued at or before `User.sessions_revoked_at` is refused.
"""

import uuid
from dataclasses import dataclass
from datetime import timedelta

import jwt
from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import RefreshToken, UntypedToken

from accounts.models import RevokedTokenFamily, User
from accounts.selectors import token_family_revoked, user_with_profile
from aiasmr.api.exceptions import ApiError, InvalidToken
from aiasmr.api.logging import security_log

FAMILY_CLAIM = "fam"
VERSION_CLAIM = "ver"


class UserNotFound(ApiError):
    """A valid token whose user is gone or deactivated (Express's middleware/auth.js)."""

    code = "USER_NOT_FOUND"


@dataclass(frozen=True)
class Bearer:
    """A verified token: `kind` is "access", "refresh" or "legacy" (Express's)."""

    kind: str
    claims: dict

    @property
    def user_id(self) -> uuid.UUID:
        try:
            return uuid.UUID(str(self.claims.get("id" if self.kind == "legacy" else "user_id")))
        except ValueError:
            raise InvalidToken("The token names no account.") from None

    @property
    def family(self) -> uuid.UUID | None:
        """The session family; a refresh token issued before families existed is its own family."""
        if self.kind == "legacy":
            return None
        raw = self.claims.get(FAMILY_CLAIM) or (self.claims.get("jti") if self.kind == "refresh" else None)
        try:
            return uuid.UUID(str(raw)) if raw else None
        except ValueError:
            raise InvalidToken("The token names no session.") from None


def auth_tokens_issue(*, user: User, family: uuid.UUID | None = None) -> dict:
    """A new access/refresh pair: of `family` (a refresh of that session) or of a new one (a sign-in)."""
    refresh = RefreshToken.for_user(user)
    refresh[VERSION_CLAIM] = user.token_version  # copied into the access token, as the family is
    refresh[FAMILY_CLAIM] = str(family or uuid.uuid4())
    return {"token": str(refresh.access_token), "refreshToken": str(refresh)}


def legacy_claims(raw: str) -> dict | None:
    """The claims of a token Express issued, verified as `jwt.verify(token, JWT_SECRET)` did; None if it
    is not one (or legacy tokens are off)."""
    secret = settings.LEGACY_JWT_SECRET
    if not secret:
        return None
    try:
        claims = jwt.decode(raw, secret, algorithms=["HS256"], options={"require": ["exp", "iat", "id"]})
    except jwt.PyJWTError:
        return None
    if "token_type" in claims:  # one of ours signed with the wrong key: never Express's
        return None
    return claims


def bearer_verify(raw: str, *, kinds: tuple[str, ...] = ("access", "legacy")) -> Bearer:
    """Signature and expiry of this service's token (then Express's); InvalidToken unless of `kinds`."""
    try:
        claims = dict(UntypedToken(raw).payload)
    except TokenError:
        claims = None
    if claims is not None:
        kind = claims.get(api_settings.TOKEN_TYPE_CLAIM)
        if kind in kinds and kind in ("access", "refresh"):
            return Bearer(kind=kind, claims=claims)
        raise InvalidToken("This kind of token is not accepted here.")
    if "legacy" in kinds:
        legacy = legacy_claims(raw)
        if legacy is not None:
            return Bearer(kind="legacy", claims=legacy)
    raise InvalidToken()


def bearer_user(bearer: Bearer) -> User:
    """The token's user with the profile; refused if the session was revoked since the token was issued."""
    family = bearer.family
    user = user_with_profile(user_id=bearer.user_id, family=family)
    if user is None:
        if token_family_revoked(family=family):
            raise InvalidToken("This session was signed out; log in again.")
        raise UserNotFound("The account no longer exists or is disabled.")
    if bearer.kind == "legacy":
        revoked_at = user.sessions_revoked_at
        if revoked_at is not None and bearer.claims["iat"] <= revoked_at.timestamp():
            raise InvalidToken("The token was revoked; log in again.")
    elif bearer.claims.get(VERSION_CLAIM, 0) != user.token_version:
        raise InvalidToken("The token was revoked; log in again.")
    return user


def token_refresh(*, raw: str, from_body: bool) -> tuple[User, dict]:
    """POST /auth/refresh: a refresh token (body or Bearer) rotates; a Bearer access token of ours or of
    Express (what an Express-era app sends) gets a new pair without rotating anything."""
    bearer = bearer_verify(raw, kinds=("refresh",) if from_body else ("refresh", "access", "legacy"))
    if bearer.kind == "refresh":
        return _refresh_token_rotate(bearer=bearer)
    user = bearer_user(bearer)
    return user, auth_tokens_issue(user=user, family=bearer.family)


def _refresh_token_rotate(*, bearer: Bearer) -> tuple[User, dict]:
    """The old refresh token is blacklisted exactly once, even under concurrent use. Used again within
    JWT_REFRESH_REUSE_GRACE_SECONDS (one app firing two refreshes at once), it gets a valid pair of the
    same family; later, two parties hold it (a stolen copy, a replay): that family is signed out, the
    user's other devices are not."""
    with transaction.atomic():
        outstanding = OutstandingToken.objects.select_for_update().filter(jti=bearer.claims.get("jti")).first()
        if outstanding is None:
            raise InvalidToken("The refresh token is unknown.")
        blacklisted, first_use = BlacklistedToken.objects.get_or_create(token=outstanding)
    user = bearer_user(bearer)  # also refuses a signed-out family and a revoked version
    if not first_use:
        grace = timedelta(seconds=settings.JWT_REFRESH_REUSE_GRACE_SECONDS)
        if timezone.now() - blacklisted.blacklisted_at > grace:
            security_log.warning("refresh token reuse", extra={"event": "refresh_reuse", "user": str(user.pk)})
            token_family_revoke(user=user, family=bearer.family, reason="reuse")
            raise InvalidToken("The refresh token was already used; this device's session was signed out.")
    return user, auth_tokens_issue(user=user, family=bearer.family)


def token_family_revoke(*, user: User, family: uuid.UUID | None, reason: str) -> None:
    if family is not None:
        RevokedTokenFamily.objects.get_or_create(family=family, defaults={"user": user, "reason": reason})


def refresh_token_revoke(*, user: User, raw_refresh: str) -> None:
    """Logout of one device: its refresh token and its whole family (so no grace-window reuse either)."""
    bearer = bearer_verify(raw_refresh, kinds=("refresh",))
    if str(bearer.claims.get("user_id")) != str(user.pk):
        raise InvalidToken("The refresh token belongs to another account.")
    with transaction.atomic():
        outstanding = OutstandingToken.objects.filter(jti=bearer.claims.get("jti")).first()
        if outstanding is not None:
            BlacklistedToken.objects.get_or_create(token=outstanding)
        token_family_revoke(user=user, family=bearer.family, reason="logout")


def sessions_revoke(*, user: User) -> None:
    """Signs the user out everywhere: refresh tokens blacklisted, access tokens refused (version bump),
    Express's tokens refused (issued before sessions_revoked_at). Call inside the caller's transaction
    or alone."""
    with transaction.atomic():
        pending = OutstandingToken.objects.filter(user=user, blacklistedtoken__isnull=True)
        BlacklistedToken.objects.bulk_create([BlacklistedToken(token=token) for token in pending], ignore_conflicts=True)
        now = timezone.now()
        User.objects.filter(pk=user.pk).update(token_version=F("token_version") + 1, sessions_revoked_at=now)
    user.refresh_from_db(fields=["token_version", "sessions_revoked_at"])
