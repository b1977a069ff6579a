"""Seeds the reward tables with the web app's values (business-rules.md, "Free credits"); staff edit them."""

from django.db import migrations

CHECK_IN = [(1, 1), (2, 1), (3, 2), (4, 2), (5, 3), (6, 3), (7, 5)]
REFERRAL = [("registration", 5), ("first_payment", 30), ("subscription", 50)]


def seed(apps, schema_editor):
    CheckInReward = apps.get_model("rewards", "CheckInReward")
    ReferralRewardRule = apps.get_model("rewards", "ReferralRewardRule")
    for day, credits in CHECK_IN:
        CheckInReward.objects.get_or_create(
            day=day, defaults={"credits": credits, "is_special": day == 7, "title": f"Day {day}"}
        )
    for event, credits in REFERRAL:
        ReferralRewardRule.objects.get_or_create(event=event, defaults={"credits": credits})


class Migration(migrations.Migration):
    dependencies = [("rewards", "0001_free_credits")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
