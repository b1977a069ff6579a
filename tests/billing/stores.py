"""Offline stand-ins for the stores, built the way the stores sign (no code under test used):

- an App Store certificate chain (root, intermediate, leaf with Apple's marker extensions) generated here,
  signing StoreKit 2 transactions and App Store Server Notifications V2 that Apple's own library verifies;
- a fake Google Play Developer API (an HTTP server speaking androidpublisher v3 and the OAuth token
  endpoint the service account uses);
- Pub/Sub push OIDC tokens signed with a local key whose certificate is served at the certs URL.
"""

import base64
import datetime
import json
import re
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID
from django.db import connection
from google.auth import crypt
from google.auth import jwt as google_jwt
from rest_framework.test import APIClient

from accounts.models import Profile
from accounts.services import auth_tokens_issue

BUNDLE_ID = "com.aiasmr.app"
PACKAGE_NAME = "com.aiasmr.android"
APPLE_MARKER_LEAF = x509.ObjectIdentifier("1.2.840.113635.100.6.11.1")
APPLE_MARKER_INTERMEDIATE = x509.ObjectIdentifier("1.2.840.113635.100.6.2.1")
PUSH_AUDIENCE = "https://api.example.test/api/billing/google/notifications"
PUSH_ACCOUNT = "rtdn-push@aiasmr-test.iam.gserviceaccount.com"
CERTS_URL = "https://certs.example.test/oauth2/v1/certs"


def balance(user) -> int:
    return Profile.objects.get(user=user).credits


def client_for(user) -> APIClient:
    """An API client signed in as `user` (its `.user` is that user)."""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {auth_tokens_issue(user=user)['token']}")
    client.user = user
    return client


def at_once(*, user, times: int, send) -> list[int]:
    """`send(client)` from `times` threads released together, each with its own client and database
    connection; the status codes they got."""
    barrier = threading.Barrier(times)
    answers = []

    def present():
        try:
            client = client_for(user)
            barrier.wait()
            answers.append(send(client).status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=present) for _ in range(times)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return answers


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _certificate(*, subject, issuer, public_key, signing_key, ca: bool, issuer_key=None, marker=None):
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(subject))
        .issuer_name(_name(issuer))
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(datetime.datetime(2020, 1, 1, tzinfo=datetime.UTC))
        .not_valid_after(datetime.datetime(2045, 1, 1, tzinfo=datetime.UTC))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None if ca else None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=not ca, content_commitment=False, key_encipherment=False, data_encipherment=False,
                key_agreement=False, key_cert_sign=ca, crl_sign=ca, encipher_only=False, decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key or public_key), critical=False)
    )
    if marker is not None:
        builder = builder.add_extension(x509.UnrecognizedExtension(marker, b"\x05\x00"), critical=False)
    return builder.sign(signing_key, hashes.SHA256())


class AppleChain:
    """A root, an intermediate and a leaf, as Apple's: the leaf signs (ES256, x5c = leaf, intermediate, root)."""

    def __init__(self, name: str = "Test Apple"):
        self.root_key = ec.generate_private_key(ec.SECP256R1())
        self.intermediate_key = ec.generate_private_key(ec.SECP256R1())
        self.leaf_key = ec.generate_private_key(ec.SECP256R1())
        self.root = _certificate(
            subject=f"{name} Root CA", issuer=f"{name} Root CA", public_key=self.root_key.public_key(),
            signing_key=self.root_key, ca=True,
        )
        self.intermediate = _certificate(
            subject=f"{name} WWDR", issuer=f"{name} Root CA", public_key=self.intermediate_key.public_key(),
            signing_key=self.root_key, issuer_key=self.root_key.public_key(), ca=True, marker=APPLE_MARKER_INTERMEDIATE,
        )
        self.leaf = _certificate(
            subject=f"{name} StoreKit Signing", issuer=f"{name} WWDR", public_key=self.leaf_key.public_key(),
            signing_key=self.intermediate_key, issuer_key=self.intermediate_key.public_key(), ca=False,
            marker=APPLE_MARKER_LEAF,
        )

    def root_der(self) -> bytes:
        return self.root.public_bytes(serialization.Encoding.DER)

    def sign(self, payload: dict) -> str:
        x5c = [
            base64.b64encode(cert.public_bytes(serialization.Encoding.DER)).decode()
            for cert in (self.leaf, self.intermediate, self.root)
        ]
        return jwt.encode(payload, self.leaf_key, algorithm="ES256", headers={"x5c": x5c})


