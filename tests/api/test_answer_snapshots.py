"""Every endpoint's answer, pinned: status, the headers a client reads, and the body text byte for byte.

Each case drives one fixed scenario through the API and compares its last answer with
`snapshots/<case>.txt`. Only volatile values are masked, in the raw text (numbered, so that two equal
ids stay equal), so key order, spacing and JSON types are pinned too. Re-record after an intended change:
`SNAPSHOT_UPDATE=1 pytest tests/api/test_answer_snapshots.py`, then review the diff of the files.
"""

import difflib
import hashlib
import hmac
import json
import os
import re
import time
import zoneinfo
from pathlib import Path

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import Profile
from billing.catalog import catalog_ensure
from videos.models import Video

SNAPSHOTS = Path(__file__).parent / "snapshots"
UPDATE = os.environ.get("SNAPSHOT_UPDATE") == "1"
HEADERS = ("Content-Type", "Allow", "Retry-After", "WWW-Authenticate", "Cache-Control")

EMAIL, OTHER_EMAIL, PASSWORD = "ada@example.com", "grace@example.com", "Str0ng-pass-123!"
GENERATE = {"prompt": "Slow soap cutting with crisp sounds", "triggers": ["soap"], "duration": 5}
MISSING = "00000000-0000-4000-8000-000000000000"  # well formed, and no row has it
KIE_TASK = "kie-task-snapshot-1"
CALLBACK_SECRET = "snapshot-callback-secret"
STRIPE = {"PAYMENT_PROVIDER": "stripe", "STRIPE_SECRET_KEY": "sk_test_snap", "STRIPE_PUBLISHABLE_KEY": "pk_test_snap",
          "STRIPE_WEBHOOK_SECRET": "whsec_snapshot"}

# --- masking --------------------------------------------------------------------------------------

