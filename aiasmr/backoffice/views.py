"""The dashboard page inside the admin (routed by BackofficeSite.get_urls, so only staff reach it)."""

from django.template.response import TemplateResponse

from aiasmr.backoffice.charts import Series, bar_chart
from aiasmr.backoffice.selectors import dashboard_data
from videos.models import STATUS_COLORS


def dashboard(request, *, site):
    data = dashboard_data()
    days = data["days"]
    charts = [
        bar_chart(
            chart_id="chart-generations",
            title="Generations per day by status",
            days=days,
            stacked=True,
            series=[
                Series(status, status.capitalize(), STATUS_COLORS[status], values)
                for status, values in data["generations"].items()
            ],
        ),
        bar_chart(
            chart_id="chart-credits",
            title="Credits per day: spent, purchased, granted free, refunded",
            days=days,
            stacked=False,
            series=[
                Series("spent", "Spent", "#3f73b0", data["credits"]["spent"]),
                Series("purchased", "Purchased", "#2e8b57", data["credits"]["purchased"]),
                Series("free", "Free (bonus, check-in, referral)", "#8e44ad", data["credits"]["free"]),
                Series("refunded", "Refunded", "#e67e22", data["credits"]["refunded"]),
            ],
        ),
        bar_chart(
            chart_id="chart-revenue",
            title="Revenue per day",
            days=days,
            stacked=False,
            money=True,
            series=[
                Series("revenue", "Paid orders", "#2e8b57", data["revenue"]["revenue"]),
                Series("refunds", "Provider refunds", "#c0392b", data["revenue"]["refunds"]),
            ],
        ),
    ]
    top = max((reason["count"] for reason in data["failure_reasons"]), default=0)
    for reason in data["failure_reasons"]:
        reason["percent"] = round(100 * reason["count"] / top) if top else 0
    context = {
        **site.each_context(request),
        "title": "Dashboard",
        "subtitle": f"Last {len(days)} days (UTC), from {days[0]:%Y-%m-%d} to {days[-1]:%Y-%m-%d}",
        "charts": charts,
        "data": data,
    }
    return TemplateResponse(request, "admin/backoffice/dashboard.html", context)
