"""Writes that span apps: registration with the signup bonus, account deletion with its files."""

from django.conf import settings
from django.db import IntegrityError, transaction

from accounts.models import User
from accounts.services import user_delete
from aiasmr.api.exceptions import ApiError
from aiasmr.api.logging import security_log
from credits.models import TransactionType
from credits.services import credits_grant
from rewards.referrals import referral_attach, referral_code_check
from videos.services import user_videos_delete


def user_register(*, email: str, password: str, referral_code: str = "") -> User:
    """Creates the user, the profile and the signup bonus (through the ledger) in one transaction.

    A `referral_code` (checked first: an unknown one refuses the registration) records the referrer,
    who receives the registration reward in the same transaction.
    """
    if referral_code:
        referral_code_check(code=referral_code)
    try:
        with transaction.atomic():
            user = User.objects.create_user(email=email, password=password)
            if settings.SIGNUP_BONUS_CREDITS > 0:
                credits_grant(
                    user=user,
                    amount=settings.SIGNUP_BONUS_CREDITS,
                    type=TransactionType.BONUS,
                    description="Signup bonus",
                    idempotency_key="signup-bonus",
                )
            if referral_code:
                referral_attach(user=user, code=referral_code)
    except IntegrityError:
        # Express's answer to "User already exists" (routes/auth.js): 400, no hint beyond the message.
        raise ApiError("User already exists", code="REGISTRATION_FAILED") from None
    user.profile.refresh_from_db()  # the bonus was written through a locked copy of the row
    return user


def account_delete(*, user: User) -> None:
    """Deletes the account and (after commit) its stored files; ledger rows and orders stay, anonymised."""
    with transaction.atomic():
        user_videos_delete(user=user)
        user_delete(user=user)
    security_log.info("account deleted", extra={"event": "account_deleted", "user": str(user.pk)})
