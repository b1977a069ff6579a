"""Payment settings: Stripe, the development sandbox and the app stores."""


from aiasmr.config.env import env, env_bool, env_int, env_list
from aiasmr.settings.base import IS_PRODUCTION

# --- Payments (billing) -------------------------------------------------------------------------

# "stripe" (PaymentIntents for the mobile SDK) or "sandbox" (development and tests only).
PAYMENT_PROVIDER = env("PAYMENT_PROVIDER", "stripe" if IS_PRODUCTION else "sandbox").strip().lower()
STRIPE_SECRET_KEY = env("STRIPE_SECRET_KEY")
STRIPE_PUBLISHABLE_KEY = env("STRIPE_PUBLISHABLE_KEY")
STRIPE_WEBHOOK_SECRET = env("STRIPE_WEBHOOK_SECRET")
STRIPE_API_BASE = env("STRIPE_API_BASE", "https://api.stripe.com").rstrip("/")
STRIPE_API_TIMEOUT_SECONDS = env_int("STRIPE_API_TIMEOUT_SECONDS", 10)
# A signed webhook older than this is refused (replay protection).
PAYMENT_WEBHOOK_TOLERANCE_SECONDS = env_int("PAYMENT_WEBHOOK_TOLERANCE_SECONDS", 300)
SANDBOX_WEBHOOK_SECRET = env("SANDBOX_WEBHOOK_SECRET", "whsec_sandbox_development_only")
# The sandbox provider and its confirm endpoint exist only outside production.
SANDBOX_PAYMENTS_ENABLED = not IS_PRODUCTION
# A one-off trial plan lasts this long; a lapsed paid period is kept this long before expiring.
TRIAL_PERIOD_DAYS = env_int("TRIAL_PERIOD_DAYS", 7)
SUBSCRIPTION_GRACE_HOURS = env_int("SUBSCRIPTION_GRACE_HOURS", 48)

# In-app purchases (billing.stores). Unset: that store's endpoints answer 503 STORE_NOT_CONFIGURED.
# App Store: signed transactions and notifications are verified against these root certificates (Apple Root
# CA - G3 from https://www.apple.com/certificateauthority/; comma-separated paths, DER or PEM).
APPLE_BUNDLE_ID = env("APPLE_BUNDLE_ID")
APPLE_APP_APPLE_ID = env("APPLE_APP_APPLE_ID")  # the app's numeric Apple ID; required in Production
APPLE_ENVIRONMENT = env("APPLE_ENVIRONMENT", "Production" if IS_PRODUCTION else "Sandbox")
APPLE_ROOT_CERTIFICATES = env_list("APPLE_ROOT_CERTIFICATES")
APPLE_ONLINE_CHECKS = env_bool("APPLE_ONLINE_CHECKS", True)  # OCSP revocation checks of the signing chain
# App Store Server API key (App Store Connect > Users and Access > Integrations), used by store_reconcile.
APPLE_API_KEY_ID = env("APPLE_API_KEY_ID")
APPLE_API_ISSUER_ID = env("APPLE_API_ISSUER_ID")
APPLE_API_PRIVATE_KEY_FILE = env("APPLE_API_PRIVATE_KEY_FILE")
# Google Play: the Play Developer API with a service account granted "View financial data" and "Manage orders".
GOOGLE_PLAY_PACKAGE_NAME = env("GOOGLE_PLAY_PACKAGE_NAME")
GOOGLE_PLAY_SERVICE_ACCOUNT_FILE = env("GOOGLE_PLAY_SERVICE_ACCOUNT_FILE")
GOOGLE_PLAY_API_ENDPOINT = env("GOOGLE_PLAY_API_ENDPOINT")  # empty: Google's; tests point it at a fake
GOOGLE_PLAY_TIMEOUT_SECONDS = env_int("GOOGLE_PLAY_TIMEOUT_SECONDS", 10)
# Real-time developer notifications: the Pub/Sub push subscription's OIDC token must carry this audience and
# be issued to this service account.
GOOGLE_PUBSUB_AUDIENCE = env("GOOGLE_PUBSUB_AUDIENCE")
GOOGLE_PUBSUB_SERVICE_ACCOUNT = env("GOOGLE_PUBSUB_SERVICE_ACCOUNT")
GOOGLE_PUBSUB_CERTS_URL = env("GOOGLE_PUBSUB_CERTS_URL", "https://www.googleapis.com/oauth2/v1/certs")
# store_reconcile re-checks store purchases this recent.
STORE_RECONCILE_DAYS = env_int("STORE_RECONCILE_DAYS", 30)
