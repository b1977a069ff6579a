"""In-app purchases: App Store transactions and Google Play purchases, verified with the stores and credited
with the same guarantees as the provider payments.

Each store purchase is stored once (StorePurchase, unique by store and transaction id / purchase token) with
an order keyed by the store's id; the order's conditional status move grants the credits once (order_complete),
a refund or revocation claws them back once (order_mark_refunded), and a subscription period is granted once
per period (subscription_period_grant). Store calls never run inside a transaction; the user is the one whose
StoreAccount token the app handed the store (appAccountToken, obfuscatedExternalAccountId).
"""

import hashlib
import logging
import uuid
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import FREE_PLAN_FIELDS, Profile, User
from accounts.services import profile_lock
from aiasmr.api.exceptions import (
    AccessDenied,
    ApiError,
    Conflict,
    NotAuthenticated,
    ProviderError,
    ServiceUnavailable,
    ValidationFailed,
    error_code,
)
from billing.models import (
    LIVE_SUBSCRIPTION_STATUSES,
    CreditPackage,
    Order,
    OrderStatus,
    PaymentEvent,
    Plan,
    Store,
    StoreAccount,
    StoreNotification,
    StorePurchase,
    Subscription,
    SubscriptionStatus,
)
from billing.services.common import DONE_EVENT_STATUSES, PAYABLE_STATUSES
from billing.services.orders import order_complete, order_mark_refunded, order_referral_rewards
from billing.services.periods import add_months, subscription_expire, subscription_period_grant
from billing.stores import StoreError, apple, google

logger = logging.getLogger("aiasmr.billing")

# Each store failure's API error; the code table is read by tests/api/test_error_codes.py.
STORE_ERRORS: dict[str, tuple[str, type[ApiError]]] = {
    "not_configured": ("STORE_NOT_CONFIGURED", ServiceUnavailable),
    "unavailable": ("STORE_UNAVAILABLE", ProviderError),
    "bad_signature": ("STORE_SIGNATURE_INVALID", ApiError),
    "wrong_app": ("STORE_APP_MISMATCH", ApiError),
    "wrong_environment": ("STORE_ENVIRONMENT_MISMATCH", ApiError),
    "not_found": ("STORE_PURCHASE_NOT_FOUND", ApiError),
    "malformed": ("VALIDATION_ERROR", ValidationFailed),
    "push_unauthorized": ("STORE_PUSH_UNAUTHORIZED", NotAuthenticated),
}

GOOGLE_LIVE_STATES = ("SUBSCRIPTION_STATE_ACTIVE", "SUBSCRIPTION_STATE_IN_GRACE_PERIOD")
GOOGLE_LAPSED_STATES = ("SUBSCRIPTION_STATE_ON_HOLD", "SUBSCRIPTION_STATE_PAUSED")
GOOGLE_ENDED_STATES = ("SUBSCRIPTION_STATE_EXPIRED",)


def store_error(*, exc: StoreError) -> ApiError:
    """The API error for a store failure (the store's own words stay in the logs)."""
    code, error_class = STORE_ERRORS.get(exc.reason, ("STORE_SIGNATURE_INVALID", ApiError))
    logger.warning("store refused", extra={"event": "store_refused", "reason": exc.reason, "detail": str(exc)[:300]})
    return error_class(error_code(code).message, code=code)


def _account_mismatch() -> ApiError:
    return AccessDenied("The store purchase was made for another account.", code="STORE_ACCOUNT_MISMATCH")


# --- the user's store account ----------------------------------------------------------------------------


def store_account_get(*, user: User) -> StoreAccount:
    """The user's store account token (created on first use; stable afterwards)."""
    account = StoreAccount.objects.filter(user=user).first()
    if account is not None:
        return account
    try:
        with transaction.atomic():
            return StoreAccount.objects.create(user=user)
    except IntegrityError:
        return StoreAccount.objects.get(user=user)


def _user_for_token(token) -> User | None:
    account = StoreAccount.objects.select_related("user").filter(token=str(token)).first() if token else None
    return account.user if account is not None else None


def _google_user(obfuscated_account_id: str) -> User | None:
    try:
        return _user_for_token(uuid.UUID(obfuscated_account_id)) if obfuscated_account_id else None
    except ValueError:
        return None


