"""The only way a balance changes: lock the profile, write the ledger row and the balance together.

Every function owns its transaction (nested inside a caller's when there is one), locks the profile
row first, and makes no network call.
"""

from django.db import IntegrityError, connection, models, transaction
from django.db.models import F

from accounts.models import Profile, User
from accounts.services import profile_lock
from aiasmr.api.exceptions import InsufficientCredits, ValidationFailed
from aiasmr.api.logging import business_log
from aiasmr.api.metrics import REFUNDED_CREDITS, REFUNDS, count_on_commit
from credits.models import CreditTransaction, TransactionType

GRANT_TYPES = {TransactionType.BONUS, TransactionType.PURCHASE, TransactionType.SUBSCRIPTION}


def _locked_profile(user_id: int) -> Profile:
    profile = profile_lock(user_id=user_id)
    if profile is None:
        raise Profile.DoesNotExist(f"User {user_id} has no profile.")
    return profile


def _existing(user: User, idempotency_key: str | None) -> CreditTransaction | None:
    if not idempotency_key:
        return None
    return CreditTransaction.objects.filter(user_id=user.pk, idempotency_key=idempotency_key).first()


def _write(profile: Profile, *, amount: int, spent_delta: int = 0, **fields) -> CreditTransaction:
    profile.credits += amount
    profile.total_credits_spent += spent_delta
    Profile.objects.filter(pk=profile.pk).update(
        credits=profile.credits, total_credits_spent=F("total_credits_spent") + spent_delta
    )
    return _record(user_id=profile.user_id, amount=amount, balance_after=profile.credits, **fields)


def _take_sql(connection) -> str:
    meta = Profile._meta
    quote = connection.ops.quote_name
    credits, spent, videos, user = (
        quote(meta.get_field(name).column) for name in ("credits", "total_credits_spent", "total_videos_created", "user")
    )
    # Identifiers come from the model and are quoted; every value is a parameter.
    return (
        f"UPDATE {quote(meta.db_table)} SET {credits} = {credits} - %s, {spent} = {spent} + %s, "  # noqa: S608
        f"{videos} = {videos} + %s WHERE {user} = %s AND {credits} >= %s RETURNING {credits}"
    )


_TAKE_SQL: dict[str, str] = {}  # per database alias, built on first use


def _take(user: User, *, amount: int, videos_created: int) -> int | None:
    """Debits `amount` only if the balance covers it, in one statement; the new balance, or None when short.

    The UPDATE locks the row like SELECT ... FOR UPDATE would, and PostgreSQL re-checks `credits >= amount`
    against the latest committed balance when it waited for a concurrent writer. Django's update() cannot
    return the new value, hence the SQL (SQLite 3.35+ has RETURNING too).
    """
    sql = _TAKE_SQL.get(connection.alias) or _TAKE_SQL.setdefault(connection.alias, _take_sql(connection))
    user_id = Profile._meta.get_field("user").get_db_prep_value(user.pk, connection)
    with connection.cursor() as cursor:
        cursor.execute(sql, [amount, amount, videos_created, user_id, amount])
        row = cursor.fetchone()
    return None if row is None else row[0]


def _record(*, user_id, amount: int, balance_after: int, **fields) -> CreditTransaction:
    entry = CreditTransaction.objects.create(user_id=user_id, amount=amount, balance_after=balance_after, **fields)
    business_log.info(
        "credits changed",
        extra={
            "event": "credits_changed",
            "user": str(user_id),
            "type": entry.type,
            "amount": amount,
            "balance_after": entry.balance_after,
            "transaction_id": entry.pk,
        },
    )
    return entry


def credits_grant(
    *,
    user: User,
    amount: int,
    type: str,  # noqa: A002 - the ledger's own column name
    description: str,
    order: models.Model | None = None,
    subscription: models.Model | None = None,
    idempotency_key: str | None = None,
) -> CreditTransaction:
    """Adds credits (signup bonus, purchase, subscription period). Idempotent by key."""
    if amount <= 0:
        raise ValidationFailed("A grant must be positive.")
    if type not in GRANT_TYPES:
        raise ValidationFailed(f"{type} is not a grant type.")
    with transaction.atomic():
        profile = _locked_profile(user.pk)
        existing = _existing(user, idempotency_key)
        if existing is not None:
            return existing
        return _write(
            profile,
            amount=amount,
            type=type,
            description=description,
            order=order,
            subscription=subscription,
            idempotency_key=idempotency_key,
        )


