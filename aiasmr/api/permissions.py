"""Permissions whose refusals carry Express's codes."""

from rest_framework.permissions import BasePermission

from aiasmr.api.exceptions import InsufficientPermissions


class IsStaff(BasePermission):
    """Staff only; after IsAuthenticated, so no token is still 401 NO_TOKEN. A signed-in user who is not
    staff gets 403 INSUFFICIENT_PERMISSIONS (Express's adminAuthMiddleware)."""

    def has_permission(self, request, view) -> bool:
        if not request.user.is_staff:
            raise InsufficientPermissions("Admin access required.")
        return True
