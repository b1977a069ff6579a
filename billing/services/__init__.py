"""Every billing write: orders, provider webhooks, refunds, subscriptions.

Rules (business-rules.md, Payments): an order is created `pending` and completed only by a verified
provider event; each event is stored once by its id; credits for an order are granted exactly once
(a conditional status update decides, the ledger's idempotency key backs it); a provider refund claws
them back. Provider calls never run inside a transaction or while a row is locked; money paths lock
the profile first (accounts.services.profile_lock).

Modules import one way: common, periods <- orders <- webhooks <- refunds, subscriptions.
"""

from billing.models import LIVE_SUBSCRIPTION_STATUSES, PAID_SUBSCRIPTION_STATUSES
from billing.services.common import DONE_EVENT_STATUSES, PAYABLE_STATUSES, InvalidSignature
from billing.services.orders import (
    order_complete,
    order_fail,
    order_mark_refunded,
    order_payment_ensure,
    order_payment_info,
    order_referral_rewards,
    purchase_create,
)
from billing.services.periods import subscription_expire
from billing.services.refunds import order_refund
from billing.services.subscriptions import subscription_cancel, subscription_create, subscriptions_renew
from billing.services.webhooks import (
    HANDLERS,
    payment_webhook_receive,
    sandbox_event_deliver,
    sandbox_payment_confirm,
)

__all__ = [
    "DONE_EVENT_STATUSES",
    "HANDLERS",
    "LIVE_SUBSCRIPTION_STATUSES",
    "PAID_SUBSCRIPTION_STATUSES",
    "PAYABLE_STATUSES",
    "InvalidSignature",
    "order_complete",
    "order_fail",
    "order_mark_refunded",
    "order_payment_ensure",
    "order_payment_info",
    "order_referral_rewards",
    "order_refund",
    "payment_webhook_receive",
    "purchase_create",
    "sandbox_event_deliver",
    "sandbox_payment_confirm",
    "subscription_cancel",
    "subscription_create",
    "subscription_expire",
    "subscriptions_renew",
]

# In-app purchases (App Store, Google Play), the package billing.services.stores: above orders, periods and
# webhooks in the module order.
from billing.services.stores.app_store import apple_notification_receive, apple_transaction_submit  # noqa: E402
from billing.services.stores.google_play import google_notification_receive, google_purchase_submit  # noqa: E402
from billing.services.stores.reconcile import store_purchases_reconcile  # noqa: E402
from billing.services.stores.shared import store_account_get  # noqa: E402

__all__ += [
    "apple_notification_receive",
    "apple_transaction_submit",
    "google_notification_receive",
    "google_purchase_submit",
    "store_account_get",
    "store_purchases_reconcile",
]