def credits_spend(
    *,
    user: User,
    amount: int,
    description: str,
    video: models.Model | None = None,
    idempotency_key: str | None = None,
    counts_video: bool = False,
) -> CreditTransaction:
    """Debits credits for usage; raises InsufficientCredits rather than going below zero.

    `video` may be one still to be inserted in the caller's transaction (its id is set; foreign keys are
    checked at commit). `counts_video` adds it to the profile's videos-created counter in the same write.
    Joins the caller's transaction without a savepoint (two round trips fewer on every generation): a
    database error here fails the caller's transaction too. A short balance writes nothing, so it is raised
    after the block and leaves the caller's transaction usable.
    """
    if amount <= 0:
        raise ValidationFailed("A charge must be positive.")
    with transaction.atomic(savepoint=False):
        if idempotency_key:
            _locked_profile(user.pk)  # so that the check below and the debit cannot interleave with a twin
            existing = _existing(user, idempotency_key)
            if existing is not None:
                return existing
        balance = _take(user, amount=amount, videos_created=1 if counts_video else 0)
        if balance is not None:
            return _record(
                user_id=user.pk,
                amount=-amount,
                balance_after=balance,
                type=TransactionType.USAGE,
                description=description,
                video=video,
                idempotency_key=idempotency_key,
            )
        available = Profile.objects.filter(user_id=user.pk).values_list("credits", flat=True).first()
    raise InsufficientCredits(required=amount, available=available or 0)


def credits_refund(
    *, debit: CreditTransaction, description: str, staff_user: User | None = None
) -> CreditTransaction | None:
    """Gives back exactly what `debit` took, at most once. Returns None when it was already refunded."""
    if debit.type != TransactionType.USAGE or debit.amount >= 0:
        raise ValidationFailed("Only a usage charge can be refunded.")
    if debit.user_id is None:
        return None  # the account is gone; nothing to give back to
    with transaction.atomic():
        profile = _locked_profile(debit.user_id)
        if CreditTransaction.objects.filter(reverses_id=debit.pk).exists():
            return None
        try:
            # The one-to-one on `reverses` is the guarantee; the check above only avoids the error.
            with transaction.atomic():
                by = "staff" if staff_user is not None else "system"
                count_on_commit(REFUNDS.labels(by).inc)
                count_on_commit(lambda: REFUNDED_CREDITS.labels(by).inc(-debit.amount))
                return _write(
                    profile,
                    amount=-debit.amount,
                    spent_delta=debit.amount,
                    type=TransactionType.REFUND,
                    description=description,
                    video_id=debit.video_id,
                    reverses=debit,
                    staff_user=staff_user,
                )
        except IntegrityError:
            profile.refresh_from_db()
            return None


def credits_adjust(*, user: User, amount: int, reason: str, staff_user: User | None) -> CreditTransaction:
    """A staff correction with a required reason; a deduction never takes the balance below zero."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed("A reason is required.", details=[{"field": "reason", "message": "Required."}])
    if amount == 0:
        raise ValidationFailed("The amount cannot be zero.", details=[{"field": "amount", "message": "Non-zero."}])
    with transaction.atomic():
        profile = _locked_profile(user.pk)
        if profile.credits + amount < 0:
            raise InsufficientCredits(required=-amount, available=profile.credits)
        return _write(
            profile, amount=amount, type=TransactionType.ADJUSTMENT, description=reason[:255], staff_user=staff_user
        )


def credits_clawback(
    *, user: User, amount: int, description: str, order: models.Model | None = None
) -> CreditTransaction | None:
    """Takes back credits of a refunded payment, down to zero at most. None when nothing is left to take."""
    if amount <= 0:
        raise ValidationFailed("A clawback must be positive.")
    with transaction.atomic():
        profile = _locked_profile(user.pk)
        taken = min(amount, profile.credits)
        if taken == 0:
            return None
        return _write(
            profile, amount=-taken, type=TransactionType.ADJUSTMENT, description=description, order=order
        )
