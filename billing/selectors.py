"""Reads for billing: plan entitlements (used by the profile and by generation)."""

from billing.models import Plan

FREE_ENTITLEMENTS = {"plan": "free", "maxQuality": "720p", "commercialUse": False}


def plan_entitlements(*, plan_type: str) -> dict:
    """What a plan allows; free users (no plan) generate 720p only."""
    if not plan_type or plan_type == "free":
        return dict(FREE_ENTITLEMENTS)
    plan = Plan.objects.filter(slug=plan_type).only("max_quality", "commercial_use").first()
    if plan is None:
        return dict(FREE_ENTITLEMENTS)
    return {"plan": plan_type, "maxQuality": plan.max_quality, "commercialUse": plan.commercial_use}
