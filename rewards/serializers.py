from rest_framework import serializers


class UpcomingRewardSerializer(serializers.Serializer):
    day = serializers.IntegerField(help_text="Day of the 7-day cycle")
    credits = serializers.IntegerField()
    isSpecial = serializers.BooleanField()  # noqa: N815
    date = serializers.DateField(help_text="The user's local date this reward falls on if the streak holds")


class MonthCheckInSerializer(serializers.Serializer):
    date = serializers.DateField()
    credits = serializers.IntegerField()
    cycleDay = serializers.IntegerField()  # noqa: N815


class CheckInStatusSerializer(serializers.Serializer):
    canCheckIn = serializers.BooleanField()  # noqa: N815
    checkedInToday = serializers.BooleanField()  # noqa: N815
    today = serializers.DateField(help_text="The user's local date (profile timezone)")
    cycleDay = serializers.IntegerField(help_text="Today's day of the cycle (1-7)")  # noqa: N815
    currentStreak = serializers.IntegerField()  # noqa: N815
    longestStreak = serializers.IntegerField()  # noqa: N815
    todayReward = serializers.IntegerField(help_text="Credits a check-in today gives (or gave)")  # noqa: N815
    upcomingRewards = UpcomingRewardSerializer(many=True)  # noqa: N815
    monthCheckIns = MonthCheckInSerializer(many=True)  # noqa: N815
    totalCheckIns = serializers.IntegerField()  # noqa: N815
    totalCredits = serializers.IntegerField()  # noqa: N815


class CheckInResultSerializer(serializers.Serializer):
    creditsEarned = serializers.IntegerField()  # noqa: N815
    cycleDay = serializers.IntegerField()  # noqa: N815
    streak = serializers.IntegerField()
    balance = serializers.IntegerField(help_text="The credit balance after the check-in")
    status = CheckInStatusSerializer()


class ReferralRewardsSerializer(serializers.Serializer):
    registration = serializers.IntegerField()
    first_payment = serializers.IntegerField()
    subscription = serializers.IntegerField()


class ReferralOverviewSerializer(serializers.Serializer):
    code = serializers.CharField()
    link = serializers.CharField()
    totalReferrals = serializers.IntegerField()  # noqa: N815
    successfulReferrals = serializers.IntegerField(help_text="Referred users who paid")  # noqa: N815
    pendingReferrals = serializers.IntegerField(help_text="Referred users who have not paid yet")  # noqa: N815
    creditsEarned = serializers.IntegerField()  # noqa: N815
    creditsEarnedThisMonth = serializers.IntegerField()  # noqa: N815
    monthlyCap = serializers.IntegerField(help_text="Most referral credits earned in a calendar month")  # noqa: N815
    rewards = ReferralRewardsSerializer(help_text="Credits to the referrer per event")
