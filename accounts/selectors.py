"""Reads for accounts: the signed-in user with their profile, the profile and what its plan allows."""

import functools
import uuid

from accounts.models import FREE_PLAN_FIELDS, PlanType, Profile, RevokedTokenFamily, User
from aiasmr.db import PreparedSelect

FREE_ENTITLEMENTS = {
    "plan": PlanType.FREE.value,
    "maxQuality": FREE_PLAN_FIELDS["plan_max_quality"],
    "commercialUse": FREE_PLAN_FIELDS["plan_commercial_use"],
}


@functools.cache
def _user_with_profile_lookup():
    user_fields = [f.attname for f in User._meta.concrete_fields]
    profile_fields = [f.attname for f in Profile._meta.concrete_fields]
    families = RevokedTokenFamily._meta
    # A token of a signed-out family finds no row (NULL when the token names no family: never matches).
    # The model's own table and column names, no input.
    subquery = f"SELECT 1 FROM {families.db_table} f WHERE f.{families.pk.column} = %s"  # noqa: S608
    where = f"t.id = %s AND t.is_active AND NOT EXISTS ({subquery})"
    lookup = PreparedSelect(User, [*user_fields, *(f"profile__{name}" for name in profile_fields)], where=where)
    return lookup, user_fields, profile_fields


def user_with_profile(*, user_id: uuid.UUID, family: uuid.UUID | None = None) -> User | None:
    """The active user and their profile in one query whose SQL is built once (every request runs it);
    None if the user is gone or inactive, or if `family` (the token's session) was signed out."""
    lookup, user_fields, profile_fields = _user_with_profile_lookup()
    rows = lookup.rows([user_id, family])
    if not rows:
        return None
    row = rows[0]
    user = User.from_db("default", user_fields, [row[name] for name in user_fields])
    if row["profile__user_id"] is not None:
        profile = Profile.from_db("default", profile_fields, [row[f"profile__{name}"] for name in profile_fields])
        User.profile.related.set_cached_value(user, profile)
        Profile.user.field.set_cached_value(profile, user)
    return user


def token_family_revoked(*, family: uuid.UUID | None) -> bool:
    return family is not None and RevokedTokenFamily.objects.filter(family=family).exists()


def profile_get(*, user: User) -> Profile:
    """The user's profile; authentication already loaded it with the user (no extra query)."""
    return user.profile


def plan_entitlements(*, profile: Profile) -> dict:
    """What the user's plan allows, as billing recorded it on the profile; free users generate 720p only."""
    if not profile.plan_type or profile.plan_type == PlanType.FREE:
        return dict(FREE_ENTITLEMENTS)
    return {
        "plan": profile.plan_type,
        "maxQuality": profile.plan_max_quality,
        "commercialUse": profile.plan_commercial_use,
    }
