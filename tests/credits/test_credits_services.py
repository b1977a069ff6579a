"""The ledger services: grant, spend, refund once, adjust, clawback, and spending under real concurrency."""

import threading

import pytest
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction

from accounts.models import Profile
from aiasmr.api.exceptions import InsufficientCredits, ValidationFailed
from credits.models import CreditTransaction, TransactionType
from credits.services import credits_adjust, credits_clawback, credits_grant, credits_refund, credits_spend
from tests.factories import UserFactory


def balance(user) -> int:
    return Profile.objects.get(user=user).credits


def ledger_sum(user) -> int:
    return sum(CreditTransaction.objects.filter(user=user).values_list("amount", flat=True))


@pytest.mark.django_db
class TestGrantAndSpend:
    def test_grant_writes_ledger_and_balance_together(self, user):
        entry = credits_grant(user=user, amount=100, type=TransactionType.PURCHASE, description="Purchase")
        assert (entry.amount, entry.balance_after) == (100, 120)
        assert balance(user) == 120 == ledger_sum(user)

    def test_grant_is_idempotent_by_key(self, user):
        first = credits_grant(user=user, amount=50, type="purchase", description="x", idempotency_key="order:1")
        second = credits_grant(user=user, amount=50, type="purchase", description="x", idempotency_key="order:1")
        assert first.pk == second.pk
        assert balance(user) == 70 == ledger_sum(user)

    @pytest.mark.parametrize("kind", ["usage", "refund", "adjustment"])
    def test_grant_refuses_non_grant_types(self, user, kind):
        with pytest.raises(ValidationFailed):
            credits_grant(user=user, amount=5, type=kind, description="x")
        assert balance(user) == 20

    def test_spend_debits_and_counts_spent(self, user):
        entry = credits_spend(user=user, amount=15, description="Video")
        assert (entry.type, entry.amount, entry.balance_after) == ("usage", -15, 5)
        profile = Profile.objects.get(user=user)
        assert (profile.credits, profile.total_credits_spent) == (5, 15)

    def test_spend_more_than_balance_is_refused_and_changes_nothing(self, user):
        with pytest.raises(InsufficientCredits) as caught:
            credits_spend(user=user, amount=21, description="Video")
        assert caught.value.details == {"required": 21, "available": 20}
        assert balance(user) == 20
        assert CreditTransaction.objects.filter(user=user, type="usage").count() == 0

    @pytest.mark.parametrize("amount", [0, -5])
    def test_spend_non_positive_is_refused(self, user, amount):
        with pytest.raises(ValidationFailed):
            credits_spend(user=user, amount=amount, description="x")

    def test_database_refuses_a_negative_balance_behind_the_services(self, user):
        with pytest.raises(IntegrityError), transaction.atomic():
            Profile.objects.filter(user=user).update(credits=-1)

    def test_database_refuses_two_rows_with_one_idempotency_key(self, user):
        CreditTransaction.objects.create(user=user, type="bonus", amount=1, balance_after=21, idempotency_key="k")
        with pytest.raises(IntegrityError), transaction.atomic():
            CreditTransaction.objects.create(user=user, type="bonus", amount=1, balance_after=22, idempotency_key="k")


@pytest.mark.django_db
class TestRefund:
    def test_refund_gives_back_exactly_the_charge_once(self, user):
        debit = credits_spend(user=user, amount=15, description="Video")
        refund = credits_refund(debit=debit, description="Failed")
        assert (refund.type, refund.amount, refund.reverses_id, refund.balance_after) == ("refund", 15, debit.pk, 20)
        assert credits_refund(debit=debit, description="Failed again") is None
        assert balance(user) == 20 == ledger_sum(user)
        assert CreditTransaction.objects.filter(reverses=debit).count() == 1
        assert Profile.objects.get(user=user).total_credits_spent == 0

    def test_only_a_usage_charge_can_be_refunded(self, user):
        grant = CreditTransaction.objects.get(user=user, type="bonus")
        with pytest.raises(ValidationFailed):
            credits_refund(debit=grant, description="no")

    def test_database_refuses_a_second_refund_row(self, user):
        debit = credits_spend(user=user, amount=5, description="Video")
        credits_refund(debit=debit, description="Failed")
        with pytest.raises(IntegrityError), transaction.atomic():
            CreditTransaction.objects.create(user=user, type="refund", amount=5, balance_after=25, reverses=debit)


@pytest.mark.django_db
class TestAdjustAndClawback:
    def test_adjust_records_staff_and_reason(self, user):
        staff = UserFactory(is_staff=True)
        entry = credits_adjust(user=user, amount=-7, reason="  duplicate bonus  ", staff_user=staff)
        assert (entry.type, entry.amount, entry.staff_user_id, entry.description) == (
            "adjustment", -7, staff.pk, "duplicate bonus"
        )
        assert balance(user) == 13 == ledger_sum(user)

    @pytest.mark.parametrize("reason", ["", "   "])
    def test_adjust_needs_a_reason(self, user, reason):
        with pytest.raises(ValidationFailed):
            credits_adjust(user=user, amount=5, reason=reason, staff_user=None)
        assert balance(user) == 20

    def test_adjust_never_goes_below_zero(self, user):
        with pytest.raises(InsufficientCredits):
            credits_adjust(user=user, amount=-21, reason="too much", staff_user=None)
        assert balance(user) == 20

    def test_clawback_takes_at_most_the_balance(self, user):
        credits_spend(user=user, amount=15, description="Video")
        entry = credits_clawback(user=user, amount=100, description="Refunded payment")
        assert (entry.amount, entry.balance_after) == (-5, 0)
        assert credits_clawback(user=user, amount=100, description="again") is None
        assert balance(user) == 0 == ledger_sum(user)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_fifty_threads_spending_a_balance_that_covers_ten():
    user = UserFactory()
    credits_adjust(user=user, amount=80, reason="fund the race", staff_user=None)  # 20 + 80 = 100 = 10 x 10
    barrier = threading.Barrier(50)
    results: list[str] = []
    lock = threading.Lock()

    def spend():
        try:
            barrier.wait()
            credits_spend(user=user, amount=10, description="race")
            outcome = "ok"
        except InsufficientCredits as exc:
            outcome = exc.code
        except Exception as exc:  # pragma: no cover - reported by the assertion below
            outcome = repr(exc)
        finally:
            connection.close()
        with lock:
            results.append(outcome)

    threads = [threading.Thread(target=spend) for _ in range(50)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert results.count("ok") == 10
    assert results.count("INSUFFICIENT_CREDITS") == 40
    assert balance(user) == 0 == ledger_sum(user)
    assert CreditTransaction.objects.filter(user=user, type="usage").count() == 10
    call_command("credits_audit", "--no-progress")  # raises CommandError on any mismatch


@pytest.mark.django_db(transaction=True)
def test_concurrent_refunds_of_one_debit_give_back_once():
    user = UserFactory()
    debit = credits_spend(user=user, amount=20, description="Video")
    barrier = threading.Barrier(10)
    refunded = []

    def refund():
        try:
            barrier.wait()
            refunded.append(credits_refund(debit=debit, description="Failed") is not None)
        finally:
            connection.close()

    threads = [threading.Thread(target=refund) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert refunded.count(True) == 1
    assert balance(user) == 20 == ledger_sum(user)
