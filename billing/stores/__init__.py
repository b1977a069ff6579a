"""Store clients: verify what the App Store and Google Play say about a purchase, with typed results.

No database here and no Django models: the services (billing.services.stores) decide what a
verified purchase is worth. Each failure is a StoreError whose `reason` the services map to an API error.
"""


class StoreError(Exception):
    """A purchase or notification the store does not vouch for, or a store that could not be asked."""

    reason = "verification_failed"

    def __init__(self, message: str = "", *, reason: str | None = None):
        super().__init__(message or self.reason)
        if reason:
            self.reason = reason


class StoreNotConfigured(StoreError):
    reason = "not_configured"


class StoreUnavailable(StoreError):
    """The store's API failed or timed out: retryable, nothing was decided."""

    reason = "unavailable"
