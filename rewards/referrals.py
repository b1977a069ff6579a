"""Referrals: a code per user, the referred user attached at registration, rewards to the referrer.

A reward is granted once per referred user and event (unique (referral, event), and the ledger key
`referral:<referral id>:<event>`), only from a verified fact: the registration itself, or a payment
billing completed from the provider's or the store's verified event. A refund of that payment claws
the reward back once. The referrer's monthly earnings are capped (settings.REFERRAL_MONTHLY_CAP_CREDITS).
"""

import secrets
import uuid

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q, Sum
from django.utils import timezone

from accounts.models import User
from accounts.services import profile_lock
from aiasmr.api.exceptions import ApiError
from aiasmr.api.logging import business_log
from credits.models import TransactionType
from credits.services import credits_clawback, credits_grant
from rewards.models import Referral, ReferralCode, ReferralEvent, ReferralGrant, ReferralRewardRule

# No 0/O or 1/I: codes are read aloud and typed.
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 8  # 32^8 ~ 10^12: not guessable by walking the space


class InvalidReferralCode(ApiError):
    code = "INVALID_REFERRAL_CODE"


def referral_link(*, code: str) -> str:
    return settings.REFERRAL_LINK_TEMPLATE.replace("{code}", code)


def referral_code_get(*, user: User) -> ReferralCode:
    """The user's referral code, created on first use."""
    existing = ReferralCode.objects.filter(user=user).first()
    if existing is not None:
        return existing
    for _ in range(5):
        code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
        try:
            with transaction.atomic():
                return ReferralCode.objects.create(user=user, code=code)
        except IntegrityError:
            existing = ReferralCode.objects.filter(user=user).first()
            if existing is not None:
                return existing  # a concurrent request created it
    raise RuntimeError("Could not allocate a unique referral code.")


def _normalized(code: str) -> str:
    return (code or "").strip().upper()


def referral_code_check(*, code: str) -> ReferralCode:
    """The referral code `code` (case-insensitive), or INVALID_REFERRAL_CODE."""
    found = ReferralCode.objects.select_related("user").filter(code=_normalized(code)).first()
    if found is None or not found.user.is_active:
        raise InvalidReferralCode(details={"referralCode": code})
    return found


def _refers_back(*, referrer: User, user: User) -> bool:
    """True when `user` is up `referrer`'s chain of referrers (a loop)."""
    seen: set = set()
    current = referrer.pk
    while current is not None and current not in seen:
        if current == user.pk:
            return True
        seen.add(current)
        current = Referral.objects.filter(referred_user_id=current).values_list("referrer_id", flat=True).first()
    return False


def referral_attach(*, user: User, code: str) -> Referral | None:
    """Records that `code`'s owner referred `user` and grants the registration reward.

    Self-referral and loops are refused (None, nothing granted); a user is referred at most once.
    """
    found = referral_code_check(code=code)
    referrer = found.user
    if referrer.pk == user.pk or _refers_back(referrer=referrer, user=user):
        business_log.info("referral refused", extra={"event": "referral_refused", "user": str(user.pk)})
        return None
    try:
        with transaction.atomic():
            referral = Referral.objects.create(referrer=referrer, referred_user=user, code=found.code)
    except IntegrityError:
        return None  # already referred
    referral_reward_grant(referred_user=user, event=ReferralEvent.REGISTRATION)
    return referral


def referral_month_earned(*, referrer: User) -> int:
    """Referral credits the referrer kept this calendar month (clawed-back rewards do not count)."""
    start = timezone.now().replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    return (
        ReferralGrant.objects.filter(referral__referrer=referrer, created_at__gte=start, clawed_back_at__isnull=True)
        .aggregate(total=Sum("credits"))["total"]
        or 0
    )


def referral_reward_grant(
    *, referred_user: User, event: str, order_id: uuid.UUID | None = None
) -> ReferralGrant | None:
    """Grants the referrer the reward of `event` for `referred_user`, once. None when nothing is due
    (not referred, rule inactive, already granted, or the monthly cap reached)."""
    referral = Referral.objects.select_related("referrer").filter(referred_user_id=referred_user.pk).first()
    rule = ReferralRewardRule.objects.filter(event=event, is_active=True).first()
    if referral is None or rule is None or rule.credits <= 0:
        return None
    with transaction.atomic():
        profile_lock(user_id=referral.referrer_id)  # serialises the cap check of one referrer
        if referral_month_earned(referrer=referral.referrer) + rule.credits > settings.REFERRAL_MONTHLY_CAP_CREDITS:
            business_log.info(
                "referral cap reached",
                extra={"event": "referral_cap_reached", "user": str(referral.referrer_id), "reward": event},
            )
            return None
        try:
            with transaction.atomic():
                grant = ReferralGrant.objects.create(
                    referral=referral, event=event, credits=rule.credits, order_id=order_id
                )
        except IntegrityError:
            return None
        grant.transaction = credits_grant(
            user=referral.referrer,
            amount=rule.credits,
            type=TransactionType.BONUS,
            description=f"Referral reward: {ReferralEvent(event).label.lower()}",
            idempotency_key=f"referral:{referral.pk}:{event}",
        )
        grant.save(update_fields=["transaction"])
    return grant


def referral_payment_rewards(
    *, user: User, order_id: uuid.UUID, first_payment: bool, subscription: bool
) -> list[ReferralGrant]:
    """Billing completed a verified payment of `user`: the referrer's first-payment and subscription rewards."""
    events = []
    if first_payment:
        events.append(ReferralEvent.FIRST_PAYMENT)
    if subscription:
        events.append(ReferralEvent.SUBSCRIPTION)
    granted = [referral_reward_grant(referred_user=user, event=event, order_id=order_id) for event in events]
    return [grant for grant in granted if grant is not None]


def referral_payment_clawback(*, user: User, order_id: uuid.UUID) -> int:
    """Billing refunded `user`'s payment `order_id`: takes back the referral rewards it triggered, once.

    Returns the credits taken back (down to the referrer's balance at most, as any clawback).
    """
    taken = 0
    grants = ReferralGrant.objects.select_related("referral__referrer").filter(
        Q(referral__referred_user_id=user.pk), order_id=order_id, clawed_back_at__isnull=True
    )
    for grant in grants:
        with transaction.atomic():
            moved = ReferralGrant.objects.filter(pk=grant.pk, clawed_back_at__isnull=True).update(
                clawed_back_at=timezone.now()
            )
            if not moved:
                continue
            entry = credits_clawback(
                user=grant.referral.referrer,
                amount=grant.credits,
                description=f"Referral reward taken back: payment refunded ({grant.event})",
            )
            taken += -entry.amount if entry is not None else 0
    return taken
