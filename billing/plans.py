"""A profile records what its plan grants (accounts read entitlements from the profile, never from plans):
billing writes it wherever it sets a profile's plan, and here when staff edit a plan."""

from django.utils import timezone

from accounts.models import Profile
from billing.models import Plan


def plan_profiles_sync(*, plan: Plan) -> int:
    """Rewrites what `plan` grants on every profile on it; returns how many profiles it touched."""
    return Profile.objects.filter(plan_type=plan.slug).update(**plan.profile_fields(), updated_at=timezone.now())