NUMBERED = {  # each distinct value becomes <kind1>, <kind2>, ... in order of appearance
    "jwt": re.compile(r"eyJ[\w-]+\.[\w-]+\.[\w-]+"),
    "uuid": re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"),
    # Sandbox ids (sbx_pi_<hex>, sbx_sub_<hex>, ...) and generated request ids.
    "hex": re.compile(r"(?<=_)[0-9a-f]{32}\b|(?<=\")[0-9a-f]{32}(?=\")"),
}
FIXED = [
    # With any fraction (isoformat drops it when microseconds are 0); the zone suffix (Z or +00:00) stays.
    (re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?"), "<datetime>"),
    (re.compile(r"\b\d{4}-\d{2}-\d{2}\b"), "<date>"),
    # Sequence-backed ids (PostgreSQL sequences do not roll back), counters and timings.
    (re.compile(r'("(?:id|transactionId|retryAfter|uptime|latencyMs)": ?)\d+(?:\.\d+)?'), r"\1<n>"),
    # A ledger entry's id is its sequence number as a string (Express's uuid column): sequences don't roll back.
    (re.compile(r'("id": ?)"\d+"'), r'\1"<n>"'),
    (re.compile(r'(?<="X-CSRFTOKEN"\] = ")\w+'), "<csrf>"),  # the Swagger page's per-request token
]
ZONE_LINE = re.compile(r"(\s*)(?:- (\S+)|\* `(\S+)` - \S+)")
ZONES = zoneinfo.available_timezones()  # the system's tzdata: the schema's timezone enum varies by machine


def _zones_collapsed(text: str) -> str:
    lines: list[str] = []
    for line in text.split("\n"):
        match = ZONE_LINE.fullmatch(line)
        if match and (match[2] or match[3]) in ZONES:
            line = f"{match[1]}{'- ' if match[2] else '* '}<timezones>"
            if lines and lines[-1] == line:
                continue
        lines.append(line)
    return "\n".join(lines)


def masked(text: str) -> str:
    for kind, pattern in NUMBERED.items():
        seen: dict[str, str] = {}
        text = pattern.sub(lambda m, seen=seen, kind=kind: seen.setdefault(m[0], f"<{kind}{len(seen) + 1}>"), text)
    for pattern, replacement in FIXED:
        text = pattern.sub(replacement, text)
    return _zones_collapsed(text)


def rendered(response) -> str:
    head = [f"status: {response.status_code}"]
    for name in HEADERS:
        if response.has_header(name):
            value = "<n>" if name == "Retry-After" else response[name]
            if name == "Allow":  # a set in DRF's function views: its order varies between runs
                value = ", ".join(sorted(value.split(", ")))
            head.append(f"{name.lower()}: {value}")
    return "\n".join(head) + "\n\n" + masked(response.content.decode())


def readable(text: str) -> list[str]:
    """For the failure message only: one JSON member per line (the comparison is on the raw text)."""
    return re.sub(r'([,{\[])(?=")', r"\1\n", text).splitlines(keepends=True)


# --- scenario -------------------------------------------------------------------------------------


class Api:
    """An anonymous client plus the few steps that cases build on, all through the API itself."""

    def __init__(self, settings):
        self.settings = settings
        self.anon = APIClient()

    def signup(self, email: str = EMAIL, *, credits: int | None = None) -> APIClient:
        body = self.anon.post("/api/auth/register", {"email": email, "password": PASSWORD}, format="json").json()
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {body['data']['token']}")
        client.tokens = body["data"]
        client.user_id = body["data"]["user"]["id"]
        if credits is not None:  # more than the signup bonus, for cases with two videos
            Profile.objects.filter(user_id=client.user_id).update(credits=credits)
        return client

    def subscribed(self, client) -> APIClient:
        payment = client.post("/api/billing/subscription", {"plan": "pro"}, format="json").json()["data"]["payment"]
        assert client.post(payment["confirmUrl"], {}, format="json").status_code == 200
        return client

    def generate(self, client, **extra) -> str:
        response = client.post("/api/generate", {**GENERATE, **extra.pop("body", {})}, format="json", **extra)
        assert response.status_code == 200, response.content
        return response.json()["data"]["taskId"]

    def ready_video(self, client) -> str:
        video_id = self.generate(client)
        now = timezone.now()
        Video.objects.filter(pk=video_id).update(
            status="ready", provider_task_id=KIE_TASK, provider_state="success", submitted_at=now, completed_at=now,
            video_file=f"videos/{client.user_id}/{video_id}.mp4",
            thumbnail_file=f"thumbnails/{client.user_id}/{video_id}.jpg", file_size=2048,
        )
        return video_id

    def purchase(self, client, *, key: str = "snap-order-1", **body):
        body = {"package": "basic", "paymentMethod": "card", "amount": 100, **body}
        return client.post("/api/credits/purchase", body, format="json", HTTP_IDEMPOTENCY_KEY=key)

    def order(self, client) -> str:
        return self.purchase(client).json()["data"]["order"]["id"]

    def webhook(self, provider: str, *, secret: str, event_type: str = "customer.created", signature=None):
        body = json.dumps({"id": f"evt_snapshot_{provider}", "object": "event", "type": event_type,
                           "created": 1767225600, "data": {"object": {"id": "cus_snapshot"}}})
        stamp = int(time.time())
        mac = hmac.new(secret.encode(), f"{stamp}.{body}".encode(), hashlib.sha256).hexdigest()
        header = {"stripe": "HTTP_STRIPE_SIGNATURE", "sandbox": "HTTP_SANDBOX_SIGNATURE"}[provider]
        return self.anon.post(f"/api/billing/webhooks/{provider}/", body, content_type="application/json",
                              **{header: signature or f"t={stamp},v1={mac}"})

    def kie_callback(self, body, *, secret: str = CALLBACK_SECRET):
        return self.anon.post(f"/api/kie-callback?secret={secret}", body, format="json")


@pytest.fixture
def api(db, settings, tmp_path):
    settings.RATE_LIMITS = {"api": "100/m", "auth": "10/h", "generate": "5/h", "purchase": "10/d", "sensitive": "3/15m"}
    settings.SIGNUP_BONUS_CREDITS, settings.GENERATION_ESTIMATED_SECONDS = 20, 120  # the defaults, in bodies
    settings.GENERATION_COSTS = {"5:720p": 20, "5:1080p": 25, "8:720p": 30}
    settings.KIE_API_KEY = ""  # no KIE: the detailed health reports it down, the same everywhere
    settings.KIE_CALLBACK_SECRET = CALLBACK_SECRET
    settings.KIE_WEBHOOK_HMAC_KEY = ""
    settings.PAYMENT_PROVIDER, settings.SANDBOX_PAYMENTS_ENABLED = "sandbox", True
    settings.STRIPE_SECRET_KEY = settings.STRIPE_PUBLISHABLE_KEY = settings.STRIPE_WEBHOOK_SECRET = ""
    settings.STORAGES = {**settings.STORAGES, "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(tmp_path / "media"), "base_url": "http://testserver/media/"},
    }}
    catalog_ensure()
    return Api(settings)


