"""Small pieces the app admins share: error text, POST-only object views, links (framework glue: no app)."""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseNotAllowed, HttpResponseRedirect
from django.urls import reverse
from django.utils.html import format_html

from aiasmr.api.exceptions import ApiError


class ReadOnlyMixin:
    """Nobody adds, changes or deletes through the admin: state changes only through the services."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class OwnerColumnsMixin:
    """Columns for records that belong to a user who may have deleted their account."""

    @admin.display(description="id")
    def short_id(self, obj):
        return str(obj.pk)[:8]

    @admin.display(description="user", ordering="user__email")
    def user_email(self, obj):
        return obj.user.email if obj.user else "(deleted account)"

    @admin.display(description="user")
    def user_link(self, obj):
        return admin_link(obj.user, obj.user.email) if obj.user else "(deleted account)"


def error_text(exc: ApiError) -> str:
    return f"{exc.message} ({exc.code})"


def admin_link(obj, text=None) -> str:
    """A link to `obj`'s admin change page, or '-' when there is none."""
    if obj is None:
        return "-"
    opts = obj._meta
    url = reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk])
    return format_html('<a href="{}">{}</a>', url, text if text is not None else str(obj))


def change_url(obj) -> str:
    opts = obj._meta
    return reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk])


def object_action(modeladmin, request, object_id, *, permission: str, run):
    """A POST-only staff action on one object: checks `permission`, runs `run(obj)`, reports, redirects back.

    `run` returns a success message (the action happened: logged as an admin change) or None with a warning
    already given; an ApiError from a service becomes an error message.
    """
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    if not request.user.has_perm(permission):
        raise PermissionDenied
    obj = modeladmin.get_object(request, object_id)
    if obj is None:
        raise Http404
    if not modeladmin.has_view_permission(request, obj):
        raise PermissionDenied
    try:
        done = run(obj)
    except ApiError as exc:
        modeladmin.message_user(request, error_text(exc), messages.ERROR)
    else:
        if done:
            modeladmin.log_change(request, obj, done)
            modeladmin.message_user(request, done, messages.SUCCESS)
    return HttpResponseRedirect(change_url(obj))
