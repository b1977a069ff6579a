"""The KIE check of /api/health/detailed (named in settings.HEALTH_APP_CHECKS)."""

from videos.selectors import kie_account_credits


def check_kie() -> dict:
    credits = kie_account_credits()
    if credits is None:
        raise RuntimeError("KIE is unreachable or refused the key")
    return {"credits": credits}