def now_ms() -> int:
    return int(time.time() * 1000)


def apple_transaction(
    *, product_id: str, app_account_token, transaction_id: str | None = None, original_transaction_id=None,
    type_: str = "Consumable", bundle_id: str = BUNDLE_ID, environment: str = "Sandbox", purchase_ms=None,
    expires_ms=None, revocation_ms=None,
) -> dict:
    transaction_id = transaction_id or str(2000000000000000 + uuid.uuid4().int % 10**12)
    payload = {
        "transactionId": transaction_id,
        "originalTransactionId": original_transaction_id or transaction_id,
        "bundleId": bundle_id,
        "productId": product_id,
        "purchaseDate": purchase_ms or now_ms(),
        "originalPurchaseDate": purchase_ms or now_ms(),
        "quantity": 1,
        "type": type_,
        "inAppOwnershipType": "PURCHASED",
        "signedDate": now_ms(),
        "environment": environment,
        "transactionReason": "PURCHASE",
        "storefront": "USA",
        "price": 19990,
        "currency": "USD",
    }
    if app_account_token is not None:
        payload["appAccountToken"] = str(app_account_token)
    if expires_ms is not None:
        payload["expiresDate"] = expires_ms
    if revocation_ms is not None:
        payload["revocationDate"] = revocation_ms
        payload["revocationReason"] = 0
    return payload


def apple_notification(chain: AppleChain, type_: str, transaction: dict, *, subtype=None, uuid_=None,
                       bundle_id: str = BUNDLE_ID) -> str:
    payload = {
        "notificationType": type_,
        "notificationUUID": uuid_ or str(uuid.uuid4()),
        "version": "2.0",
        "signedDate": now_ms(),
        "data": {
            "bundleId": bundle_id,
            "bundleVersion": "1",
            "environment": "Sandbox",
            "signedTransactionInfo": chain.sign(transaction),
            "status": 1,
        },
    }
    if subtype:
        payload["subtype"] = subtype
    return chain.sign(payload)


# --- Google Play -----------------------------------------------------------------------------------------


