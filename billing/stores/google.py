"""Google Play through google-api-python-client (the Play Developer API, androidpublisher v3, from the
discovery document the package ships) with a service account, and the OIDC token of Pub/Sub pushes
verified with google-auth (audience and service account)."""

import base64
import binascii
import functools
import json
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime

import google_auth_httplib2
import httplib2
import requests
from django.conf import settings
from google.auth import exceptions as google_auth_exceptions
from google.auth import jwt as google_jwt
from google.oauth2 import service_account
from googleapiclient.discovery import build_from_document
from googleapiclient.discovery_cache import get_static_doc
from googleapiclient.errors import HttpError

from aiasmr.api.parsers import json_loads_strict
from billing.stores import StoreError, StoreNotConfigured, StoreUnavailable

SCOPE = "https://www.googleapis.com/auth/androidpublisher"
PUSH_ISSUERS = ("accounts.google.com", "https://accounts.google.com")

# purchases.products: purchaseState and consumptionState.
PURCHASED, CANCELED, PENDING = 0, 1, 2
NOT_CONSUMED, CONSUMED = 0, 1


class GooglePlayError(StoreError):
    """Google Play does not vouch for this purchase (reason says why)."""


class PushUnauthorized(StoreError):
    reason = "push_unauthorized"


@dataclass(frozen=True)
class ProductPurchase:
    purchase_token: str
    product_id: str
    order_id: str
    purchase_state: int
    consumption_state: int
    acknowledged: bool
    obfuscated_account_id: str
    purchased_at: datetime | None
    quantity: int
    raw: dict = field(repr=False, compare=False)


@dataclass(frozen=True)
class SubscriptionPurchase:
    purchase_token: str
    product_id: str
    state: str  # SUBSCRIPTION_STATE_ACTIVE, ..._IN_GRACE_PERIOD, ..._ON_HOLD, ..._EXPIRED, ...
    latest_order_id: str
    started_at: datetime | None
    expires_at: datetime | None
    acknowledged: bool
    obfuscated_account_id: str
    raw: dict = field(repr=False, compare=False)


@dataclass(frozen=True)
class DeveloperNotification:
    """One real-time developer notification out of a Pub/Sub push."""

    message_id: str
    package_name: str
    kind: str  # oneTimeProduct, subscription, voidedPurchase, test
    type: int | None
    purchase_token: str
    product_id: str
    raw: dict = field(repr=False, compare=False)


def _moment(value) -> datetime | None:
    """Play's times: epoch milliseconds (v1 resources) or RFC 3339 (subscriptionsv2)."""
    if not value:
        return None
    if isinstance(value, str) and not value.isdigit():
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    return datetime.fromtimestamp(int(value) / 1000, tz=UTC)


@functools.lru_cache(maxsize=4)
def _credentials(path: str) -> service_account.Credentials:
    """One credentials object per key file: its access token (an hour) is reused across calls."""
    try:
        return service_account.Credentials.from_service_account_file(path, scopes=[SCOPE])
    except (OSError, ValueError) as exc:
        raise StoreNotConfigured(f"GOOGLE_PLAY_SERVICE_ACCOUNT_FILE cannot be read: {exc.__class__.__name__}") from exc


def _publisher():
    if not settings.GOOGLE_PLAY_PACKAGE_NAME or not settings.GOOGLE_PLAY_SERVICE_ACCOUNT_FILE:
        raise StoreNotConfigured("GOOGLE_PLAY_PACKAGE_NAME and GOOGLE_PLAY_SERVICE_ACCOUNT_FILE are required")
    credentials = _credentials(settings.GOOGLE_PLAY_SERVICE_ACCOUNT_FILE)
    http = google_auth_httplib2.AuthorizedHttp(
        credentials, http=httplib2.Http(timeout=settings.GOOGLE_PLAY_TIMEOUT_SECONDS)
    )
    options = {"api_endpoint": settings.GOOGLE_PLAY_API_ENDPOINT} if settings.GOOGLE_PLAY_API_ENDPOINT else None
    return build_from_document(_discovery_document(), http=http, client_options=options)


