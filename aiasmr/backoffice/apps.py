from django.contrib.admin.apps import AdminConfig


class BackofficeAdminConfig(AdminConfig):
    """Replaces django.contrib.admin in INSTALLED_APPS so `admin.site` is the back office site."""

    default_site = "aiasmr.backoffice.site.BackofficeSite"

    def ready(self):
        super().ready()
        from axes.signals import user_locked_out

        from aiasmr.backoffice.signin_lockout import admin_signin_locked_out

        user_locked_out.connect(admin_signin_locked_out, dispatch_uid="backoffice_admin_signin_locked_out")