class FakePlay:
    """The Play Developer API (androidpublisher v3) and the OAuth token endpoint, over HTTP on 127.0.0.1."""

    PRODUCT = re.compile(r"^/androidpublisher/v3/applications/([^/]+)/purchases/products/([^/]+)/tokens/([^/:]+)(:\w+)?$")
    SUBSCRIPTION = re.compile(r"^/androidpublisher/v3/applications/([^/]+)/purchases/subscriptionsv2/tokens/([^/:]+)$")
    ACKNOWLEDGE = re.compile(
        r"^/androidpublisher/v3/applications/([^/]+)/purchases/subscriptions/([^/]+)/tokens/([^/:]+):acknowledge$"
    )

    def __init__(self):
        self.products: dict[tuple[str, str, str], dict] = {}  # (package, product, token) -> purchase
        self.subscriptions: dict[tuple[str, str], dict] = {}
        self.calls: list[tuple[str, str]] = []
        self.lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _answer(self, status: int, body: dict | None):
                data = json.dumps(body).encode() if body is not None else b""
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self):  # noqa: N802
                fake._record("GET", self.path)
                if not self.headers.get("Authorization", "").startswith("Bearer play-access-"):
                    return self._answer(401, {"error": {"code": 401}})
                path = self.path.split("?")[0]
                match = fake.PRODUCT.match(path)
                if match and not match.group(4):
                    purchase = fake.products.get(match.groups()[:3])
                    return self._answer(200, purchase) if purchase else self._answer(404, {"error": {"code": 404}})
                match = fake.SUBSCRIPTION.match(path)
                if match:
                    purchase = fake.subscriptions.get(match.groups())
                    return self._answer(200, purchase) if purchase else self._answer(404, {"error": {"code": 404}})
                return self._answer(404, {"error": {"code": 404}})

            def do_POST(self):  # noqa: N802
                length = int(self.headers.get("Content-Length") or 0)
                self.rfile.read(length)
                path = self.path.split("?")[0]
                fake._record("POST", path)
                if path == "/token":
                    return self._answer(200, {"access_token": f"play-access-{uuid.uuid4().hex}", "expires_in": 3600,
                                              "token_type": "Bearer"})
                match = fake.PRODUCT.match(path)
                if match and match.group(4) == ":consume":
                    with fake.lock:
                        purchase = fake.products.get(match.groups()[:3])
                        if purchase is None:
                            return self._answer(404, {"error": {"code": 404}})
                        purchase["consumptionState"] = 1
                    return self._answer(200, None)
                match = fake.ACKNOWLEDGE.match(path)
                if match:
                    package, _, token = match.groups()
                    purchase = fake.subscriptions.get((package, token))
                    if purchase is not None:
                        purchase["acknowledgementState"] = "ACKNOWLEDGEMENT_STATE_ACKNOWLEDGED"
                    return self._answer(200, None)
                return self._answer(404, {"error": {"code": 404}})

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def _record(self, method: str, path: str) -> None:
        with self.lock:
            self.calls.append((method, path))

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def start(self):
        self.thread.start()
        return self

    def stop(self):
        self.server.shutdown()
        self.server.server_close()

    def add_product(self, *, product_id: str, token: str, account_id, package: str = PACKAGE_NAME, state: int = 0,
                    consumed: int = 0, order_id: str | None = None) -> dict:
        purchase = {
            "kind": "androidpublisher#productPurchase",
            "purchaseTimeMillis": str(now_ms()),
            "purchaseState": state,
            "consumptionState": consumed,
            "orderId": order_id or f"GPA.3301-{uuid.uuid4().int % 10**4:04d}-{uuid.uuid4().int % 10**4:04d}",
            "purchaseType": 0,
            "acknowledgementState": 0,
            "productId": product_id,
            "quantity": 1,
            "regionCode": "US",
        }
        if account_id is not None:
            purchase["obfuscatedExternalAccountId"] = str(account_id)
        self.products[(package, product_id, token)] = purchase
        return purchase

    def add_subscription(self, *, product_id: str, token: str, account_id, order_id: str, expiry: datetime.datetime,
                         state: str = "SUBSCRIPTION_STATE_ACTIVE", package: str = PACKAGE_NAME) -> dict:
        purchase = {
            "kind": "androidpublisher#subscriptionPurchaseV2",
            "regionCode": "US",
            "startTime": "2026-01-01T00:00:00Z",
            "subscriptionState": state,
            "latestOrderId": order_id,
            "acknowledgementState": "ACKNOWLEDGEMENT_STATE_PENDING",
            "externalAccountIdentifiers": {"obfuscatedExternalAccountId": str(account_id)},
            "lineItems": [{"productId": product_id, "expiryTime": expiry.strftime("%Y-%m-%dT%H:%M:%S.%fZ")}],
        }
        self.subscriptions[(package, token)] = purchase
        return purchase

    def service_account_file(self, directory) -> str:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ).decode()
        path = directory / "play-service-account.json"
        path.write_text(json.dumps({
            "type": "service_account",
            "project_id": "aiasmr-test",
            "private_key_id": "play-key-1",
            "private_key": pem,
            "client_email": "play-api@aiasmr-test.iam.gserviceaccount.com",
            "client_id": "1234567890",
            "token_uri": f"{self.base_url}/token",
        }))
        return str(path)


class PushSigner:
    """Signs Pub/Sub push OIDC tokens with a local RSA key; `certs` is what the certs URL serves."""

    def __init__(self, key_id: str = "push-key-1"):
        self.key_id = key_id
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.private_pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        certificate = (
            x509.CertificateBuilder()
            .subject_name(_name("push"))
            .issuer_name(_name("push"))
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(datetime.datetime(2020, 1, 1, tzinfo=datetime.UTC))
            .not_valid_after(datetime.datetime(2045, 1, 1, tzinfo=datetime.UTC))
            .sign(key, hashes.SHA256())
        )
        self.certs = {key_id: certificate.public_bytes(serialization.Encoding.PEM).decode()}

    def token(self, *, audience: str = PUSH_AUDIENCE, email: str = PUSH_ACCOUNT, issuer="https://accounts.google.com",
              expires_in: int = 3600) -> str:
        signer = crypt.RSASigner.from_string(self.private_pem, key_id=self.key_id)
        now = int(time.time())
        claims = {"iss": issuer, "aud": audience, "sub": "1122334455", "email": email, "email_verified": True,
                  "iat": now, "exp": now + expires_in}
        return google_jwt.encode(signer, claims).decode()


def push_body(data: dict, *, message_id: str | None = None) -> dict:
    return {
        "message": {
            "data": base64.b64encode(json.dumps(data).encode()).decode(),
            "messageId": message_id or str(uuid.uuid4().int % 10**16),
            "publishTime": "2026-11-30T06:00:00Z",
        },
        "subscription": "projects/aiasmr-test/subscriptions/play-rtdn",
    }
