"""What both stores share: the API error of a store failure, the user's store account, the product a store
id sells, the order and the purchase row of a store payment (each created once), and the once-only
processing of a store notification."""

import hashlib
import logging
from collections.abc import Callable
from typing import TypeVar

from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import User
from aiasmr.api.exceptions import (
    AccessDenied,
    ApiError,
    NotAuthenticated,
    ProviderError,
    ServiceUnavailable,
    ValidationFailed,
    error_code,
)
from billing.models import (
    CreditPackage,
    Order,
    PaymentEvent,
    Plan,
    Store,
    StoreAccount,
    StoreNotification,
    StorePurchase,
    Subscription,
)
from billing.services.common import DONE_EVENT_STATUSES
from billing.stores import StoreError

logger = logging.getLogger("aiasmr.billing")

Result = TypeVar("Result")

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


def store_error(*, exc: StoreError) -> ApiError:
    """The API error for a store failure (the store's own words stay in the logs)."""
    code, error_class = STORE_ERRORS.get(exc.reason, ("STORE_SIGNATURE_INVALID", ApiError))
    logger.warning("store refused", extra={"event": "store_refused", "reason": exc.reason, "detail": str(exc)[:300]})
    return error_class(error_code(code).message, code=code)


def store_call(*, call: Callable[..., Result], **kwargs: object) -> Result:
    """A store client call whose failure answers as the API error of store_error."""
    try:
        return call(**kwargs)
    except StoreError as exc:
        raise store_error(exc=exc)


def account_mismatch_error() -> ApiError:
    return AccessDenied("The store purchase was made for another account.", code="STORE_ACCOUNT_MISMATCH")


def unknown_product_error(*, product_id: str) -> ApiError:
    return ApiError("This store product is not sold here.", code="STORE_PRODUCT_UNKNOWN", details={"productId": product_id})


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


def store_account_user(*, token: object) -> User | None:
    """The user whose store account token the store names (None for no token or an unknown one)."""
    account = StoreAccount.objects.select_related("user").filter(token=str(token)).first() if token else None
    return account.user if account is not None else None


# --- products, purchases, orders -------------------------------------------------------------------------


def store_product_get(*, store: str, product_id: str) -> CreditPackage | Plan | None:
    """The package or plan a store product sells (inactive ones too: the store already sold it)."""
    field = "app_store_product_id" if store == Store.APPLE else "play_product_id"
    if not product_id:
        return None
    return (
        CreditPackage.objects.filter(**{field: product_id}).first() or Plan.objects.filter(**{field: product_id}).first()
    )


def store_order_ref(*, store: str, reference: str) -> str:
    """The order's provider_payment_id for a store id (a long Play token is hashed to fit)."""
    if len(reference) > 200:
        reference = hashlib.sha256(reference.encode()).hexdigest()
    return f"{store}:{reference}"


def store_order_ensure(
    *, store: str, reference: str, user: User, product: CreditPackage | Plan, quantity: int = 1,
    subscription: Subscription | None = None,
) -> Order:
    """The order of one store payment, created once (provider_payment_id is unique)."""
    payment_id = store_order_ref(store=store, reference=reference)
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


def store_purchase_record(
    *, store: str, transaction_id: str, user: User, product_id: str, **fields: object
) -> StorePurchase:
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


# --- notifications ---------------------------------------------------------------------------------------


def store_notification_process(
    *, store: str, notification_id: str, type: str, subtype: str, payload: dict,  # noqa: A002
    handle: Callable[[], tuple[str, StorePurchase | None]],
) -> tuple[StoreNotification, str]:
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
