"""The App Store through Apple's app-store-server-library: StoreKit 2 signed transactions and App Store
Server Notifications V2 verified against Apple's root certificates (APPLE_ROOT_CERTIFICATES), the bundle id
and the environment; the App Store Server API for re-checking a transaction (store_reconcile)."""

import functools
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime

import jwt
from appstoreserverlibrary.api_client import APIException, AppStoreServerAPIClient
from appstoreserverlibrary.models.Environment import Environment
from appstoreserverlibrary.signed_data_verifier import (
    SignedDataVerifier,
    VerificationException,
    VerificationStatus,
)
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from django.conf import settings

from billing.stores import StoreError, StoreNotConfigured, StoreUnavailable

CONSUMABLE = "Consumable"

_REASONS = {
    VerificationStatus.INVALID_APP_IDENTIFIER: "wrong_app",
    VerificationStatus.INVALID_ENVIRONMENT: "wrong_environment",
    VerificationStatus.INVALID_CERTIFICATE: "bad_signature",
    VerificationStatus.INVALID_CHAIN_LENGTH: "bad_signature",
    VerificationStatus.INVALID_CHAIN: "bad_signature",
    VerificationStatus.VERIFICATION_FAILURE: "bad_signature",
}


class AppleVerificationError(StoreError):
    """The signed data is not Apple's, or not for this app and environment (reason says which)."""


@dataclass(frozen=True)
class AppleTransaction:
    transaction_id: str
    original_transaction_id: str
    product_id: str
    type: str  # Consumable, Auto-Renewable Subscription, ...
    app_account_token: uuid.UUID | None
    environment: str
    purchased_at: datetime | None
    expires_at: datetime | None
    revoked_at: datetime | None
    quantity: int
    raw: dict = field(repr=False, compare=False)


@dataclass(frozen=True)
class AppleNotification:
    notification_uuid: str
    type: str  # REFUND, DID_RENEW, ...
    subtype: str
    transaction: AppleTransaction | None
    raw: dict = field(repr=False, compare=False)


def _moment(milliseconds) -> datetime | None:
    return datetime.fromtimestamp(int(milliseconds) / 1000, tz=UTC) if milliseconds else None


def _der(data: bytes) -> bytes:
    if b"-----BEGIN CERTIFICATE-----" in data:
        return x509.load_pem_x509_certificate(data).public_bytes(Encoding.DER)
    return data


def _root_certificates(sources) -> tuple[bytes, ...]:
    """APPLE_ROOT_CERTIFICATES: file paths (DER or PEM; a comma-separated string or a list) or raw bytes."""
    if isinstance(sources, str):
        sources = [part.strip() for part in sources.split(",") if part.strip()]
    return _root_certificates_read(tuple(sources or ()))


@functools.lru_cache(maxsize=4)
def _root_certificates_read(sources: tuple) -> tuple[bytes, ...]:
    # Read once per process, not on every verification (a rotated file is read after a restart).
    certificates = []
    for source in sources:
        if isinstance(source, bytes):
            certificates.append(_der(source))
        else:
            with open(source, "rb") as handle:
                certificates.append(_der(handle.read()))
    return tuple(certificates)


def _environment() -> Environment:
    try:
        return Environment(settings.APPLE_ENVIRONMENT)
    except ValueError:
        raise StoreNotConfigured(f"APPLE_ENVIRONMENT {settings.APPLE_ENVIRONMENT!r} is not an App Store environment")


@functools.lru_cache(maxsize=4)
def _verifier_for(roots: tuple[bytes, ...], online: bool, environment: Environment, bundle_id: str, app_id) -> SignedDataVerifier:
    return SignedDataVerifier(list(roots), online, environment, bundle_id, app_id)


def _verifier() -> SignedDataVerifier:
    if not settings.APPLE_BUNDLE_ID or not settings.APPLE_ROOT_CERTIFICATES:
        raise StoreNotConfigured("APPLE_BUNDLE_ID and APPLE_ROOT_CERTIFICATES are required")
    environment = _environment()
    if environment == Environment.PRODUCTION and not settings.APPLE_APP_APPLE_ID:
        raise StoreNotConfigured("APPLE_APP_APPLE_ID is required in the Production environment")
    roots = _root_certificates(settings.APPLE_ROOT_CERTIFICATES)
    app_id = int(settings.APPLE_APP_APPLE_ID) if settings.APPLE_APP_APPLE_ID else None
    return _verifier_for(roots, bool(settings.APPLE_ONLINE_CHECKS), environment, settings.APPLE_BUNDLE_ID, app_id)


