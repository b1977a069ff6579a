"""App Store: StoreKit 2 transactions the app presents, and App Store Server Notifications V2."""

from django.utils import timezone

from accounts.models import User
from aiasmr.api.exceptions import ApiError, Conflict
from billing.models import CreditPackage, Store, StoreNotification, StorePurchase, Subscription
from billing.services.orders import order_complete
from billing.services.periods import subscription_expire
from billing.services.stores import grants, shared
from billing.stores import apple


def apple_transaction_apply(*, tx: apple.AppleTransaction, user: User) -> StorePurchase:
    """Records a verified App Store transaction of `user` and grants what it bought, once."""
    product = shared.store_product_get(store=Store.APPLE, product_id=tx.product_id)
    if product is None:
        raise shared.unknown_product_error(product_id=tx.product_id)
    is_package = isinstance(product, CreditPackage)
    if is_package != (tx.type == apple.CONSUMABLE):
        raise shared.unknown_product_error(product_id=tx.product_id)
    subscription = None
    if not is_package:
        subscription = grants.store_subscription_ensure(
            store=Store.APPLE, external_id=tx.original_transaction_id, user=user, plan=product
        )
        if subscription is None:
            raise Conflict("You already have an active subscription.", code="SUBSCRIPTION_EXISTS")
    order = shared.store_order_ensure(
        store=Store.APPLE, reference=tx.transaction_id, user=user, product=product, quantity=tx.quantity,
        subscription=subscription,
    )
    purchase = shared.store_purchase_record(
        store=Store.APPLE,
        transaction_id=tx.transaction_id,
        user=user,
        product_id=tx.product_id,
        original_transaction_id=tx.original_transaction_id,
        kind=StorePurchase.Kind.CONSUMABLE if is_package else StorePurchase.Kind.SUBSCRIPTION,
        order=order,
        subscription=subscription,
        environment=tx.environment,
        purchased_at=tx.purchased_at,
        expires_at=tx.expires_at,
        payload=tx.raw,
    )
    if purchase.user_id != user.pk:
        raise shared.account_mismatch_error()
    if tx.revoked_at is not None:
        grants.store_purchase_refund(purchase=purchase, revoked_at=tx.revoked_at)
        return purchase
    if is_package:
        order_complete(order=order)
    elif tx.purchased_at and tx.expires_at:
        grants.store_period_grant(
            purchase=purchase, order=order, subscription=subscription, start=tx.purchased_at, end=tx.expires_at
        )
    return purchase


def apple_transaction_submit(*, user: User, signed_transaction: str) -> StorePurchase:
    """The app presents a StoreKit 2 signed transaction: verified with Apple's certificates, the bundle id
    and the environment, for this user's appAccountToken; its credits are granted once per transactionId."""
    tx = shared.store_call(call=apple.transaction_verify, signed_transaction=signed_transaction)
    if tx.app_account_token is None or tx.app_account_token != shared.store_account_get(user=user).token:
        raise shared.account_mismatch_error()
    known = StorePurchase.objects.filter(store=Store.APPLE, transaction_id=tx.transaction_id).first()
    if tx.revoked_at is not None or (known is not None and known.revoked_at is not None):
        if known is not None:
            grants.store_purchase_refund(purchase=known, revoked_at=tx.revoked_at)
        raise Conflict("The store purchase was refunded or revoked.", code="STORE_PURCHASE_REVOKED")
    purchase = apple_transaction_apply(tx=tx, user=user)
    purchase.refresh_from_db()
    return purchase


# --- notifications ---------------------------------------------------------------------------------------


def _apple_transaction_user(tx: apple.AppleTransaction) -> User | None:
    user = shared.store_account_user(token=tx.app_account_token)
    if user is None:
        known = (
            StorePurchase.objects.select_related("user")
            .filter(store=Store.APPLE, original_transaction_id=tx.original_transaction_id, user__isnull=False)
            .first()
        )
        user = known.user if known is not None else None
    return user


def _on_apple_refund(note: apple.AppleNotification) -> tuple[str, StorePurchase | None]:
    tx = note.transaction
    purchase = StorePurchase.objects.select_related("order", "subscription").filter(
        store=Store.APPLE, transaction_id=tx.transaction_id
    ).first()
    if purchase is None:
        user = _apple_transaction_user(tx)
        if user is None:
            return "refund of a transaction of no known account", None
        # Recorded now, refunded: the app presenting it later is refused and grants nothing.
        purchase = apple_transaction_apply(tx=tx, user=user) if tx.revoked_at else None
        if purchase is None:
            return "refund without a revocation date", None
        return "", purchase
    grants.store_purchase_refund(purchase=purchase, revoked_at=tx.revoked_at)
    return "", purchase


def _on_apple_renewal(note: apple.AppleNotification) -> tuple[str, StorePurchase | None]:
    tx = note.transaction
    user = _apple_transaction_user(tx)
    if user is None:
        return "no account for this appAccountToken", None
    try:
        return "", apple_transaction_apply(tx=tx, user=user)
    except ApiError as exc:
        return exc.code, None


def _subscription_of(note: apple.AppleNotification) -> Subscription | None:
    return grants.store_subscription_get(store=Store.APPLE, external_id=note.transaction.original_transaction_id)


def _on_apple_ended(note: apple.AppleNotification) -> tuple[str, StorePurchase | None]:
    subscription = _subscription_of(note)
    if subscription is None:
        return "no such subscription", None
    return ("" if subscription_expire(subscription=subscription) else "subscription already ended"), None


def _on_apple_renewal_failed(note: apple.AppleNotification) -> tuple[str, StorePurchase | None]:
    subscription = _subscription_of(note)
    if subscription is None:
        return "no such subscription", None
    moved = grants.store_subscription_lapse(subscription=subscription, keep_entitlements=note.subtype == "GRACE_PERIOD")
    return ("" if moved else "subscription not active"), None


def _on_apple_renewal_status(note: apple.AppleNotification) -> tuple[str, StorePurchase | None]:
    subscription = _subscription_of(note)
    if subscription is None:
        return "no such subscription", None
    Subscription.objects.filter(pk=subscription.pk).update(
        cancel_at_period_end=note.subtype == "AUTO_RENEW_DISABLED", updated_at=timezone.now()
    )
    return "", None


APPLE_HANDLERS = {
    "REFUND": _on_apple_refund,
    "REVOKE": _on_apple_refund,
    "SUBSCRIBED": _on_apple_renewal,
    "DID_RENEW": _on_apple_renewal,
    "EXPIRED": _on_apple_ended,
    "GRACE_PERIOD_EXPIRED": _on_apple_ended,
    "DID_FAIL_TO_RENEW": _on_apple_renewal_failed,
    "DID_CHANGE_RENEWAL_STATUS": _on_apple_renewal_status,
}


def apple_notification_receive(*, signed_payload: str) -> tuple[StoreNotification, str]:
    """An App Store Server Notification V2: verified like a transaction, stored once by notificationUUID,
    processed once. Returns (row, outcome: processed, ignored or duplicate)."""
    note = shared.store_call(call=apple.notification_verify, signed_payload=signed_payload)
    handler = APPLE_HANDLERS.get(note.type)

    def handle() -> tuple[str, StorePurchase | None]:
        if handler is None:
            return "notification type not handled", None
        if note.transaction is None:
            return "notification without a transaction", None
        return handler(note)

    return shared.store_notification_process(
        store=Store.APPLE, notification_id=note.notification_uuid, type=note.type, subtype=note.subtype,
        payload=note.raw, handle=handle,
    )
