from django.contrib.admin.apps import AdminConfig


class BackofficeAdminConfig(AdminConfig):
    """Replaces django.contrib.admin in INSTALLED_APPS so `admin.site` is the back office site."""

    default_site = "aiasmr.backoffice.site.BackofficeSite"
