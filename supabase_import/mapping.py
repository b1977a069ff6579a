"""Pure conversions of Supabase rows into this project's values; no database access here."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import unquote, urlsplit

from django.contrib.auth.hashers import UNUSABLE_PASSWORD_PREFIX
from django.utils.crypto import get_random_string

from accounts.models import PlanType
from billing.models import OrderStatus, SubscriptionStatus
from credits.models import TransactionType
from videos.models import VideoStatus

BCRYPT_HASH = re.compile(r"^\$2[abxy]\$\d\d\$[./A-Za-z0-9]{53}$")
PLAN_TYPES = {choice.value for choice in PlanType}
LEDGER_TYPES = {
    "purchase": TransactionType.PURCHASE,
    "usage": TransactionType.USAGE,
    "refund": TransactionType.REFUND,
    "bonus": TransactionType.BONUS,
    "subscription": TransactionType.SUBSCRIPTION,
}
ORDER_STATUSES = {choice.value for choice in OrderStatus}
SUBSCRIPTION_STATUSES = {
    "active": SubscriptionStatus.ACTIVE,
    "trialing": SubscriptionStatus.ACTIVE,
    "past_due": SubscriptionStatus.PAST_DUE,
    "unpaid": SubscriptionStatus.PAST_DUE,  # Stripe keeps an unpaid subscription; it is not over yet
    "canceled": SubscriptionStatus.CANCELLED,
    "cancelled": SubscriptionStatus.CANCELLED,
    "incomplete": SubscriptionStatus.INCOMPLETE,
    "incomplete_expired": SubscriptionStatus.EXPIRED,
}


def text(value, limit: int | None = None) -> str:
    """Text as PostgreSQL can store it: bytes from a SQL_ASCII source decoded leniently, NUL removed."""
    if value is None:
        return ""
    if type(value) is str and "\x00" not in value:  # the common case: PostgreSQL text decoded by psycopg
        return value[:limit] if limit else value
    if isinstance(value, bytes | bytearray | memoryview):
        value = bytes(value).decode("utf-8", errors="replace")
    value = str(value).replace("\x00", "")
    # A lone surrogate cannot be encoded to UTF-8: replace it rather than fail the batch.
    value = value.encode("utf-8", errors="replace").decode("utf-8")
    return value[:limit] if limit else value


def fold_email(value) -> str:
    return text(value).strip().lower()


def password_hash(*hashes) -> str | None:
    """The first bcrypt hash, as Django's BCryptPasswordHasher stores it; None when there is none."""
    for candidate in hashes:
        candidate = text(candidate).strip()
        if BCRYPT_HASH.match(candidate):
            # $2y$ (PHP) and $2x$ are the same algorithm as $2b$ for hashes a correct library produced.
            if candidate[2] in "xy":
                candidate = "$2b$" + candidate[4:]
            return "bcrypt$" + candidate
    return None


def unusable_password() -> str:
    return UNUSABLE_PASSWORD_PREFIX + get_random_string(40)


def leading_int(value, default: int) -> int:
    match = re.match(r"\s*(\d+)", text(value))
    return int(match.group(1)) if match else default


def split_name(full_name) -> tuple[str, str]:
    first, _, last = text(full_name).strip().partition(" ")
    return first[:100], last.strip()[:100]


def http_url(value, limit: int) -> str:
    value = text(value).strip()
    if len(value) > limit:
        return ""
    try:
        parts = urlsplit(value)
    except ValueError:
        return ""
    return value if parts.scheme in ("http", "https") and parts.hostname else ""


@dataclass
class Bucket:
    """URL prefixes under which an object is already in the configured storage, and its key there, and the
    hosts the copy task may fetch the others from (settings.KIE_FILE_HOSTS)."""

    prefixes: list[str] = field(default_factory=list)
    fetchable_hosts: set[str] = field(default_factory=set)
    # Import ready videos whose media cannot be fetched without their files (instead of stopping).
    skip_unfetchable: bool = False

    def fetchable(self, url: str) -> bool:
        try:
            host = (urlsplit(url).hostname or "").lower()
        except ValueError:
            return False
        return host in self.fetchable_hosts

    def key(self, url: str) -> str | None:
        if not url:
            return None
        bare = url.split("?", 1)[0].split("#", 1)[0]
        for prefix in self.prefixes:
            if bare.lower().startswith(prefix.lower()):
                key = unquote(bare[len(prefix):]).lstrip("/")
                if key and ".." not in key.split("/") and len(key) <= 500:
                    return key
        return None


@dataclass
class VideoMedia:
    status: str
    video_file: str = ""
    thumbnail_file: str = ""
    provider_video_url: str = ""
    provider_thumbnail_url: str = ""
    needs_copy: bool = False
    note: str = ""


