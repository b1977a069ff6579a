"""Google Play: one-time products and subscriptions the app presents, and the real-time developer
notifications Pub/Sub pushes."""

import logging
import uuid

from django.conf import settings
from django.utils import timezone

from accounts.models import User
from aiasmr.api.exceptions import ApiError, Conflict
from billing.models import (
    CreditPackage,
    Order,
    OrderStatus,
    Plan,
    Store,
    StoreNotification,
    StorePurchase,
    Subscription,
)
from billing.services.orders import order_complete
from billing.services.periods import add_months, subscription_expire
from billing.services.stores import grants, shared
from billing.stores import StoreError, google

logger = logging.getLogger("aiasmr.billing")

GOOGLE_LIVE_STATES = ("SUBSCRIPTION_STATE_ACTIVE", "SUBSCRIPTION_STATE_IN_GRACE_PERIOD")
GOOGLE_LAPSED_STATES = ("SUBSCRIPTION_STATE_ON_HOLD", "SUBSCRIPTION_STATE_PAUSED")
GOOGLE_ENDED_STATES = ("SUBSCRIPTION_STATE_EXPIRED",)


def _google_user(obfuscated_account_id: str) -> User | None:
    try:
        return shared.store_account_user(token=uuid.UUID(obfuscated_account_id)) if obfuscated_account_id else None
    except ValueError:
        return None


def _not_completed(**details: object) -> Conflict:
    return Conflict("The store purchase is not completed.", code="STORE_PURCHASE_NOT_COMPLETED", details=details)


def _google_purchase_record(
    *, info: google.ProductPurchase | google.SubscriptionPurchase, user: User, **fields: object
) -> StorePurchase:
    """The purchase row of a Play purchase token, stored once (with Play's answer as its payload)."""
    return shared.store_purchase_record(
        store=Store.GOOGLE, transaction_id=info.purchase_token, user=user, product_id=info.product_id,
        payload=info.raw, **fields,
    )


# --- one-time products -----------------------------------------------------------------------------------


def google_purchase_consume(*, purchase: StorePurchase) -> bool:
    """Consumes a credited Play purchase (after the commit: a network call). A failure is left to the
    next attempt or store_reconcile; Play refunds purchases not consumed or acknowledged within 3 days."""
    try:
        google.product_consume(product_id=purchase.product_id, purchase_token=purchase.transaction_id)
    except StoreError as exc:
        logger.warning("play consume failed", extra={"event": "play_consume_failed", "purchase": purchase.pk,
                                                      "reason": str(exc)[:300]})
        return False
    StorePurchase.objects.filter(pk=purchase.pk).update(consumed_at=timezone.now(), updated_at=timezone.now())
    return True


def google_product_fulfil(*, user: User, package: CreditPackage, info: google.ProductPurchase) -> StorePurchase:
    """Records a checked Play product purchase of `user`, grants its credits once and consumes it."""
    purchase = _google_purchase_record(
        info=info,
        user=user,
        original_transaction_id=info.order_id,
        kind=StorePurchase.Kind.CONSUMABLE,
        order=shared.store_order_ensure(
            store=Store.GOOGLE, reference=info.order_id or info.purchase_token, user=user, product=package,
            quantity=info.quantity,
        ),
        purchased_at=info.purchased_at,
    )
    if purchase.user_id != user.pk:
        raise shared.account_mismatch_error()
    order_complete(order=purchase.order)
    if purchase.consumed_at is None:
        google_purchase_consume(purchase=purchase)
    return purchase


def _google_product_check(*, user: User, info: google.ProductPurchase) -> None:
    if not info.obfuscated_account_id or info.obfuscated_account_id != str(shared.store_account_get(user=user).token):
        raise shared.account_mismatch_error()
    if info.purchase_state != google.PURCHASED:
        raise _not_completed(purchaseState=info.purchase_state)
    if info.consumption_state == google.CONSUMED:
        raise Conflict("The store purchase was already used.", code="STORE_PURCHASE_CONSUMED")