@functools.cache
def _discovery_document() -> dict:
    # The androidpublisher v3 document shipped with the package (no discovery request), parsed once: building
    # the client from the file took ~5 ms a call, from the parsed document 0.1 ms.
    return json.loads(get_static_doc("androidpublisher", "v3"))


def _call(request) -> dict:
    try:
        return request.execute(num_retries=1) or {}
    except HttpError as exc:
        status = exc.resp.status
        if status in (400, 404, 410):
            raise GooglePlayError(f"Google Play refused the token (HTTP {status})", reason="not_found") from exc
        raise StoreUnavailable(f"Google Play Developer API: HTTP {status}") from exc
    except (OSError, httplib2.HttpLib2Error, google_auth_exceptions.GoogleAuthError) as exc:
        raise StoreUnavailable(f"Google Play Developer API: {exc.__class__.__name__}") from exc


def product_get(*, product_id: str, purchase_token: str) -> ProductPurchase:
    """purchases.products.get for this app's package."""
    products = _publisher().purchases().products()
    body = _call(
        products.get(packageName=settings.GOOGLE_PLAY_PACKAGE_NAME, productId=product_id, token=purchase_token)
    )
    return ProductPurchase(
        purchase_token=purchase_token,
        product_id=body.get("productId") or product_id,
        order_id=body.get("orderId") or "",
        purchase_state=int(body.get("purchaseState", PENDING)),
        consumption_state=int(body.get("consumptionState", NOT_CONSUMED)),
        acknowledged=int(body.get("acknowledgementState", 0)) == 1,
        obfuscated_account_id=body.get("obfuscatedExternalAccountId") or "",
        purchased_at=_moment(body.get("purchaseTimeMillis")),
        quantity=int(body.get("quantity") or 1),
        raw=body,
    )


def product_consume(*, product_id: str, purchase_token: str) -> None:
    """purchases.products.consume: the user may buy the same product again."""
    products = _publisher().purchases().products()
    _call(products.consume(packageName=settings.GOOGLE_PLAY_PACKAGE_NAME, productId=product_id, token=purchase_token))


def subscription_get(*, purchase_token: str) -> SubscriptionPurchase:
    """purchases.subscriptionsv2.get for this app's package."""
    subscriptions = _publisher().purchases().subscriptionsv2()
    body = _call(subscriptions.get(packageName=settings.GOOGLE_PLAY_PACKAGE_NAME, token=purchase_token))
    items = body.get("lineItems") or [{}]
    return SubscriptionPurchase(
        purchase_token=purchase_token,
        product_id=items[0].get("productId") or "",
        state=body.get("subscriptionState") or "",
        latest_order_id=body.get("latestOrderId") or items[0].get("latestSuccessfulOrderId") or "",
        started_at=_moment(body.get("startTime")),
        expires_at=_moment(items[0].get("expiryTime")),
        acknowledged=body.get("acknowledgementState") == "ACKNOWLEDGEMENT_STATE_ACKNOWLEDGED",
        obfuscated_account_id=(body.get("externalAccountIdentifiers") or {}).get("obfuscatedExternalAccountId") or "",
        raw=body,
    )


def subscription_acknowledge(*, product_id: str, purchase_token: str) -> None:
    """purchases.subscriptions.acknowledge: unacknowledged subscriptions are refunded by Play after 3 days."""
    subscriptions = _publisher().purchases().subscriptions()
    _call(
        subscriptions.acknowledge(
            packageName=settings.GOOGLE_PLAY_PACKAGE_NAME, subscriptionId=product_id, token=purchase_token, body={}
        )
    )


_certs_cache: dict[str, tuple[float, dict]] = {}
_certs_lock = threading.Lock()
CERTS_MAX_AGE_SECONDS = 3600


