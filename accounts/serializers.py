import re
import zoneinfo

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.models import Profile, User
from accounts.selectors import plan_entitlements

PASSWORD_RULES = (
    (re.compile(r"[a-z]"), "a lower-case letter"),
    (re.compile(r"[A-Z]"), "an upper-case letter"),
    (re.compile(r"\d"), "a digit"),
    (re.compile(r"[^A-Za-z0-9]"), "a special character"),
)


def validate_password_strength(value: str) -> str:
    missing = [label for pattern, label in PASSWORD_RULES if not pattern.search(value)]
    if missing:
        raise serializers.ValidationError("The password needs " + ", ".join(missing) + ".")
    return value


# PASSWORD_RULES in the OpenAPI schema. In words, not as a lookahead `pattern`: generators (schemathesis,
# client-side form libraries) can only satisfy four lookaheads by trial and error, which is very slow.
PASSWORD_SCHEMA = {
    "type": "string",
    "minLength": 8,
    "maxLength": 128,
    "description": "8-128 characters with a lower-case letter, an upper-case letter, a digit and a special "
    "character; no NUL.",
}


@extend_schema_field(PASSWORD_SCHEMA)
class StrongPasswordField(serializers.CharField):
    def __init__(self, **kwargs):
        super().__init__(min_length=8, max_length=128, trim_whitespace=False, **kwargs)
        self.validators.append(validate_password_strength)


class RegisterSerializer(serializers.Serializer):
    email = serializers.EmailField(max_length=254)
    password = StrongPasswordField(write_only=True)
    referralCode = serializers.CharField(  # noqa: N815 - the app's field name
        required=False, allow_blank=True, max_length=32, help_text="A referral code or the ref of a share link"
    )


class LoginSerializer(serializers.Serializer):
    email = serializers.CharField(max_length=254)
    password = serializers.CharField(max_length=128, trim_whitespace=False, write_only=True)


class RefreshSerializer(serializers.Serializer):
    refreshToken = serializers.CharField(required=False, max_length=2048)  # noqa: N815 - contract name


class LogoutSerializer(serializers.Serializer):
    refreshToken = serializers.CharField(required=False, max_length=2048)  # noqa: N815
    everywhere = serializers.BooleanField(
        required=False, default=False, help_text="Sign out every session of the account, not only this one."
    )


class UserSerializer(serializers.Serializer):
    """The user object of GET/PUT /user/profile, also returned by register, login and refresh (Express's
    keys, `id, email, credits, plan_type, ...`, plus this service's additions)."""

    id = serializers.UUIDField(source="user.id")
    email = serializers.EmailField(source="user.email")
    first_name = serializers.CharField()
    last_name = serializers.CharField()
    bio = serializers.CharField()
    avatar_url = serializers.CharField()
    credits = serializers.IntegerField()
    plan_type = serializers.CharField()
    total_credits_spent = serializers.IntegerField()
    total_videos_created = serializers.IntegerField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    is_staff = serializers.BooleanField(source="user.is_staff")
    entitlements = serializers.SerializerMethodField()

    def get_entitlements(self, profile) -> dict:
        return plan_entitlements(profile=profile)


def auth_result_data(*, user: User, tokens: dict) -> dict:
    """The body of register, login and refresh (AuthResultSerializer): the user and a fresh token pair."""
    return AuthResultSerializer({"user": user.profile, **tokens}).data


class ProfileResultSerializer(serializers.Serializer):
    user = UserSerializer()


class AuthResultSerializer(serializers.Serializer):
    user = UserSerializer()
    token = serializers.CharField()
    refreshToken = serializers.CharField()  # noqa: N815


class TokenPairSerializer(serializers.Serializer):
    token = serializers.CharField()
    refreshToken = serializers.CharField()  # noqa: N815


@extend_schema_field({"type": "boolean", "enum": [True], "description": "Must be true (any truthy JSON value)."})
class ConfirmationField(serializers.JSONField):
    pass


class AccountDeleteSerializer(serializers.Serializer):
    """routes/user.js DELETE /account: `confirmDeletion` must be truthy, else 400 CONFIRMATION_REQUIRED
    (the view's check, not a VALIDATION_ERROR, as Express)."""

    confirmDeletion = ConfirmationField(required=False)  # noqa: N815


class ProfileUpdateSerializer(serializers.ModelSerializer):
    """Only the documented fields; anything else in the body (credits, email, plan) is ignored."""

    class Meta:
        model = Profile
        fields = ["first_name", "last_name", "bio", "avatar_url"]
        extra_kwargs = {name: {"required": False} for name in fields}

    def validate_avatar_url(self, value: str) -> str:
        if value and not value.lower().startswith("https://"):
            raise serializers.ValidationError("Use an https URL.")
        return value


class PasswordChangeSerializer(serializers.Serializer):
    currentPassword = serializers.CharField(max_length=128, trim_whitespace=False)  # noqa: N815
    newPassword = StrongPasswordField()  # noqa: N815
    confirmPassword = serializers.CharField(max_length=128, trim_whitespace=False)  # noqa: N815

    def validate(self, attrs):
        if attrs["newPassword"] != attrs["confirmPassword"]:
            raise serializers.ValidationError({"confirmPassword": "Does not match the new password."})
        if attrs["newPassword"] == attrs["currentPassword"]:
            raise serializers.ValidationError({"newPassword": "Choose a password different from the current one."})
        return attrs


