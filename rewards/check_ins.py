"""The daily check-in: one per user and local day, a 7-day reward cycle a missed day restarts."""

import datetime
import zoneinfo

from django.db import IntegrityError, transaction
from django.db.models import Max, Sum
from django.utils import timezone

from accounts.models import Profile, User
from accounts.services import profile_lock
from aiasmr.api.exceptions import ApiError
from credits.models import TransactionType
from credits.services import credits_grant
from rewards.models import CheckIn, CheckInReward

CYCLE_DAYS = 7


class AlreadyCheckedIn(ApiError):
    code = "ALREADY_CHECKED_IN"


def user_timezone(*, user: User) -> zoneinfo.ZoneInfo:
    """The profile's timezone; UTC when it is unset or unknown."""
    name = Profile.objects.filter(user_id=user.pk).values_list("timezone", flat=True).first() or "UTC"
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo("UTC")


def user_today(*, user: User, now: datetime.datetime | None = None) -> datetime.date:
    """The user's own date now (in their profile's timezone)."""
    return (now or timezone.now()).astimezone(user_timezone(user=user)).date()


def _next_position(last: CheckIn | None, today: datetime.date) -> tuple[int, int]:
    """(cycle day, streak) of a check-in today after `last`: the cycle goes on only from yesterday."""
    if last is not None and last.date == today - datetime.timedelta(days=1):
        return last.cycle_day % CYCLE_DAYS + 1, last.streak + 1
    return 1, 1


def _rewards() -> dict[int, CheckInReward]:
    return {reward.day: reward for reward in CheckInReward.objects.all()}


def _reward_credits(rewards: dict[int, CheckInReward], day: int) -> int:
    reward = rewards.get(day)
    return reward.credits if reward is not None else 0


def check_in_perform(*, user: User, now: datetime.datetime | None = None) -> CheckIn:
    """Checks the user in for their local today and grants the day's reward through the ledger, once.

    The profile lock serialises a user's concurrent taps; the unique (user, date) and the ledger's
    idempotency key `check-in:<date>` back it. A second check-in the same day: ALREADY_CHECKED_IN.
    """
    today = user_today(user=user, now=now)
    rewards = _rewards()
    try:
        with transaction.atomic():
            profile_lock(user_id=user.pk)
            last = CheckIn.objects.filter(user=user).order_by("-date").first()
            if last is not None and last.date >= today:
                raise AlreadyCheckedIn()
            cycle_day, streak = _next_position(last, today)
            amount = _reward_credits(rewards, cycle_day)
            entry = None
            if amount > 0:
                entry = credits_grant(
                    user=user,
                    amount=amount,
                    type=TransactionType.BONUS,
                    description=f"Daily check-in, day {cycle_day}",
                    idempotency_key=f"check-in:{today.isoformat()}",
                )
            return CheckIn.objects.create(
                user=user,
                date=today,
                timezone=str(user_timezone(user=user)),
                cycle_day=cycle_day,
                streak=streak,
                credits=amount,
                transaction=entry,
            )
    except IntegrityError:
        raise AlreadyCheckedIn() from None


def check_in_status(*, user: User, now: datetime.datetime | None = None) -> dict:
    """Can the user check in today, their streaks, today's and the coming rewards, this month's check-ins."""
    today = user_today(user=user, now=now)
    rewards = _rewards()
    check_ins = CheckIn.objects.filter(user=user)
    last = check_ins.order_by("-date").first()
    checked_in_today = last is not None and last.date >= today
    if checked_in_today:
        today_day, current_streak = last.cycle_day, last.streak
    else:
        today_day, _ = _next_position(last, today)
        alive = last is not None and last.date == today - datetime.timedelta(days=1)
        current_streak = last.streak if alive else 0
    totals = check_ins.aggregate(longest=Max("streak"), credits=Sum("credits"))
    month_dates = check_ins.filter(date__year=today.year, date__month=today.month).order_by("date")
    coming = []
    for offset in range(CYCLE_DAYS):
        day = (today_day - 1 + offset) % CYCLE_DAYS + 1
        reward = rewards.get(day)
        coming.append(
            {
                "day": day,
                "credits": _reward_credits(rewards, day),
                "isSpecial": bool(reward and reward.is_special),
                "date": today + datetime.timedelta(days=offset),
            }
        )
    return {
        "canCheckIn": not checked_in_today,
        "checkedInToday": checked_in_today,
        "today": today,
        "cycleDay": today_day,
        "currentStreak": current_streak,
        "longestStreak": totals["longest"] or 0,
        "todayReward": _reward_credits(rewards, today_day),
        "upcomingRewards": coming,
        "monthCheckIns": [
            {"date": c.date, "credits": c.credits, "cycleDay": c.cycle_day} for c in month_dates
        ],
        "totalCheckIns": check_ins.count(),
        "totalCredits": totals["credits"] or 0,
    }
