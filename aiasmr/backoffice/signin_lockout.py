"""An admin sign-in lockout (django-axes) is logged and written to the admin log of the locked account."""

import logging

from axes.handlers.database import AxesDatabaseHandler
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType

logger = logging.getLogger("aiasmr.security")


class AdminSignInHandler(AxesDatabaseHandler):
    """Counts the admin's sign-ins only: the API's sign-in (JWT, its own limiter) neither adds attempts
    that would lock a staff member out of the admin, nor clears them."""

    def user_login_failed(self, sender, credentials: dict, request=None, **kwargs):
        if request is not None and self.is_admin_request(request):
            super().user_login_failed(sender, credentials, request, **kwargs)

    def user_logged_in(self, sender, request, user, **kwargs):
        if request is not None and self.is_admin_request(request):
            super().user_logged_in(sender, request, user, **kwargs)

    def user_logged_out(self, sender, request, user, **kwargs):
        if request is not None and self.is_admin_request(request):
            super().user_logged_out(sender, request, user, **kwargs)


def admin_signin_locked_out(sender, *, request=None, username=None, ip_address=None, **kwargs) -> None:
    logger.warning(
        "admin sign-in locked", extra={"event": "admin_login_locked", "username": username, "ip": ip_address}
    )
    user_model = get_user_model()
    user = user_model.objects.filter(email__iexact=(username or "").strip()).first() if username else None
    if user is None:
        return  # an unknown account: the access attempt row and the log line are the record
    LogEntry.objects.create(
        user=user,
        content_type=ContentType.objects.get_for_model(user_model),
        object_id=str(user.pk),
        object_repr=str(user)[:200],
        action_flag=CHANGE,
        change_message=f"Admin sign-in locked after too many wrong passwords (from {ip_address}).",
    )