def google_purchase_submit(*, user: User, product_id: str, purchase_token: str) -> StorePurchase:
    """The app presents a Play purchase: products.get must say purchased and not consumed, for this app and
    this user's obfuscatedExternalAccountId; credits are granted once per purchase token, then consumed.
    A subscription product is checked with subscriptionsv2.get and its current period granted."""
    product = shared.store_product_get(store=Store.GOOGLE, product_id=product_id)
    if product is None:
        raise shared.unknown_product_error(product_id=product_id)
    known = StorePurchase.objects.select_related("order").filter(
        store=Store.GOOGLE, transaction_id=purchase_token
    ).first()
    if known is not None and known.user_id != user.pk:
        raise shared.account_mismatch_error()
    if known is not None and known.revoked_at is not None:
        raise Conflict("The store purchase was refunded or revoked.", code="STORE_PURCHASE_REVOKED")
    if isinstance(product, Plan):
        info = shared.store_call(call=google.subscription_get, purchase_token=purchase_token)
        if info.obfuscated_account_id != str(shared.store_account_get(user=user).token):
            raise shared.account_mismatch_error()
        if info.product_id != product_id:
            raise shared.unknown_product_error(product_id=info.product_id)
        purchase = _google_subscription_apply(info=info, user=user, plan=product)
        if purchase is None:
            raise _not_completed(subscriptionState=info.state)
        return purchase
    if known is not None and known.order is not None and known.order.status == OrderStatus.COMPLETED:
        # Credited before (a replay, or a second device): nothing more; finish a consume that failed.
        if known.consumed_at is None:
            google_purchase_consume(purchase=known)
        known.refresh_from_db()
        return known
    info = shared.store_call(call=google.product_get, product_id=product_id, purchase_token=purchase_token)
    if info.consumption_state == google.CONSUMED:
        # A concurrent twin may have credited and consumed it since the lookup above.
        known = StorePurchase.objects.select_related("order").filter(
            store=Store.GOOGLE, transaction_id=purchase_token, user=user, order__status=OrderStatus.COMPLETED
        ).first()
        if known is not None:
            return known
    _google_product_check(user=user, info=info)
    purchase = google_product_fulfil(user=user, package=product, info=info)
    purchase.refresh_from_db()
    return purchase


# --- subscriptions ---------------------------------------------------------------------------------------


def _google_subscription_apply(
    *, info: google.SubscriptionPurchase, user: User, plan: Plan
) -> StorePurchase | None:
    """Moves our subscription to what Play says: a live period granted once (keyed by its order), a lapse,
    or the end. Returns the purchase row, None when Play says it is not live and we never recorded it."""
    known = StorePurchase.objects.filter(store=Store.GOOGLE, transaction_id=info.purchase_token).first()
    if info.state not in GOOGLE_LIVE_STATES:
        subscription = grants.store_subscription_get(store=Store.GOOGLE, external_id=info.purchase_token)
        if subscription is not None and info.state in GOOGLE_LAPSED_STATES:
            grants.store_subscription_lapse(subscription=subscription, keep_entitlements=False)
        elif subscription is not None and info.state in GOOGLE_ENDED_STATES:
            subscription_expire(subscription=subscription)
        return known
    if not info.latest_order_id or info.expires_at is None:
        return known
    linked = info.raw.get("linkedPurchaseToken")
    if linked:
        # An upgrade, downgrade or resubscribe replaces the linked purchase: its subscription ends here.
        replaced = grants.store_subscription_get(store=Store.GOOGLE, external_id=str(linked))
        if replaced is not None and replaced.user_id == user.pk:
            subscription_expire(subscription=replaced)
    subscription = grants.store_subscription_ensure(
        store=Store.GOOGLE, external_id=info.purchase_token, user=user, plan=plan
    )
    if subscription is None:
        raise Conflict("You already have an active subscription.", code="SUBSCRIPTION_EXISTS")
    order = shared.store_order_ensure(
        store=Store.GOOGLE, reference=info.latest_order_id, user=user, product=plan, subscription=subscription
    )
    purchase = _google_purchase_record(
        info=info,
        user=user,
        original_transaction_id=info.latest_order_id,
        kind=StorePurchase.Kind.SUBSCRIPTION,
        order=order,
        subscription=subscription,
        purchased_at=info.started_at,
    )
    StorePurchase.objects.filter(pk=purchase.pk).update(
        order=order, original_transaction_id=info.latest_order_id, expires_at=info.expires_at, payload=info.raw,
        updated_at=timezone.now(),
    )
    # subscriptionsv2 names a period by its end: its start is one plan period before.
    start = add_months(moment=info.expires_at, months=-1) if plan.interval == Plan.Interval.MONTH else info.started_at
    grants.store_period_grant(purchase=purchase, order=order, subscription=subscription, start=start, end=info.expires_at)
    Subscription.objects.filter(pk=subscription.pk).update(
        cancel_at_period_end=bool(info.raw.get("canceledStateContext")), updated_at=timezone.now()
    )
    if not info.acknowledged:
        try:
            google.subscription_acknowledge(product_id=info.product_id, purchase_token=info.purchase_token)
        except StoreError as exc:
            logger.warning("play acknowledge failed", extra={"event": "play_acknowledge_failed", "reason": str(exc)})
        else:
            StorePurchase.objects.filter(pk=purchase.pk).update(consumed_at=timezone.now())
    purchase.refresh_from_db()
    return purchase


