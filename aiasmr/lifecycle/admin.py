"""The User admin as registered: the profile (accounts.admin), the ledger and credit adjustments
(credits.admin), and accounts added and deleted through the account-lifecycle services."""

from django.contrib import admin

from accounts.models import User
from aiasmr.lifecycle.services import account_delete, user_register
from credits.admin import UserCreditsAdmin
from rewards.admin import USER_REWARD_INLINES


@admin.register(User)
class UserAdmin(UserCreditsAdmin):
    def get_inlines(self, request, obj):
        # The user's check-ins and referrals (rewards.admin), on an existing user's page only.
        return [*super().get_inlines(request, obj), *USER_REWARD_INLINES] if obj is not None else []

    # --- add and delete through the same services as the API -------------------------------------

    def save_model(self, request, obj, form, change):
        if change:
            return super().save_model(request, obj, form, change)
        # Registration writes the profile and the signup bonus (as a ledger row) like an API signup.
        user = user_register(email=obj.email, password=form.cleaned_data["password1"])
        obj.pk, obj.email, obj.password, obj.date_joined = user.pk, user.email, user.password, user.date_joined
        obj._state.adding = False
        obj._state.db = user._state.db

    def delete_model(self, request, obj):
        account_delete(user=obj)

    def delete_queryset(self, request, queryset):
        for user in queryset:
            account_delete(user=user)
