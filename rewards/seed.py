"""The web app's reward values (business-rules.md, "Free credits"), for an empty database."""

from django.db import transaction

from rewards.models import CheckInReward, ReferralRewardRule

CHECK_IN_CREDITS = (1, 1, 2, 2, 3, 3, 5)
REFERRAL_CREDITS = {"registration": 5, "first_payment": 30, "subscription": 50}


def reward_tables_ensure() -> None:
    """Creates the missing rows of the reward tables with the seeded values; leaves staff edits alone."""
    with transaction.atomic():
        for day, credits in enumerate(CHECK_IN_CREDITS, start=1):
            CheckInReward.objects.get_or_create(
                day=day, defaults={"credits": credits, "is_special": day == 7, "title": f"Day {day}"}
            )
        for event, credits in REFERRAL_CREDITS.items():
            ReferralRewardRule.objects.get_or_create(event=event, defaults={"credits": credits})