def google_subscription_sync(*, purchase_token: str) -> tuple[str, StorePurchase | None]:
    """Moves our subscription for a Play purchase token to what subscriptionsv2.get says now.
    Returns (why nothing was done or "", the purchase row)."""
    info = google.subscription_get(purchase_token=purchase_token)
    plan = shared.store_product_get(store=Store.GOOGLE, product_id=info.product_id)
    if not isinstance(plan, Plan):
        return "subscription product not sold here", None
    user = _google_user(info.obfuscated_account_id)
    if user is None:
        return "no account for this obfuscatedExternalAccountId", None
    try:
        return "", _google_subscription_apply(info=info, user=user, plan=plan)
    except ApiError as exc:
        return exc.code, None


# --- notifications ---------------------------------------------------------------------------------------


def _on_google_product(note: google.DeveloperNotification) -> tuple[str, StorePurchase | None]:
    if note.type != 1:  # ONE_TIME_PRODUCT_PURCHASED; 2 is a pending purchase cancelled
        return "one-time product notification not handled", None
    package = shared.store_product_get(store=Store.GOOGLE, product_id=note.product_id)
    if not isinstance(package, CreditPackage):
        return "product not sold here", None
    known = StorePurchase.objects.filter(store=Store.GOOGLE, transaction_id=note.purchase_token).first()
    if known is not None:
        return "already recorded", known
    info = google.product_get(product_id=note.product_id, purchase_token=note.purchase_token)
    user = _google_user(info.obfuscated_account_id)
    if user is None:
        return "no account for this obfuscatedExternalAccountId", None
    try:
        _google_product_check(user=user, info=info)
    except ApiError as exc:
        return exc.code, None
    return "", google_product_fulfil(user=user, package=package, info=info)


def _on_google_voided(note: google.DeveloperNotification) -> tuple[str, StorePurchase | None]:
    voided = note.raw.get("voidedPurchaseNotification") or {}
    purchase = StorePurchase.objects.select_related("order", "subscription").filter(
        store=Store.GOOGLE, transaction_id=note.purchase_token
    ).first()
    if purchase is None:
        return "voided purchase never recorded", None
    order = purchase.order
    if voided.get("orderId"):  # a subscription's voided period names its own order
        payment_id = shared.store_order_ref(store=Store.GOOGLE, reference=voided["orderId"])
        order = Order.objects.filter(provider_payment_id=payment_id).first() or order
    grants.store_purchase_refund(purchase=purchase, order=order)
    return "", purchase


def _google_dispatch(note: google.DeveloperNotification) -> tuple[str, StorePurchase | None]:
    if note.package_name != settings.GOOGLE_PLAY_PACKAGE_NAME:
        return "notification for another package", None
    if note.kind == "oneTimeProduct":
        return _on_google_product(note)
    if note.kind == "subscription":
        return google_subscription_sync(purchase_token=note.purchase_token)
    if note.kind == "voidedPurchase":
        return _on_google_voided(note)
    return "notification type not handled", None


def google_notification_receive(*, authorization: str, body: dict) -> tuple[StoreNotification, str]:
    """A Pub/Sub push of a Play real-time developer notification: its OIDC token verified (audience, push
    service account), stored once by message id, processed once."""
    shared.store_call(call=google.push_verify, authorization=authorization)
    note = shared.store_call(call=google.push_decode, body=body)
    return shared.store_notification_process(
        store=Store.GOOGLE, notification_id=note.message_id, type=note.kind,
        subtype=str(note.type) if note.type is not None else "", payload=note.raw,
        handle=lambda: _google_dispatch(note),
    )
