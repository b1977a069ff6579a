import datetime
import threading

import pytest
from django.db import connection

from accounts.models import Profile
from credits.models import CreditTransaction
from rewards.check_ins import check_in_perform, check_in_status
from rewards.models import CheckIn, CheckInReward
from tests.factories import UserFactory
from tests.rewards.conftest import audit_clean

NOON = datetime.datetime(2026, 3, 2, 12, 0, tzinfo=datetime.UTC)


def day(n: int) -> datetime.datetime:
    return NOON + datetime.timedelta(days=n)


def balance(user) -> int:
    return Profile.objects.get(user=user).credits


def test_seven_consecutive_days_grant_the_cycle_and_a_skipped_day_restarts_it(user):
    start = balance(user)
    earned = [check_in_perform(user=user, now=day(n)).credits for n in range(7)]
    assert earned == [1, 1, 2, 2, 3, 3, 5]
    assert check_in_perform(user=user, now=day(7)).credits == 1  # day 8: a new cycle
    assert check_in_perform(user=user, now=day(9)).credits == 1  # day 9 skipped: restarts at 1
    assert balance(user) == start + 17 + 1 + 1
    status = check_in_status(user=user, now=day(9))
    assert status["currentStreak"] == 1 and status["longestStreak"] == 8 and not status["canCheckIn"]
    audit_clean()


def test_a_second_check_in_the_same_day_is_refused(auth_client):
    first = auth_client.post("/api/free-credits/check-in")
    assert first.status_code == 200
    assert first.json()["data"]["creditsEarned"] == 1
    second = auth_client.post("/api/free-credits/check-in")
    assert second.status_code == 409
    assert second.json()["error"]["code"] == "ALREADY_CHECKED_IN"
    assert CheckIn.objects.filter(user=auth_client.user).count() == 1


def test_today_is_the_users_own_day(user):
    Profile.objects.filter(user=user).update(timezone="Pacific/Kiritimati")  # UTC+14
    late_utc = datetime.datetime(2026, 3, 2, 11, 0, tzinfo=datetime.UTC)  # already 3 March there
    assert check_in_perform(user=user, now=late_utc).date == datetime.date(2026, 3, 3)
    # A clock (or timezone) that moves back to an earlier local day does not open a new check-in.
    with pytest.raises(Exception) as refused:
        check_in_perform(user=user, now=datetime.datetime(2026, 3, 2, 9, 0, tzinfo=datetime.UTC))
    assert refused.value.code == "ALREADY_CHECKED_IN"


def test_rewards_are_data_staff_edit(user):
    CheckInReward.objects.filter(day=1).update(credits=4)
    assert check_in_perform(user=user, now=day(0)).credits == 4


def test_status_answers_streak_rewards_and_month(auth_client):
    auth_client.post("/api/free-credits/check-in")
    data = auth_client.get("/api/free-credits/check-in").json()["data"]
    assert data["checkedInToday"] is True and data["canCheckIn"] is False
    assert data["currentStreak"] == 1 and data["todayReward"] == 1
    assert [r["credits"] for r in data["upcomingRewards"]] == [1, 1, 2, 2, 3, 3, 5]
    assert len(data["monthCheckIns"]) == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_twenty_simultaneous_check_ins_grant_once():
    from rewards.seed import reward_tables_ensure

    reward_tables_ensure()
    user = UserFactory()
    start = balance(user)
    barrier = threading.Barrier(20)
    outcomes: list = []

    def tap():
        try:
            barrier.wait()
            check_in_perform(user=user)
            outcomes.append("ok")
        except Exception as exc:  # noqa: BLE001 - counted below
            outcomes.append(getattr(exc, "code", repr(exc)))
        finally:
            connection.close()

    threads = [threading.Thread(target=tap) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(outcomes) == ["ALREADY_CHECKED_IN"] * 19 + ["ok"]
    assert balance(user) == start + 1
    assert CreditTransaction.objects.filter(user=user, idempotency_key__startswith="check-in:").count() == 1
    audit_clean()
