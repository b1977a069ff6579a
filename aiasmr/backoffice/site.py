from django.contrib import admin
from django.urls import path


class BackofficeSite(admin.AdminSite):
    """The admin site with the business dashboard; only active staff get in (AdminSite.has_permission)."""

    site_header = "aiasmr back office"
    site_title = "aiasmr back office"
    index_title = "Back office"
    site_url = None  # the service has no public web site; "/" is the API's 404

    def get_urls(self):
        return [
            path("dashboard/", self.admin_view(self.dashboard_view), name="dashboard"),
            *super().get_urls(),
        ]

    def dashboard_view(self, request):
        # Not at module level: this module is loaded while the app registry fills (the admin's default
        # site), before the models the dashboard reads can be imported.
        from aiasmr.backoffice.views import dashboard

        return dashboard(request, site=self)