def video_media(row: dict, bucket: Bucket) -> VideoMedia:
    """Status and files: in the bucket, kept in place; elsewhere, copied later by the copy task."""
    status = text(row.get("status")).lower()
    raw_video = text(row.get("download_url")).strip() or text(row.get("preview_url")).strip()
    raw_thumb = text(row.get("thumbnail_url")).strip()
    if status == "failed":
        return VideoMedia(status=VideoStatus.FAILED)
    if status == "processing":
        if text(row.get("task_id")).strip():
            # Still at KIE: generations_sync polls its record and settles it (or fails and refunds it).
            return VideoMedia(status=VideoStatus.PROCESSING)
        return VideoMedia(status=VideoStatus.FAILED, note="processing without a KIE task id: imported as failed")
    if status != "ready":
        return VideoMedia(status=VideoStatus.FAILED, note=f"unknown status {status!r}: imported as failed")
    video_key, thumb_key = bucket.key(raw_video), bucket.key(raw_thumb)
    if video_key and (thumb_key or not raw_thumb):
        return VideoMedia(status=VideoStatus.READY, video_file=video_key, thumbnail_file=thumb_key or "")
    video_url, thumb_url = http_url(raw_video, 2000), http_url(raw_thumb, 2000)
    if video_url and not bucket.fetchable(video_url):
        video_url = ""
        note = "media on a host the copy task may not fetch from (KIE_FILE_HOSTS): imported without files"
        if video_key:
            return VideoMedia(status=VideoStatus.READY, video_file=video_key, note=note)
        return VideoMedia(status=VideoStatus.READY, note=note)
    if thumb_url and not bucket.fetchable(thumb_url):
        thumb_url = ""
    if video_url:
        return VideoMedia(
            status=VideoStatus.STORING,
            provider_video_url=video_url,
            provider_thumbnail_url=thumb_url,
            needs_copy=True,
        )
    if video_key:  # the cover is unusable but the video is ours
        return VideoMedia(status=VideoStatus.READY, video_file=video_key, note="thumbnail URL unusable: dropped")
    return VideoMedia(status=VideoStatus.READY, note="ready without a usable media URL: imported without files")


@dataclass
class LedgerPlan:
    """A user's ledger as rows to insert (in order), the balance to set, and what needed saying."""

    rows: list[dict]
    balance: int
    notes: list[str]
    skipped: list[tuple[str, str]]  # (supabase transaction id, reason)


def ledger_plan(
    *, user_id, credits, opened_at, transactions: list[dict], videos: dict, subscriptions: set
) -> LedgerPlan:
    """One ledger row per Supabase transaction (running balance), plus an opening-balance adjustment where
    the profile's credits differ from the sum of its transactions, so the balance the user saw is kept.

    `videos` maps imported video ids to their status. A balance that dips below zero mid-history gets an
    opening row large enough to keep every running balance valid and a closing correction.
    """
    notes: list[str] = []
    skipped: list[tuple[str, str]] = []
    seen = [t for t in transactions if t["amount"]]
    skipped += [(str(t["id"]), "zero amount: the ledger records changes only") for t in transactions if not t["amount"]]
    shown = credits if credits is not None else 0
    target = max(shown, 0)
    if shown < 0:
        notes.append(f"negative balance {shown} imported as 0")
    total = sum(t["amount"] for t in seen)
    running, lowest = 0, 0
    for t in seen:
        running += t["amount"]
        lowest = min(lowest, running)
    opening, closing = target - total, 0
    if opening + lowest < 0:
        opening = -lowest
        closing = target - (opening + total)
        notes.append(
            f"the ledger (sum {total}, lowest running sum {lowest}) does not fit the balance {shown} with one "
            f"opening row: opening {opening}, closing correction {closing}"
        )
    first_at = min([t["created_at"] for t in seen if t["created_at"]] + ([opened_at] if opened_at else []), default=None)
    last_at = max([t["created_at"] for t in seen if t["created_at"]], default=first_at)

    rows: list[dict] = []
    balance = 0

    def add(**row):
        nonlocal balance
        balance += row["amount"]
        rows.append({"user_id": user_id, "balance_after": balance, **row})

    if opening:
        add(
            type=TransactionType.ADJUSTMENT,
            amount=opening,
            description=text(
                f"Opening balance from Supabase: the profile showed {shown} credits, its ledger summed to {total}", 255
            ),
            created_at=first_at,
            idempotency_key="supabase:opening",
        )

    # Refunds settle the charge of their video; a charge of a failed video is linked to it only when
    # its refund is there too (otherwise the audit would ask for a refund the user never had).
    refunded = {t["video_id"]: -t["amount"] for t in seen if t["transaction_type"] == "refund" and t["video_id"]}
    charged: dict = {}
    for t in seen:
        kind = LEDGER_TYPES.get(text(t["transaction_type"]).lower(), TransactionType.ADJUSTMENT)
        video_id = t["video_id"] if t["video_id"] in videos else None
        if t["video_id"] and video_id is None:
            notes.append(f"transaction {t['id']}: video {t['video_id']} not imported, link dropped")
        reverses = None
        if kind == TransactionType.USAGE and video_id is not None:
            open_refund = videos[video_id] in (VideoStatus.FAILED, VideoStatus.CANCELLED)
            if t["amount"] >= 0 or video_id in charged:
                video_id = None
            elif open_refund and refunded.get(video_id) != t["amount"]:
                notes.append(f"transaction {t['id']}: charge of failed video {video_id} never refunded, left unlinked")
                video_id = None
        elif kind == TransactionType.REFUND and video_id is not None:
            debit = charged.get(video_id)
            if debit is not None and debit["amount"] == -t["amount"] and not debit.get("_reversed"):
                debit["_reversed"] = True
                reverses = debit
        subscription_id = t["subscription_id"] if t["subscription_id"] in subscriptions else None
        add(
            type=kind,
            amount=t["amount"],
            description=text(t["description"], 255),
            video_id=video_id,
            subscription_id=subscription_id,
            created_at=t["created_at"] or first_at,
            idempotency_key=f"supabase:{t['id']}",
            _reverses=reverses,
        )
        if kind == TransactionType.USAGE and video_id is not None:
            charged[video_id] = rows[-1]
    if closing:
        add(
            type=TransactionType.ADJUSTMENT,
            amount=closing,
            description=text(f"Closing correction: the Supabase profile showed {shown} credits", 255),
            created_at=last_at,
            idempotency_key="supabase:closing",
        )
    return LedgerPlan(rows=rows, balance=balance, notes=notes, skipped=skipped)