# --- products, purchases, orders -------------------------------------------------------------------------


def _product(store: str, product_id: str) -> CreditPackage | Plan | None:
    """The package or plan a store product sells (inactive ones too: the store already sold it)."""
    field = "app_store_product_id" if store == Store.APPLE else "play_product_id"
    if not product_id:
        return None
    return (
        CreditPackage.objects.filter(**{field: product_id}).first() or Plan.objects.filter(**{field: product_id}).first()
    )


def _unknown_product(product_id: str) -> ApiError:
    return ApiError("This store product is not sold here.", code="STORE_PRODUCT_UNKNOWN", details={"productId": product_id})


def _order_ref(store: str, reference: str) -> str:
    """The order's provider_payment_id for a store id (a long Play token is hashed to fit)."""
    if len(reference) > 200:
        reference = hashlib.sha256(reference.encode()).hexdigest()
    return f"{store}:{reference}"


def _order_for(
    *, store: str, reference: str, user: User, product: CreditPackage | Plan, quantity: int = 1,
    subscription: Subscription | None = None,
) -> Order:
    """The order of one store payment, created once (provider_payment_id is unique)."""
    payment_id = _order_ref(store, reference)
    is_package = isinstance(product, CreditPackage)
    fields = {
        "user": user,
        "package": product if is_package else None,
        "plan": None if is_package else product,
        "subscription": subscription,
        "credits": product.credits * quantity if is_package else product.credits_per_period,
        "amount": product.price * quantity,  # the catalogue price: the store's local price is not sent to us
        "currency": product.currency,
        "provider": store,
        "payment_method": store,
    }
    try:
        with transaction.atomic():
            order, _ = Order.objects.get_or_create(provider_payment_id=payment_id, defaults=fields)
    except IntegrityError:  # a concurrent twin inserted it first
        order = Order.objects.get(provider_payment_id=payment_id)
    return order


def _purchase_record(*, store: str, transaction_id: str, user: User, product_id: str, **fields) -> StorePurchase:
    """Stores a purchase once; a replay or a concurrent twin gets the first one's row."""
    existing = StorePurchase.objects.select_related("order").filter(store=store, transaction_id=transaction_id).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            return StorePurchase.objects.create(
                store=store, transaction_id=transaction_id, user=user, product_id=product_id, **fields
            )
    except IntegrityError:
        return StorePurchase.objects.select_related("order").get(store=store, transaction_id=transaction_id)


def _purchase_refund(*, purchase: StorePurchase, order: Order | None = None, revoked_at: datetime | None = None) -> bool:
    """The store refunded or revoked a payment: its credits are clawed back once (down to zero)."""
    now = timezone.now()
    StorePurchase.objects.filter(pk=purchase.pk, revoked_at__isnull=True).update(
        revoked_at=revoked_at or now, updated_at=now
    )
    order = order or purchase.order
    if order is None:
        return False
    clawed = order_mark_refunded(order=order, refund_id=f"{purchase.store}_refund")
    if purchase.subscription_id and (purchase.expires_at is None or purchase.expires_at > now):
        # A refunded current period ends the subscription (the store ends the entitlement too).
        subscription_expire(subscription=purchase.subscription)
    return clawed


# --- subscriptions ---------------------------------------------------------------------------------------


def _store_subscription(*, store: str, external_id: str, user: User, plan: Plan) -> Subscription | None:
    """The user's subscription for a store subscription id, created (or revived on a resubscribe) live.
    None when the user already has another live subscription (staff reconcile that by hand)."""
    provider_id = _order_ref(store, external_id)
    try:
        with transaction.atomic():
            profile_lock(user_id=user.pk)
            subscription = Subscription.objects.filter(provider=store, provider_subscription_id=provider_id).first()
            if subscription is None:
                for stale in Subscription.objects.filter(user=user, status=SubscriptionStatus.INCOMPLETE):
                    Subscription.objects.filter(pk=stale.pk, status=SubscriptionStatus.INCOMPLETE).update(
                        status=SubscriptionStatus.CANCELLED
                    )
                return Subscription.objects.create(
                    user=user, plan=plan, provider=store, provider_subscription_id=provider_id
                )
            fields = {"updated_at": timezone.now()}
            if subscription.plan_id != plan.pk:
                fields["plan"] = plan  # an upgrade or crossgrade in the store
            if subscription.status not in LIVE_SUBSCRIPTION_STATUSES:
                fields["status"] = SubscriptionStatus.INCOMPLETE  # activated by the period grant below
            Subscription.objects.filter(pk=subscription.pk).update(**fields)
    except IntegrityError:
        twin = Subscription.objects.filter(
            provider=store, provider_subscription_id=provider_id, user=user, status__in=LIVE_SUBSCRIPTION_STATUSES
        ).first()
        if twin is not None:
            return twin  # a concurrent notification or app call created it first
        logger.error(
            "store subscription conflicts with a live one",
            extra={"event": "store_subscription_conflict", "user": str(user.pk), "store": store},
        )
        return None
    subscription.refresh_from_db()
    return subscription


