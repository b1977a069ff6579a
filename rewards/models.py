"""Free credits: the daily check-in cycle and referrals (business-rules.md, "Free credits").

The reward tables are data staff edit in the admin; every grant is a ledger row (credits.services) whose
idempotency key is also a unique column here, so a reward is given once whatever the concurrency.
"""

from django.conf import settings
from django.db import models


class CheckInReward(models.Model):
    """One day of the 7-day check-in cycle (seeded 1, 1, 2, 2, 3, 3, 5; day 7 special)."""

    day = models.PositiveSmallIntegerField(unique=True, help_text="1 to 7")
    credits = models.PositiveIntegerField()
    is_special = models.BooleanField(default=False)
    title = models.CharField(max_length=100, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "check_in_rewards"
        ordering = ["day"]
        constraints = [
            models.CheckConstraint(condition=models.Q(day__gte=1, day__lte=7), name="check_in_reward_day_1_to_7"),
        ]

    def __str__(self):
        return f"Day {self.day}: {self.credits} credits"


class CheckIn(models.Model):
    """One check-in of a user on one day of their own timezone."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="check_ins")
    date = models.DateField(help_text="The user's local date (profile timezone).")
    timezone = models.CharField(max_length=64, default="UTC")
    cycle_day = models.PositiveSmallIntegerField(help_text="Day of the 7-day cycle, 1 to 7.")
    streak = models.PositiveIntegerField(help_text="Consecutive days up to this one.")
    credits = models.PositiveIntegerField()
    transaction = models.OneToOneField(
        "credits.CreditTransaction", on_delete=models.SET_NULL, null=True, blank=True, related_name="check_in"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "user_check_ins"
        ordering = ["-date"]
        constraints = [models.UniqueConstraint(fields=["user", "date"], name="check_in_once_per_user_day")]

    def __str__(self):
        return f"Check-in {self.user_id} {self.date} (+{self.credits})"


class ReferralEvent(models.TextChoices):
    REGISTRATION = "registration", "Registration"
    FIRST_PAYMENT = "first_payment", "First payment"
    SUBSCRIPTION = "subscription", "Subscription"


class ReferralRewardRule(models.Model):
    """What the referrer earns for one event of a referred user (seeded 5 / 30 / 50)."""

    event = models.CharField(max_length=16, choices=ReferralEvent.choices, unique=True)
    credits = models.PositiveIntegerField()
    is_active = models.BooleanField(default=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "referral_rewards"
        ordering = ["event"]

    def __str__(self):
        return f"{self.get_event_display()}: {self.credits} credits"


class ReferralCode(models.Model):
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="referral_code")
    code = models.CharField(max_length=16, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "referral_codes"

    def __str__(self):
        return self.code


class Referral(models.Model):
    """A referred user and who referred them: one per referred user, set at registration."""

    referrer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="referrals_made")
    referred_user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="referred_by"
    )
    code = models.CharField(max_length=16)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "user_referrals"
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(referrer=models.F("referred_user")), name="referral_not_self"
            ),
        ]

    def __str__(self):
        return f"{self.referrer_id} -> {self.referred_user_id}"


class ReferralGrant(models.Model):
    """A reward the referrer received for one event of one referred user (at most one per pair)."""

    referral = models.ForeignKey(Referral, on_delete=models.CASCADE, related_name="grants")
    event = models.CharField(max_length=16, choices=ReferralEvent.choices)
    credits = models.PositiveIntegerField()
    order_id = models.UUIDField(null=True, blank=True, help_text="The verified payment that triggered it.")
    transaction = models.OneToOneField(
        "credits.CreditTransaction", on_delete=models.SET_NULL, null=True, blank=True, related_name="referral_grant"
    )
    clawed_back_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "referral_grants"
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["referral", "event"], name="referral_grant_once_per_event"),
        ]

    def __str__(self):
        return f"{self.event} +{self.credits}"
