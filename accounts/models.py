import uuid

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models, transaction
from django.db.models.functions import Lower
from django.utils import timezone


class UserManager(BaseUserManager):
    def normalize_email(self, email):
        return (email or "").strip().lower()

    def get_by_natural_key(self, username):
        return self.get(email__iexact=username)

    def create_user(self, email, password=None, **extra):
        """Every user has a profile (balance, plan): both rows are created together."""
        with transaction.atomic(using=self._db):
            user = self.model(email=self.normalize_email(email), **extra)
            user.set_password(password)
            user.save(using=self._db)
            Profile.objects.using(self._db).create(user=user)
        return user

    def create_superuser(self, email, password=None, **extra):
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self.create_user(email, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    """Logs in with the email (stored lower-case, unique regardless of case)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    email = models.EmailField(max_length=254, unique=True)
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False)
    date_joined = models.DateTimeField(default=timezone.now)
    # Tokens carry this number; bumping it (password change, logout everywhere) revokes them all.
    token_version = models.PositiveIntegerField(default=0)
    # When token_version last moved: Express's tokens carry no version, so one issued (`iat`) at or
    # before this moment is refused (accounts.tokens.legacy_claims_check).
    sessions_revoked_at = models.DateTimeField(null=True, blank=True)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        constraints = [models.UniqueConstraint(Lower("email"), name="user_email_ci_unique")]

    def __str__(self):
        return self.email


class RevokedTokenFamily(models.Model):
    """A device's session, signed out: every refresh token rotated from one sign-in carries the same
    family id (claim `fam`, copied into its access tokens); a family listed here is refused, on refresh
    and on every request. Written on logout of that device and when a rotated refresh token is reused
    after the grace window (JWT_REFRESH_REUSE_GRACE_SECONDS)."""

    family = models.UUIDField(primary_key=True)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="revoked_token_families")
    reason = models.CharField(max_length=32)
    revoked_at = models.DateTimeField(default=timezone.now)

    def __str__(self):
        return f"{self.family} ({self.reason})"


class PlanType(models.TextChoices):
    FREE = "free", "Free"
    TRIAL = "trial", "Trial"
    BASIC = "basic", "Basic"
    PRO = "pro", "Pro"


# A profile on no paid plan: free, 720p only, no commercial use. Billing writes these fields, or a paid plan's
# own, whenever it changes `plan_type` (accounts read what the plan grants here, never billing's plans).
FREE_PLAN_FIELDS = {"plan_type": PlanType.FREE, "plan_max_quality": "720p", "plan_commercial_use": False}


class Profile(models.Model):
    """The seed's user_profiles: the person, their plan and their credit balance.

    `credits` changes only through credits.services, which write the ledger in the same transaction.
    """

    user = models.OneToOneField(User, on_delete=models.CASCADE, primary_key=True, related_name="profile")
    first_name = models.CharField(max_length=100, blank=True)
    last_name = models.CharField(max_length=100, blank=True)
    bio = models.TextField(max_length=500, blank=True)
    avatar_url = models.URLField(max_length=500, blank=True)
    plan_type = models.CharField(max_length=16, choices=PlanType.choices, default=PlanType.FREE)
    plan_max_quality = models.CharField(max_length=8, default=FREE_PLAN_FIELDS["plan_max_quality"])
    plan_commercial_use = models.BooleanField(default=FREE_PLAN_FIELDS["plan_commercial_use"])
    credits = models.IntegerField(default=0)
    total_credits_spent = models.IntegerField(default=0)
    total_videos_created = models.IntegerField(default=0)
    preferred_resolution = models.CharField(max_length=8, default="720p")
    max_duration = models.PositiveSmallIntegerField(default=5)
    language = models.CharField(max_length=16, default="en")
    timezone = models.CharField(max_length=64, default="UTC")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "user_profiles"
        constraints = [
            models.CheckConstraint(condition=models.Q(credits__gte=0), name="profile_credits_non_negative"),
        ]

    def __str__(self):
        return f"Profile of {self.user_id}"