def _period_grant(*, purchase: StorePurchase, order: Order, subscription: Subscription, start, end) -> bool:
    """Completes a period's order and grants the period's credits once. False when the order was refunded."""
    with transaction.atomic():
        profile_lock(user_id=subscription.user_id)
        now = timezone.now()
        completed = Order.objects.filter(pk=order.pk, status__in=PAYABLE_STATUSES).update(
            status=OrderStatus.COMPLETED, completed_at=now, updated_at=now
        )
        if Order.objects.filter(pk=order.pk).values_list("status", flat=True).first() != OrderStatus.COMPLETED:
            return False
        subscription_period_grant(subscription=subscription, order=order, start=start, end=end)
        if completed:
            order_referral_rewards(order=order)
    return True


def _subscription_lapse(*, subscription: Subscription, keep_entitlements: bool) -> bool:
    """A renewal failed: the subscription is past due; without a grace period the plan's perks stop now."""
    with transaction.atomic():
        profile_lock(user_id=subscription.user_id)
        moved = Subscription.objects.filter(
            pk=subscription.pk, status__in=(SubscriptionStatus.ACTIVE, SubscriptionStatus.PAST_DUE)
        ).update(status=SubscriptionStatus.PAST_DUE, updated_at=timezone.now())
        if moved and not keep_entitlements and subscription.user_id is not None:
            Profile.objects.filter(user_id=subscription.user_id).update(**FREE_PLAN_FIELDS)
    return bool(moved)


def _subscription_of(store: str, external_id: str) -> Subscription | None:
    return (
        Subscription.objects.select_related("plan")
        .filter(provider=store, provider_subscription_id=_order_ref(store, external_id))
        .first()
    )


# --- App Store -------------------------------------------------------------------------------------------


def _apple_verified(call, **kwargs):
    try:
        return call(**kwargs)
    except StoreError as exc:
        raise store_error(exc=exc)


