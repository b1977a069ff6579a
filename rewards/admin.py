"""The reward tables staff edit, and every check-in, referral and referral reward, searchable by user."""

from django.contrib import admin

from rewards.models import CheckIn, CheckInReward, Referral, ReferralCode, ReferralGrant, ReferralRewardRule


@admin.register(CheckInReward)
class CheckInRewardAdmin(admin.ModelAdmin):
    list_display = ("day", "credits", "is_special", "title", "updated_at")
    list_editable = ("credits", "is_special", "title")
    ordering = ("day",)


@admin.register(ReferralRewardRule)
class ReferralRewardRuleAdmin(admin.ModelAdmin):
    list_display = ("event", "credits", "is_active", "updated_at")
    list_editable = ("credits", "is_active")


class ReadOnlyAdmin(admin.ModelAdmin):
    """Facts written by the services (with their ledger rows): staff read them, never edit them."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(CheckIn)
class CheckInAdmin(ReadOnlyAdmin):
    list_display = ("user", "date", "cycle_day", "streak", "credits", "timezone", "created_at")
    list_filter = ("cycle_day", "date")
    search_fields = ("user__email",)
    list_select_related = ("user",)
    date_hierarchy = "date"


@admin.register(ReferralCode)
class ReferralCodeAdmin(ReadOnlyAdmin):
    list_display = ("code", "user", "created_at")
    search_fields = ("code", "user__email")
    list_select_related = ("user",)


class ReferralGrantInline(admin.TabularInline):
    model = ReferralGrant
    extra = 0
    can_delete = False
    fields = ("event", "credits", "order_id", "transaction", "clawed_back_at", "created_at")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Referral)
class ReferralAdmin(ReadOnlyAdmin):
    list_display = ("referrer", "referred_user", "code", "created_at")
    search_fields = ("referrer__email", "referred_user__email", "code")
    list_select_related = ("referrer", "referred_user")
    inlines = [ReferralGrantInline]


@admin.register(ReferralGrant)
class ReferralGrantAdmin(ReadOnlyAdmin):
    list_display = ("referrer", "referred_user", "event", "credits", "clawed_back_at", "created_at")
    list_filter = ("event",)
    search_fields = ("referral__referrer__email", "referral__referred_user__email")
    list_select_related = ("referral__referrer", "referral__referred_user")

    @admin.display(description="Referrer")
    def referrer(self, obj):
        return obj.referral.referrer

    @admin.display(description="Referred user")
    def referred_user(self, obj):
        return obj.referral.referred_user


# --- on the user's page (aiasmr.lifecycle.admin): their check-ins, referrals and rewards ----------------


class _ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class UserCheckInInline(_ReadOnlyInline):
    model = CheckIn
    fields = ("date", "cycle_day", "streak", "credits", "timezone")
    readonly_fields = fields
    verbose_name_plural = "Check-ins (newest first)"
    ordering = ("-date",)


class UserReferralsMadeInline(_ReadOnlyInline):
    model = Referral
    fk_name = "referrer"
    fields = ("referred_user", "code", "rewards", "created_at")
    readonly_fields = fields
    verbose_name_plural = "Users this user referred"

    @admin.display(description="Rewards (credits kept)")
    def rewards(self, obj):
        kept = [f"{g.event} +{g.credits}" for g in obj.grants.all() if g.clawed_back_at is None]
        return ", ".join(kept) or "-"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("referred_user").prefetch_related("grants")


class UserReferredByInline(_ReadOnlyInline):
    model = Referral
    fk_name = "referred_user"
    fields = ("referrer", "code", "created_at")
    readonly_fields = fields
    verbose_name_plural = "Referred by"


USER_REWARD_INLINES = (UserCheckInInline, UserReferralsMadeInline, UserReferredByInline)