def _stripe(api):
    for name, value in STRIPE.items():
        setattr(api.settings, name, value)


def _limited(api, scope: str, request):
    api.settings.RATE_LIMITS = {**api.settings.RATE_LIMITS, scope: "1/h"}
    request()
    return request()


def _reused_key(api, path: str, first: dict, second: dict):
    user = api.signup()
    user.post(path, first, format="json", HTTP_IDEMPOTENCY_KEY="snap-key-1")
    return user.post(path, second, format="json", HTTP_IDEMPOTENCY_KEY="snap-key-1")


def _callback(task_id: str = KIE_TASK) -> dict:
    return {"code": 200, "msg": "success", "data": {"task_id": task_id, "video_id": "kie-video-1",
            "video_url": "https://files.kie.example/v.mp4", "image_url": "https://files.kie.example/c.jpg"}}


def _submitted(api, user) -> str:
    video_id = api.generate(user)
    Video.objects.filter(pk=video_id).update(status="submitted", provider_task_id=KIE_TASK, submitted_at=timezone.now())
    return video_id


NO_CREDITS = {"body": {}}
WRONG_PASSWORD = {"currentPassword": "Wrong-pass-123!", "newPassword": "New-pass-456!", "confirmPassword": "New-pass-456!"}
NEW_PASSWORD = {**WRONG_PASSWORD, "currentPassword": PASSWORD}