def _push_certs(*, kid: str) -> dict:
    """Google's token-signing certificates ({kid: PEM}), fetched with a timeout and kept an hour; fetched
    again at once when a token names a key not seen yet (Google rotates them)."""
    url = settings.GOOGLE_PUBSUB_CERTS_URL
    with _certs_lock:
        fetched_at, certs = _certs_cache.get(url, (0.0, {}))
    if kid in certs and time.monotonic() - fetched_at < CERTS_MAX_AGE_SECONDS:
        return certs
    try:
        response = requests.get(url, timeout=settings.GOOGLE_PLAY_TIMEOUT_SECONDS)
        response.raise_for_status()
        certs = response.json()
    except (requests.RequestException, ValueError) as exc:
        raise StoreUnavailable("Google's certificates could not be fetched") from exc
    if not isinstance(certs, dict):
        raise StoreUnavailable("Google's certificates are not a key map")
    with _certs_lock:
        _certs_cache[url] = (time.monotonic(), certs)
    return certs


def push_verify(*, authorization: str) -> dict:
    """Verifies the OIDC token of a Pub/Sub push: Google's signature, the configured audience, and the
    configured push service account. Returns its claims."""
    audience = settings.GOOGLE_PUBSUB_AUDIENCE
    account = settings.GOOGLE_PUBSUB_SERVICE_ACCOUNT
    if not audience or not account:
        raise StoreNotConfigured("GOOGLE_PUBSUB_AUDIENCE and GOOGLE_PUBSUB_SERVICE_ACCOUNT are required")
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise PushUnauthorized("no bearer token")
    try:
        # Refused before any certificate fetch when it cannot be the push's token at all.
        unverified = google_jwt.decode(token.strip(), verify=False)
    except (ValueError, google_auth_exceptions.GoogleAuthError) as exc:
        raise PushUnauthorized("not a JWT") from exc
    if unverified.get("aud") != audience or unverified.get("email") != account:
        raise PushUnauthorized("the token is for another audience or account")
    try:
        header = json.loads(base64.urlsafe_b64decode(token.split(".")[0] + "=="))
        certs = _push_certs(kid=str(header.get("kid") or "") if isinstance(header, dict) else "")
        claims = google_jwt.decode(token.strip(), certs=certs, audience=audience, clock_skew_in_seconds=10)
    except (ValueError, google_auth_exceptions.GoogleAuthError) as exc:
        raise PushUnauthorized(str(exc)[:200]) from exc
    if claims.get("iss") not in PUSH_ISSUERS:
        raise PushUnauthorized("the token was not issued by Google")
    if claims.get("email") != account or not claims.get("email_verified"):
        raise PushUnauthorized("the token is not the push service account's")
    return claims


def push_decode(*, body: dict) -> DeveloperNotification:
    """The developer notification inside a Pub/Sub push body ({message: {data, messageId}, subscription})."""
    message = body.get("message") if isinstance(body, dict) else None
    if not isinstance(message, dict) or not message.get("messageId"):
        raise GooglePlayError("not a Pub/Sub push", reason="malformed")
    try:
        data = json_loads_strict(base64.b64decode(message.get("data") or "").decode("utf-8"))
    except (binascii.Error, ValueError, RecursionError) as exc:
        raise GooglePlayError("the message data is not base64 JSON", reason="malformed") from exc
    if not isinstance(data, dict):
        raise GooglePlayError("the message data is not an object", reason="malformed")
    for kind, key, product_key in (
        ("oneTimeProduct", "oneTimeProductNotification", "sku"),
        ("subscription", "subscriptionNotification", "subscriptionId"),
        ("voidedPurchase", "voidedPurchaseNotification", None),
    ):
        part = data.get(key)
        if isinstance(part, dict):
            return DeveloperNotification(
                message_id=str(message["messageId"]),
                package_name=str(data.get("packageName") or ""),
                kind=kind,
                type=part.get("notificationType") if kind != "voidedPurchase" else part.get("refundType"),
                purchase_token=str(part.get("purchaseToken") or ""),
                product_id=str(part.get(product_key) or "") if product_key else "",
                raw=data,
            )
    return DeveloperNotification(
        message_id=str(message["messageId"]),
        package_name=str(data.get("packageName") or ""),
        kind="test" if "testNotification" in data else "unknown",
        type=None,
        purchase_token="",
        product_id="",
        raw=data,
    )