# The video lengths a user may prefer (one OpenAPI enum: settings.SPECTACULAR_SETTINGS ENUM_NAME_OVERRIDES).
PREFERRED_DURATIONS = ((5, "5 seconds"), (8, "8 seconds"))


class NotificationPreferencesSerializer(serializers.Serializer):
    """Express's defaults (routes/user.js GET /preferences); not stored: nothing here sends notifications."""

    email = serializers.SerializerMethodField()
    push = serializers.SerializerMethodField()
    videoCompletion = serializers.SerializerMethodField()  # noqa: N815
    creditLow = serializers.SerializerMethodField()  # noqa: N815
    marketing = serializers.SerializerMethodField()

    def get_email(self, _) -> bool:
        return True

    def get_push(self, _) -> bool:
        return True

    def get_videoCompletion(self, _) -> bool:  # noqa: N802
        return True

    def get_creditLow(self, _) -> bool:  # noqa: N802
        return True

    def get_marketing(self, _) -> bool:
        return False


class VideoPreferencesSerializer(serializers.Serializer):
    """The profile's generation defaults; aspect ratio and auto-download are Express's fixed values."""

    defaultQuality = serializers.ChoiceField(  # noqa: N815
        choices=["720p", "1080p"], source="preferred_resolution", required=False
    )
    defaultAspectRatio = serializers.SerializerMethodField()  # noqa: N815
    defaultDuration = serializers.ChoiceField(  # noqa: N815
        choices=PREFERRED_DURATIONS, source="max_duration", required=False
    )
    autoDownload = serializers.SerializerMethodField()  # noqa: N815

    def get_defaultAspectRatio(self, _) -> str:  # noqa: N802
        return "16:9"

    def get_autoDownload(self, _) -> bool:  # noqa: N802
        return False


class PrivacyPreferencesSerializer(serializers.Serializer):
    profilePublic = serializers.SerializerMethodField()  # noqa: N815
    showInLeaderboard = serializers.SerializerMethodField()  # noqa: N815

    def get_profilePublic(self, _) -> bool:  # noqa: N802
        return False

    def get_showInLeaderboard(self, _) -> bool:  # noqa: N802
        return False


class NestedPreferencesSerializer(serializers.Serializer):
    notifications = NotificationPreferencesSerializer(source="*", read_only=True)
    video = VideoPreferencesSerializer(source="*", required=False)
    privacy = PrivacyPreferencesSerializer(source="*", read_only=True)


class PreferencesSerializer(serializers.Serializer):
    """GET/PUT /user/preferences: Express's `preferences` nesting, and beside it this service's flat keys.
    PUT accepts either (`preferences.video.defaultQuality` or `resolution`, ...)."""

    preferences = NestedPreferencesSerializer(source="*", required=False)
    resolution = serializers.ChoiceField(choices=["720p", "1080p"], source="preferred_resolution", required=False)
    maxDuration = serializers.ChoiceField(  # noqa: N815
        choices=PREFERRED_DURATIONS, source="max_duration", required=False
    )
    language = serializers.RegexField(r"^[a-z]{2}(-[A-Z]{2})?$", max_length=16, required=False)
    # The IANA names as an enum, so the schema says which strings are accepted.
    timezone = serializers.ChoiceField(choices=sorted(zoneinfo.available_timezones()), required=False)


class UserVideoStatisticsSerializer(serializers.Serializer):
    total = serializers.IntegerField()
    completed = serializers.IntegerField()
    processing = serializers.IntegerField()
    failed = serializers.IntegerField()
    successRate = serializers.IntegerField(help_text="Percent of videos ready, rounded.")  # noqa: N815


class UserCreditStatisticsSerializer(serializers.Serializer):
    totalSpent = serializers.IntegerField()  # noqa: N815
    totalPurchased = serializers.IntegerField()  # noqa: N815
    totalRefunded = serializers.IntegerField()  # noqa: N815
    currentBalance = serializers.IntegerField()  # noqa: N815


class UserUsageStatisticsSerializer(serializers.Serializer):
    videosLast30Days = serializers.IntegerField()  # noqa: N815
    creditsSpentLast30Days = serializers.IntegerField()  # noqa: N815
    averageCreditsPerVideo = serializers.IntegerField()  # noqa: N815
    memberSince = serializers.DateTimeField()  # noqa: N815


class UserAccountStatisticsSerializer(serializers.Serializer):
    plan_type = serializers.CharField()
    member_since = serializers.DateTimeField()


class StatisticsSerializer(serializers.Serializer):
    videos = UserVideoStatisticsSerializer()
    credits = UserCreditStatisticsSerializer()
    usage = UserUsageStatisticsSerializer()
    account = UserAccountStatisticsSerializer()


class StatisticsResultSerializer(serializers.Serializer):
    """GET /user/statistics: `data.statistics` (aiasmr.lifecycle.selectors.user_statistics)."""

    statistics = StatisticsSerializer(source="*")
