"""What production mode refuses to start without."""

from aiasmr.config.env import env, env_bool


def production_problems(*, values: dict) -> list[str]:
    """The settings (from the settings module's namespace) that are missing or unsafe for production."""
    problems = []
    secret_key, jwt_secret = values["SECRET_KEY"], values["JWT_SECRET"]
    if secret_key == values["DEV_SECRET_KEY"] or len(secret_key) < 50:
        problems.append("SECRET_KEY (at least 50 random characters)")
    if not env("JWT_SECRET") or jwt_secret == values["DEV_SECRET_KEY"] or len(jwt_secret) < 32:
        problems.append("JWT_SECRET (at least 32 random characters)")
    if values["LEGACY_JWT_SECRET"] and values["LEGACY_JWT_SECRET"] == jwt_secret:
        problems.append("LEGACY_JWT_SECRET different from JWT_SECRET (Express's secret, not this service's)")
    if not values["ALLOWED_HOSTS"] or "*" in values["ALLOWED_HOSTS"]:
        problems.append("ALLOWED_HOSTS (explicit host names)")
    if not values["DATABASE_URL"]:
        problems.append("DATABASE_URL")
    if not values["USE_R2"] and not env_bool("ALLOW_LOCAL_STORAGE"):
        problems.append("R2_* storage settings")
    if values["PAYMENT_PROVIDER"] != "stripe":
        problems.append("PAYMENT_PROVIDER=stripe (the sandbox provider is refused in production)")
    elif not (values["STRIPE_SECRET_KEY"] and values["STRIPE_WEBHOOK_SECRET"] and values["STRIPE_PUBLISHABLE_KEY"]):
        problems.append("STRIPE_SECRET_KEY, STRIPE_PUBLISHABLE_KEY and STRIPE_WEBHOOK_SECRET")
    return problems