CASES = {
    # platform
    "ping": lambda api: api.anon.get("/api/ping"),
    "health_root": lambda api: api.anon.get("/health"),
    "health": lambda api: api.anon.get("/api/health"),
    "health_live": lambda api: api.anon.get("/api/health/live"),
    "health_live_405": lambda api: api.anon.post("/api/health/live"),
    "health_ready": lambda api: api.anon.get("/api/health/ready"),
    "health_detailed": lambda api: api.anon.get("/api/health/detailed"),
    "schema": lambda api: api.anon.get("/api/schema/"),
    "docs": lambda api: api.anon.get("/api/docs/"),
    "redoc": lambda api: api.anon.get("/api/redoc/"),
    "unknown_api_route_404": lambda api: api.anon.get("/api/no-such-thing"),
    "unknown_route_404": lambda api: api.anon.get("/nowhere"),
    "method_not_allowed_405": lambda api: api.signup().delete("/api/user/profile"),
    "malformed_json_400": lambda api: api.anon.generic(
        "POST", "/api/auth/login", "{not json", content_type="application/json"),
    "form_body_415": lambda api: api.anon.post(
        "/api/auth/login", "email=a&password=b", content_type="application/x-www-form-urlencoded"),
    "payload_too_large_413": lambda api: (setattr(api.settings, "DATA_UPLOAD_MAX_MEMORY_SIZE", 1000), api.anon.post(
        "/api/auth/login", {"email": EMAIL, "password": "x" * 5000}, format="json"))[1],
    "internal_error_500": lambda api: (setattr(api.settings, "ROOT_URLCONF", "tests.api.urls_with_failure"),
                                       api.anon.get("/api/test-crash", HTTP_X_REQUEST_ID="snapshot-request-1"))[1],
    "no_token_401": lambda api: api.anon.get("/api/user/profile"),
    "bad_token_401": lambda api: APIClient(HTTP_AUTHORIZATION="Bearer not.a.jwt").get("/api/user/profile"),
    "rate_limited_429": lambda api: _limited(api, "api", lambda: api.anon.get("/api/user/profile")),
    # auth
    "auth_register": lambda api: api.anon.post(
        "/api/auth/register", {"email": EMAIL, "password": PASSWORD}, format="json"),
    "auth_register_400": lambda api: api.anon.post(
        "/api/auth/register", {"email": "not-an-email", "password": "short"}, format="json"),
    "auth_register_409": lambda api: (api.signup(), api.anon.post(
        "/api/auth/register", {"email": EMAIL, "password": PASSWORD}, format="json"))[1],
    "auth_login": lambda api: (api.signup(), api.anon.post(
        "/api/auth/login", {"email": EMAIL, "password": PASSWORD}, format="json"))[1],
    "auth_login_401": lambda api: (api.signup(), api.anon.post(
        "/api/auth/login", {"email": EMAIL, "password": "Wrong-pass-123!"}, format="json"))[1],
    "auth_login_429": lambda api: _limited(api, "auth", lambda: api.anon.post(
        "/api/auth/login", {"email": EMAIL, "password": PASSWORD}, format="json")),
    "auth_refresh": lambda api: api.anon.post(
        "/api/auth/refresh", {"refreshToken": api.signup().tokens["refreshToken"]}, format="json"),
    "auth_refresh_401_invalid": lambda api: api.anon.post(
        "/api/auth/refresh", {"refreshToken": "not.a.jwt"}, format="json"),
    "auth_refresh_401_missing": lambda api: api.anon.post("/api/auth/refresh", {}, format="json"),
    "auth_logout": lambda api: (lambda user: user.post(
        "/api/auth/logout", {"refreshToken": user.tokens["refreshToken"]}, format="json"))(api.signup()),
    "auth_logout_401": lambda api: api.anon.post("/api/auth/logout", {}, format="json"),
    # user
    "user_profile": lambda api: api.signup().get("/api/user/profile"),
    "user_profile_put": lambda api: api.signup().put(
        "/api/user/profile", {"first_name": "Ada", "last_name": "Lovelace", "bio": "Sound", "credits": 9}, format="json"),
    "user_profile_put_400": lambda api: api.signup().put(
        "/api/user/profile", {"avatar_url": "http://insecure.example/a.png"}, format="json"),
    "user_password": lambda api: api.signup().put("/api/user/password", NEW_PASSWORD, format="json"),
    "user_password_400": lambda api: api.signup().put("/api/user/password", WRONG_PASSWORD, format="json"),
    "user_password_429": lambda api: (lambda user: _limited(
        api, "sensitive", lambda: user.put("/api/user/password", WRONG_PASSWORD, format="json")))(api.signup()),
    "user_preferences": lambda api: api.signup().get("/api/user/preferences"),
    "user_preferences_put": lambda api: api.signup().put("/api/user/preferences", {
        "resolution": "1080p", "maxDuration": 8, "language": "fr-FR", "timezone": "Europe/Paris"}, format="json"),
    "user_preferences_put_400": lambda api: api.signup().put(
        "/api/user/preferences", {"maxDuration": 7, "language": "French"}, format="json"),
    "user_statistics": lambda api: (lambda user: (api.ready_video(user), api.generate(user),
                                                  user.get("/api/user/statistics"))[2])(api.signup(credits=100)),
    "user_account_delete": lambda api: (lambda user: (api.ready_video(user), user.delete(
        "/api/user/account", {"confirmDeletion": True}, format="json"))[1])(api.signup()),
    "user_account_delete_401": lambda api: api.anon.delete("/api/user/account"),
    # credits
    "credits_balance": lambda api: api.signup().get("/api/credits/balance"),
    "credits_history": lambda api: (lambda user: (api.generate(user), user.get("/api/credits/history"))[1])(api.signup()),
    "credits_history_page": lambda api: (lambda user: (api.generate(user), user.get(
        "/api/credits/history?page=2&limit=1"))[1])(api.signup()),
    "credits_usage": lambda api: (lambda user: (api.generate(user), user.get("/api/credits/usage?days=7"))[1])(
        api.signup()),
    "credits_usage_400": lambda api: api.signup().get("/api/credits/usage?days=0"),
    "credits_packages": lambda api: api.anon.get("/api/credits/packages"),
    "credits_purchase": lambda api: api.purchase(api.signup()),
    "credits_purchase_replay": lambda api: (lambda user: (api.purchase(user), api.purchase(user))[1])(api.signup()),
    "credits_purchase_400_package": lambda api: api.purchase(api.signup(), package="no-such-package"),
    "credits_purchase_400_amount": lambda api: api.purchase(api.signup(), amount=99),
    "credits_purchase_409": lambda api: _reused_key(
        api, "/api/credits/purchase", {"package": "basic", "paymentMethod": "card", "amount": 100},
        {"package": "standard", "paymentMethod": "card", "amount": 250}),
    "credits_purchase_429": lambda api: (lambda user: _limited(api, "purchase", lambda: api.purchase(user)))(api.signup()),
    # billing
    "billing_plans": lambda api: api.anon.get("/api/billing/plans"),
    "billing_subscription": lambda api: api.signup().get("/api/billing/subscription"),
    "billing_subscription_create": lambda api: api.signup().post(
        "/api/billing/subscription", {"plan": "pro", "paymentMethod": "card"}, format="json"),
    "billing_subscription_create_400": lambda api: api.signup().post(
        "/api/billing/subscription", {"plan": "no-such-plan"}, format="json"),
    "billing_subscription_create_again": lambda api: (lambda user: [user.post(
        "/api/billing/subscription", {"plan": "pro"}, format="json") for _ in range(2)][1])(api.signup()),
    "billing_subscription_create_409": lambda api: api.subscribed(api.signup()).post(
        "/api/billing/subscription", {"plan": "basic"}, format="json"),
    "billing_subscription_active": lambda api: api.subscribed(api.signup()).get("/api/billing/subscription"),
    "billing_subscription_active_cancel": lambda api: api.subscribed(api.signup()).post(
        "/api/billing/subscription/cancel"),
    "billing_subscription_after_create": lambda api: (lambda user: (user.post(
        "/api/billing/subscription", {"plan": "pro"}, format="json"), user.get("/api/billing/subscription"))[1])(
        api.signup()),
    "billing_subscription_cancel": lambda api: (lambda user: (user.post(
        "/api/billing/subscription", {"plan": "pro"}, format="json"), user.post("/api/billing/subscription/cancel"))[1])(
        api.signup()),
    "billing_subscription_cancel_404": lambda api: api.signup().post("/api/billing/subscription/cancel"),
    "billing_order": lambda api: (lambda user: user.get(f"/api/billing/orders/{api.order(user)}"))(api.signup()),
    "billing_order_404": lambda api: api.signup().get(f"/api/billing/orders/{MISSING}"),
    "billing_sandbox_confirm": lambda api: (lambda user: user.post(
        f"/api/billing/sandbox/confirm/{api.order(user)}", {}, format="json"))(api.signup()),
    "billing_sandbox_confirm_failed": lambda api: (lambda user: user.post(
        f"/api/billing/sandbox/confirm/{api.order(user)}", {"outcome": "failed"}, format="json"))(api.signup()),
    "billing_sandbox_confirm_404": lambda api: api.signup().post(
        f"/api/billing/sandbox/confirm/{MISSING}", {}, format="json"),
    "billing_balance_after_confirm": lambda api: (lambda user: (user.post(
        f"/api/billing/sandbox/confirm/{api.order(user)}", {}, format="json"), user.get("/api/credits/history"))[1])(
        api.signup()),
    "billing_webhook_sandbox": lambda api: api.webhook("sandbox", secret=api.settings.SANDBOX_WEBHOOK_SECRET),
    "billing_webhook_sandbox_400": lambda api: api.webhook("sandbox", secret="wrong", signature="t=1,v1=00"),
    "billing_webhook_stripe_503": lambda api: api.webhook("stripe", secret="whsec_snapshot"),
    "billing_webhook_stripe": lambda api: (_stripe(api), api.webhook("stripe", secret="whsec_snapshot"))[1],
    "billing_webhook_stripe_400": lambda api: (_stripe(api), api.webhook("stripe", secret="wrong"))[1],
    # generation
    "generate": lambda api: api.signup().post("/api/generate", GENERATE, format="json"),
    "generate_replay": lambda api: (lambda user: [user.post(
        "/api/generate", GENERATE, format="json", HTTP_IDEMPOTENCY_KEY="snap-gen-1") for _ in range(2)][1])(api.signup()),
    "generate_400": lambda api: api.signup().post("/api/generate", {"prompt": "short", "duration": 6}, format="json"),
    "generate_401": lambda api: api.anon.post("/api/generate", GENERATE, format="json"),
    "generate_402": lambda api: (lambda user: (Profile.objects.filter(user_id=user.user_id).update(credits=1),
                                               user.post("/api/generate", GENERATE, format="json"))[1])(api.signup()),
    "generate_403": lambda api: api.signup().post("/api/generate", {**GENERATE, "quality": "1080p"}, format="json"),
    "generate_409": lambda api: _reused_key(api, "/api/generate", GENERATE, {**GENERATE, "duration": 8}),
    "generate_429": lambda api: (lambda user: _limited(
        api, "generate", lambda: user.post("/api/generate", GENERATE, format="json")))(api.signup()),
    "generate_status": lambda api: (lambda user: user.get(f"/api/generate/status/{api.generate(user)}"))(api.signup()),
    "generate_status_ready": lambda api: (lambda user: user.get(f"/api/generate/status/{api.ready_video(user)}"))(
        api.signup()),
    "generate_status_by_kie_task": lambda api: (lambda user: (_submitted(api, user), user.get(
        f"/api/generate/status/{KIE_TASK}"))[1])(api.signup()),
    "generate_status_404": lambda api: api.signup().get(f"/api/generate/status/{MISSING}"),
    "generate_cancel": lambda api: (lambda user: user.post(f"/api/generate/cancel/{api.generate(user)}"))(api.signup()),
    "generate_status_cancelled": lambda api: (lambda user: (lambda video_id: (
        user.post(f"/api/generate/cancel/{video_id}"), user.get(f"/api/generate/status/{video_id}"))[1])(
        api.generate(user)))(api.signup()),
    "generate_cancel_404": lambda api: api.signup().post("/api/generate/cancel/no-such-task"),
    "generate_cancel_409": lambda api: (lambda user: user.post(f"/api/generate/cancel/{_submitted(api, user)}"))(
        api.signup()),
    "kie_callback": lambda api: (_submitted(api, api.signup()), api.kie_callback(_callback()))[1],
    "kie_callback_unknown_task": lambda api: api.kie_callback(_callback("kie-task-unknown")),
    "kie_callback_400": lambda api: api.kie_callback({"code": "x", "data": []}),
    "kie_callback_401": lambda api: api.kie_callback(_callback(), secret="wrong"),
    # videos
    "videos": lambda api: (lambda user: (api.ready_video(user), api.generate(user), user.get("/api/videos"))[2])(
        api.signup(credits=100)),
    "videos_page": lambda api: (lambda user: (api.ready_video(user), api.generate(user), user.get(
        "/api/videos?page=2&limit=1"))[2])(api.signup(credits=100)),
    "videos_401": lambda api: api.anon.get("/api/videos"),
    "videos_stats": lambda api: (lambda user: (api.ready_video(user), api.generate(user), user.get(
        "/api/videos/stats"))[2])(api.signup(credits=100)),
    "video": lambda api: (lambda user: user.get(f"/api/videos/{api.ready_video(user)}"))(api.signup()),
    "video_404": lambda api: api.signup().get(f"/api/videos/{MISSING}"),
    "video_of_another_user_404": lambda api: api.signup(OTHER_EMAIL).get(f"/api/videos/{api.ready_video(api.signup())}"),
    "video_favorite": lambda api: (lambda user: user.put(
        f"/api/videos/{api.ready_video(user)}/favorite", {"favorite": True}, format="json"))(api.signup()),
    "video_favorite_400": lambda api: (lambda user: user.put(
        f"/api/videos/{api.ready_video(user)}/favorite", {"favorite": "maybe"}, format="json"))(api.signup()),
    "video_favorite_404": lambda api: api.signup().put(f"/api/videos/{MISSING}/favorite", {"favorite": True}, format="json"),
    "video_delete": lambda api: (lambda user: user.delete(f"/api/videos/{api.ready_video(user)}"))(api.signup()),
    "video_delete_404": lambda api: api.signup().delete(f"/api/videos/{MISSING}"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_answer_matches_snapshot(api, case):
    actual = rendered(CASES[case](api))
    path = SNAPSHOTS / f"{case}.txt"
    if UPDATE:
        SNAPSHOTS.mkdir(exist_ok=True)
        path.write_bytes(actual.encode())
        return
    assert path.exists(), f"no snapshot for {case}: record it with SNAPSHOT_UPDATE=1"
    expected = path.read_bytes().decode()
    diff = "".join(difflib.unified_diff(readable(expected), readable(actual), "recorded", "now", n=2))
    assert actual == expected, f"{case}: the answer changed\n{diff}"


def test_masking_keeps_equal_values_equal_and_the_zone_suffix():
    text = '{"a":"11111111-2222-4333-8444-555555555555","b":"11111111-2222-4333-8444-555555555555","t":"2026-01-02T03:04:05.123456Z"}'
    assert masked(text) == '{"a":"<uuid1>","b":"<uuid1>","t":"<datetime>Z"}'