def _verification_error(exc: VerificationException) -> StoreError:
    if exc.status == VerificationStatus.RETRYABLE_VERIFICATION_FAILURE:
        return StoreUnavailable("Apple's certificate status service could not be reached")
    return AppleVerificationError(exc.status.name, reason=_REASONS.get(exc.status, "bad_signature"))


def _claims(signed: str) -> dict:
    """The payload of a JWS the library has just verified (kept as the store described it)."""
    return jwt.decode(signed, options={"verify_signature": False})


def _transaction(signed: str, verifier: SignedDataVerifier) -> AppleTransaction:
    try:
        decoded = verifier.verify_and_decode_signed_transaction(signed)
    except VerificationException as exc:
        raise _verification_error(exc) from exc
    if not decoded.transactionId or not decoded.productId:
        raise AppleVerificationError("the transaction has no id or product", reason="bad_signature")
    try:
        token = uuid.UUID(decoded.appAccountToken) if decoded.appAccountToken else None
    except ValueError:
        token = None
    return AppleTransaction(
        transaction_id=decoded.transactionId,
        original_transaction_id=decoded.originalTransactionId or decoded.transactionId,
        product_id=decoded.productId,
        type=decoded.rawType or "",
        app_account_token=token,
        environment=decoded.rawEnvironment or "",
        purchased_at=_moment(decoded.purchaseDate),
        expires_at=_moment(decoded.expiresDate),
        revoked_at=_moment(decoded.revocationDate),
        quantity=int(decoded.quantity or 1),
        raw=_claims(signed),
    )


def transaction_verify(*, signed_transaction: str) -> AppleTransaction:
    """Verifies a StoreKit 2 signed transaction (JWS) and returns what it says."""
    return _transaction(signed_transaction, _verifier())


def notification_verify(*, signed_payload: str) -> AppleNotification:
    """Verifies an App Store Server Notification V2 `signedPayload` and its signed transaction, if any."""
    verifier = _verifier()
    try:
        decoded = verifier.verify_and_decode_notification(signed_payload)
    except VerificationException as exc:
        raise _verification_error(exc) from exc
    if not decoded.notificationUUID:
        raise AppleVerificationError("the notification has no notificationUUID", reason="bad_signature")
    signed_transaction = decoded.data.signedTransactionInfo if decoded.data else None
    return AppleNotification(
        notification_uuid=decoded.notificationUUID,
        type=decoded.rawNotificationType or "",
        subtype=decoded.rawSubtype or "",
        transaction=_transaction(signed_transaction, verifier) if signed_transaction else None,
        raw=_claims(signed_payload),
    )


def transaction_fetch(*, transaction_id: str) -> AppleTransaction:
    """Asks the App Store Server API for a transaction as Apple sees it now (refunds included)."""
    if not (settings.APPLE_API_KEY_ID and settings.APPLE_API_ISSUER_ID and settings.APPLE_API_PRIVATE_KEY_FILE):
        raise StoreNotConfigured("APPLE_API_KEY_ID, APPLE_API_ISSUER_ID and APPLE_API_PRIVATE_KEY_FILE are required")
    with open(settings.APPLE_API_PRIVATE_KEY_FILE, "rb") as handle:
        signing_key = handle.read()
    client = AppStoreServerAPIClient(
        signing_key, settings.APPLE_API_KEY_ID, settings.APPLE_API_ISSUER_ID, settings.APPLE_BUNDLE_ID, _environment()
    )
    try:
        response = client.get_transaction_info(transaction_id)
    except APIException as exc:
        if exc.http_status_code in (400, 404):
            raise AppleVerificationError(f"Apple does not know transaction {transaction_id}", reason="not_found")
        raise StoreUnavailable(f"App Store Server API: HTTP {exc.http_status_code}") from exc
    except Exception as exc:  # requests' connection errors and timeouts
        raise StoreUnavailable(f"App Store Server API: {exc.__class__.__name__}") from exc
    return _transaction(response.signedTransactionInfo, _verifier())