def _apple_apply(*, tx: apple.AppleTransaction, user: User) -> StorePurchase:
    """Records a verified App Store transaction of `user` and grants what it bought, once."""
    product = _product(Store.APPLE, tx.product_id)
    if product is None:
        raise _unknown_product(tx.product_id)
    is_package = isinstance(product, CreditPackage)
    if is_package != (tx.type == apple.CONSUMABLE):
        raise _unknown_product(tx.product_id)
    subscription = None
    if not is_package:
        subscription = _store_subscription(
            store=Store.APPLE, external_id=tx.original_transaction_id, user=user, plan=product
        )
        if subscription is None:
            raise Conflict("You already have an active subscription.", code="SUBSCRIPTION_EXISTS")
    order = _order_for(
        store=Store.APPLE, reference=tx.transaction_id, user=user, product=product, quantity=tx.quantity,
        subscription=subscription,
    )
    purchase = _purchase_record(
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
        raise _account_mismatch()
    if tx.revoked_at is not None:
        _purchase_refund(purchase=purchase, revoked_at=tx.revoked_at)
        return purchase
    if is_package:
        order_complete(order=order)
    elif tx.purchased_at and tx.expires_at:
        _period_grant(purchase=purchase, order=order, subscription=subscription, start=tx.purchased_at, end=tx.expires_at)
    return purchase


def apple_transaction_submit(*, user: User, signed_transaction: str) -> StorePurchase:
    """The app presents a StoreKit 2 signed transaction: verified with Apple's certificates, the bundle id
    and the environment, for this user's appAccountToken; its credits are granted once per transactionId."""
    tx = _apple_verified(apple.transaction_verify, signed_transaction=signed_transaction)
    if tx.app_account_token is None or tx.app_account_token != store_account_get(user=user).token:
        raise _account_mismatch()
    known = StorePurchase.objects.filter(store=Store.APPLE, transaction_id=tx.transaction_id).first()
    if tx.revoked_at is not None or (known is not None and known.revoked_at is not None):
        if known is not None:
            _purchase_refund(purchase=known, revoked_at=tx.revoked_at)
        raise Conflict("The store purchase was refunded or revoked.", code="STORE_PURCHASE_REVOKED")
    purchase = _apple_apply(tx=tx, user=user)
    purchase.refresh_from_db()
    return purchase


def _apple_transaction_user(tx: apple.AppleTransaction) -> User | None:
    user = _user_for_token(tx.app_account_token)
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
        purchase = _apple_apply(tx=tx, user=user) if tx.revoked_at else None
        if purchase is None:
            return "refund without a revocation date", None
        return "", purchase
    _purchase_refund(purchase=purchase, revoked_at=tx.revoked_at)
    return "", purchase


def _on_apple_renewal(note: apple.AppleNotification) -> tuple[str, StorePurchase | None]:
    tx = note.transaction
    user = _apple_transaction_user(tx)
    if user is None:
        return "no account for this appAccountToken", None
    try:
        return "", _apple_apply(tx=tx, user=user)
    except ApiError as exc:
        return exc.code, None


def _on_apple_ended(note: apple.AppleNotification) -> tuple[str, StorePurchase | None]:
    subscription = _subscription_of(Store.APPLE, note.transaction.original_transaction_id)
    if subscription is None:
        return "no such subscription", None
    return ("" if subscription_expire(subscription=subscription) else "subscription already ended"), None


def _on_apple_renewal_failed(note: apple.AppleNotification) -> tuple[str, StorePurchase | None]:
    subscription = _subscription_of(Store.APPLE, note.transaction.original_transaction_id)
    if subscription is None:
        return "no such subscription", None
    moved = _subscription_lapse(subscription=subscription, keep_entitlements=note.subtype == "GRACE_PERIOD")
    return ("" if moved else "subscription not active"), None


def _on_apple_renewal_status(note: apple.AppleNotification) -> tuple[str, StorePurchase | None]:
    subscription = _subscription_of(Store.APPLE, note.transaction.original_transaction_id)
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


def _notification_process(*, store: str, notification_id: str, type: str, subtype: str, payload: dict, handle) -> tuple[StoreNotification, str]:  # noqa: A002, E501
    """Stores a notification once and runs its handler until it succeeds once. Handlers are idempotent
    (unique rows, conditional moves, keyed grants) and may call the store, so no transaction spans them."""
    record, _ = StoreNotification.objects.get_or_create(
        store=store, notification_id=notification_id[:255],
        defaults={"type": type[:64], "subtype": subtype[:64], "payload": payload},
    )
    if record.status in DONE_EVENT_STATUSES:
        return record, "duplicate"
    try:
        note, purchase = handle()
    except Exception as exc:
        StoreNotification.objects.filter(pk=record.pk).exclude(status__in=DONE_EVENT_STATUSES).update(
            status=PaymentEvent.Status.FAILED, error=f"{exc.__class__.__name__}: {exc}"[:2000]
        )
        raise
    status = PaymentEvent.Status.IGNORED if note else PaymentEvent.Status.PROCESSED
    StoreNotification.objects.filter(pk=record.pk).exclude(status__in=DONE_EVENT_STATUSES).update(
        status=status, error=note, processed_at=timezone.now(), purchase=purchase,
        user_id=purchase.user_id if purchase is not None else None,
    )
    record.refresh_from_db()
    return record, status


def apple_notification_receive(*, signed_payload: str) -> tuple[StoreNotification, str]:
    """An App Store Server Notification V2: verified like a transaction, stored once by notificationUUID,
    processed once. Returns (row, outcome: processed, ignored or duplicate)."""
    note = _apple_verified(apple.notification_verify, signed_payload=signed_payload)
    handler = APPLE_HANDLERS.get(note.type)

    def handle():
        if handler is None:
            return "notification type not handled", None
        if note.transaction is None:
            return "notification without a transaction", None
        return handler(note)

    return _notification_process(
        store=Store.APPLE, notification_id=note.notification_uuid, type=note.type, subtype=note.subtype,
        payload=note.raw, handle=handle,
    )


# --- Google Play -----------------------------------------------------------------------------------------


def _google(call, **kwargs):
    try:
        return call(**kwargs)
    except StoreError as exc:
        raise store_error(exc=exc)


def _google_consume(*, purchase: StorePurchase) -> bool:
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


def _google_product_fulfil(*, user: User, package: CreditPackage, info: google.ProductPurchase) -> StorePurchase:
    purchase = _purchase_record(
        store=Store.GOOGLE,
        transaction_id=info.purchase_token,
        user=user,
        product_id=info.product_id,
        original_transaction_id=info.order_id,
        kind=StorePurchase.Kind.CONSUMABLE,
        order=_order_for(
            store=Store.GOOGLE, reference=info.order_id or info.purchase_token, user=user, product=package,
            quantity=info.quantity,
        ),
        purchased_at=info.purchased_at,
        payload=info.raw,
    )
    if purchase.user_id != user.pk:
        raise _account_mismatch()
    order_complete(order=purchase.order)
    if purchase.consumed_at is None:
        _google_consume(purchase=purchase)
    return purchase


def _google_product_check(*, user: User, info: google.ProductPurchase) -> None:
    if not info.obfuscated_account_id or info.obfuscated_account_id != str(store_account_get(user=user).token):
        raise _account_mismatch()
    if info.purchase_state != google.PURCHASED:
        raise Conflict("The store purchase is not completed.", code="STORE_PURCHASE_NOT_COMPLETED",
                       details={"purchaseState": info.purchase_state})
    if info.consumption_state == google.CONSUMED:
        raise Conflict("The store purchase was already used.", code="STORE_PURCHASE_CONSUMED")


def google_purchase_submit(*, user: User, product_id: str, purchase_token: str) -> StorePurchase:
    """The app presents a Play purchase: products.get must say purchased and not consumed, for this app and
    this user's obfuscatedExternalAccountId; credits are granted once per purchase token, then consumed.
    A subscription product is checked with subscriptionsv2.get and its current period granted."""
    product = _product(Store.GOOGLE, product_id)
    if product is None:
        raise _unknown_product(product_id)
    known = StorePurchase.objects.select_related("order").filter(
        store=Store.GOOGLE, transaction_id=purchase_token
    ).first()
    if known is not None and known.user_id != user.pk:
        raise _account_mismatch()
    if known is not None and known.revoked_at is not None:
        raise Conflict("The store purchase was refunded or revoked.", code="STORE_PURCHASE_REVOKED")
    if isinstance(product, Plan):
        info = _google(google.subscription_get, purchase_token=purchase_token)
        if info.obfuscated_account_id != str(store_account_get(user=user).token):
            raise _account_mismatch()
        if info.product_id != product_id:
            raise _unknown_product(info.product_id)
        purchase = _google_subscription_apply(info=info, user=user, plan=product)
        if purchase is None:
            raise Conflict("The store purchase is not completed.", code="STORE_PURCHASE_NOT_COMPLETED",
                           details={"subscriptionState": info.state})
        return purchase
    if known is not None and known.order is not None and known.order.status == OrderStatus.COMPLETED:
        # Credited before (a replay, or a second device): nothing more; finish a consume that failed.
        if known.consumed_at is None:
            _google_consume(purchase=known)
        known.refresh_from_db()
        return known
    info = _google(google.product_get, product_id=product_id, purchase_token=purchase_token)
    if info.consumption_state == google.CONSUMED:
        # A concurrent twin may have credited and consumed it since the lookup above.
        known = StorePurchase.objects.select_related("order").filter(
            store=Store.GOOGLE, transaction_id=purchase_token, user=user, order__status=OrderStatus.COMPLETED
        ).first()
        if known is not None:
            return known
    _google_product_check(user=user, info=info)
    purchase = _google_product_fulfil(user=user, package=product, info=info)
    purchase.refresh_from_db()
    return purchase


def _google_subscription_apply(
    *, info: google.SubscriptionPurchase, user: User, plan: Plan
) -> StorePurchase | None:
    """Moves our subscription to what Play says: a live period granted once (keyed by its order), a lapse,
    or the end. Returns the purchase row, None when Play says it is not live and we never recorded it."""
    known = StorePurchase.objects.filter(store=Store.GOOGLE, transaction_id=info.purchase_token).first()
    if info.state not in GOOGLE_LIVE_STATES:
        subscription = _subscription_of(Store.GOOGLE, info.purchase_token)
        if subscription is not None and info.state in GOOGLE_LAPSED_STATES:
            _subscription_lapse(subscription=subscription, keep_entitlements=False)
        elif subscription is not None and info.state in GOOGLE_ENDED_STATES:
            subscription_expire(subscription=subscription)
        return known
    if not info.latest_order_id or info.expires_at is None:
        return known
    linked = info.raw.get("linkedPurchaseToken")
    if linked:
        # An upgrade, downgrade or resubscribe replaces the linked purchase: its subscription ends here.
        replaced = _subscription_of(Store.GOOGLE, str(linked))
        if replaced is not None and replaced.user_id == user.pk:
            subscription_expire(subscription=replaced)
    subscription = _store_subscription(store=Store.GOOGLE, external_id=info.purchase_token, user=user, plan=plan)
    if subscription is None:
        raise Conflict("You already have an active subscription.", code="SUBSCRIPTION_EXISTS")
    order = _order_for(
        store=Store.GOOGLE, reference=info.latest_order_id, user=user, product=plan, subscription=subscription
    )
    purchase = _purchase_record(
        store=Store.GOOGLE,
        transaction_id=info.purchase_token,
        user=user,
        product_id=info.product_id,
        original_transaction_id=info.latest_order_id,
        kind=StorePurchase.Kind.SUBSCRIPTION,
        order=order,
        subscription=subscription,
        purchased_at=info.started_at,
        payload=info.raw,
    )
    StorePurchase.objects.filter(pk=purchase.pk).update(
        order=order, original_transaction_id=info.latest_order_id, expires_at=info.expires_at, payload=info.raw,
        updated_at=timezone.now(),
    )
    # subscriptionsv2 names a period by its end: its start is one plan period before.
    start = add_months(moment=info.expires_at, months=-1) if plan.interval == Plan.Interval.MONTH else info.started_at
    _period_grant(purchase=purchase, order=order, subscription=subscription, start=start, end=info.expires_at)
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


def _google_subscription_sync(*, purchase_token: str) -> tuple[str, StorePurchase | None]:
    info = google.subscription_get(purchase_token=purchase_token)
    plan = _product(Store.GOOGLE, info.product_id)
    if not isinstance(plan, Plan):
        return "subscription product not sold here", None
    user = _google_user(info.obfuscated_account_id)
    if user is None:
        return "no account for this obfuscatedExternalAccountId", None
    try:
        return "", _google_subscription_apply(info=info, user=user, plan=plan)
    except ApiError as exc:
        return exc.code, None


def _on_google_product(note: google.DeveloperNotification) -> tuple[str, StorePurchase | None]:
    if note.type != 1:  # ONE_TIME_PRODUCT_PURCHASED; 2 is a pending purchase cancelled
        return "one-time product notification not handled", None
    package = _product(Store.GOOGLE, note.product_id)
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
    return "", _google_product_fulfil(user=user, package=package, info=info)


def _on_google_voided(note: google.DeveloperNotification) -> tuple[str, StorePurchase | None]:
    voided = note.raw.get("voidedPurchaseNotification") or {}
    purchase = StorePurchase.objects.select_related("order", "subscription").filter(
        store=Store.GOOGLE, transaction_id=note.purchase_token
    ).first()
    if purchase is None:
        return "voided purchase never recorded", None
    order = purchase.order
    if voided.get("orderId"):  # a subscription's voided period names its own order
        order = Order.objects.filter(provider_payment_id=_order_ref(Store.GOOGLE, voided["orderId"])).first() or order
    _purchase_refund(purchase=purchase, order=order)
    return "", purchase


def _google_dispatch(note: google.DeveloperNotification) -> tuple[str, StorePurchase | None]:
    if note.package_name != settings.GOOGLE_PLAY_PACKAGE_NAME:
        return "notification for another package", None
    if note.kind == "oneTimeProduct":
        return _on_google_product(note)
    if note.kind == "subscription":
        return _google_subscription_sync(purchase_token=note.purchase_token)
    if note.kind == "voidedPurchase":
        return _on_google_voided(note)
    return "notification type not handled", None


def google_notification_receive(*, authorization: str, body: dict) -> tuple[StoreNotification, str]:
    """A Pub/Sub push of a Play real-time developer notification: its OIDC token verified (audience, push
    service account), stored once by message id, processed once."""
    try:
        google.push_verify(authorization=authorization)
        note = google.push_decode(body=body)
    except StoreError as exc:
        raise store_error(exc=exc)
    return _notification_process(
        store=Store.GOOGLE, notification_id=note.message_id, type=note.kind,
        subtype=str(note.type) if note.type is not None else "", payload=note.raw,
        handle=lambda: _google_dispatch(note),
    )


# --- reconciliation --------------------------------------------------------------------------------------


def _check_apple(purchase: StorePurchase, *, repair: bool) -> str:
    tx = apple.transaction_fetch(transaction_id=purchase.transaction_id)
    status = purchase.order.status if purchase.order else None
    if tx.revoked_at is not None:
        if status == OrderStatus.REFUNDED:
            return ""
        if repair:
            _purchase_refund(purchase=purchase, revoked_at=tx.revoked_at)
        return "revoked at the App Store, not refunded here"
    if status in PAYABLE_STATUSES:
        if repair:
            _apple_apply(tx=tx, user=purchase.user)
        return "paid at the App Store, not credited here"
    return ""


def _check_google(purchase: StorePurchase, *, repair: bool) -> str:
    if purchase.kind == StorePurchase.Kind.SUBSCRIPTION:
        info = google.subscription_get(purchase_token=purchase.transaction_id)
        live = purchase.subscription is not None and purchase.subscription.status in LIVE_SUBSCRIPTION_STATUSES
        if (info.state in GOOGLE_LIVE_STATES) == live:
            return ""
        if repair:
            _google_subscription_sync(purchase_token=purchase.transaction_id)
        return f"subscription is {info.state} at Google Play"
    info = google.product_get(product_id=purchase.product_id, purchase_token=purchase.transaction_id)
    status = purchase.order.status if purchase.order else None
    if info.purchase_state == google.CANCELED:
        if status == OrderStatus.REFUNDED:
            return ""
        if repair:
            _purchase_refund(purchase=purchase)
        return "cancelled at Google Play, not refunded here"
    if status in PAYABLE_STATUSES and info.purchase_state == google.PURCHASED:
        if repair and purchase.user is not None and isinstance(purchase.order.package, CreditPackage):
            _google_product_fulfil(user=purchase.user, package=purchase.order.package, info=info)
        return "paid at Google Play, not credited here"
    if status == OrderStatus.COMPLETED and info.consumption_state == google.NOT_CONSUMED:
        if repair:
            _google_consume(purchase=purchase)
        return "credited here, not consumed at Google Play"
    return ""


def store_purchases_reconcile(*, days: int, repair: bool = False, now: datetime | None = None) -> list[dict]:
    """Re-checks the store purchases of the last `days` days against the stores; lists each disagreement
    with the ledger (and repairs it with `repair`: the same idempotent paths the endpoints take)."""
    now = now or timezone.now()
    recent = StorePurchase.objects.select_related("order__package", "subscription", "user").filter(
        created_at__gte=now - timedelta(days=days)
    )
    findings = []
    for purchase in recent.iterator(chunk_size=200):
        check = _check_apple if purchase.store == Store.APPLE else _check_google
        try:
            problem = check(purchase, repair=repair)
        except StoreError as exc:
            problem = f"store check failed: {exc.reason}"
        StorePurchase.objects.filter(pk=purchase.pk).update(last_checked_at=now)
        if problem:
            findings.append({"purchase": purchase.pk, "store": purchase.store, "transaction": purchase.transaction_id,
                             "user": purchase.user_id, "problem": problem, "repaired": repair})
    return findings
