"""Reads for accounts: the profile and what its plan allows."""

from accounts.models import FREE_PLAN_FIELDS, PlanType, Profile, User

FREE_ENTITLEMENTS = {
    "plan": PlanType.FREE.value,
    "maxQuality": FREE_PLAN_FIELDS["plan_max_quality"],
    "commercialUse": FREE_PLAN_FIELDS["plan_commercial_use"],
}


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
