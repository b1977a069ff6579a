"""Seeds the credit packages and plans of business-rules.md; staff edit them afterwards in the admin.

The tables are copied here (not imported) so this migration keeps meaning what it meant when written.
"""

from decimal import Decimal

from django.db import migrations

PACKAGES = [
    # slug, name, credits, price, savings %, popular, sort order
    ("basic", "Basic", 100, "9.99", 0, False, 1),
    ("standard", "Standard", 250, "19.99", 20, True, 2),
    ("premium", "Premium", 500, "34.99", 30, False, 3),
    ("enterprise", "Enterprise", 1000, "59.99", 40, False, 4),
]

PLANS = [
    # slug, name, price, credits per period, interval, max quality, commercial use, sort order
    ("trial", "Trial", "7.90", 100, "one_off", "720p", False, 1),
    ("basic", "Basic", "19.90", 300, "month", "720p", True, 2),
    ("pro", "Pro", "49.90", 1500, "month", "1080p", True, 3),
]


def seed(apps, schema_editor):
    CreditPackage = apps.get_model("billing", "CreditPackage")
    Plan = apps.get_model("billing", "Plan")
    for slug, name, credits, price, savings, popular, order in PACKAGES:
        CreditPackage.objects.get_or_create(
            slug=slug,
            defaults={
                "name": name,
                "credits": credits,
                "price": Decimal(price),
                "currency": "USD",
                "savings_percent": savings,
                "popular": popular,
                "sort_order": order,
            },
        )
    for slug, name, price, credits, interval, quality, commercial, order in PLANS:
        Plan.objects.get_or_create(
            slug=slug,
            defaults={
                "name": name,
                "price": Decimal(price),
                "currency": "USD",
                "credits_per_period": credits,
                "interval": interval,
                "max_quality": quality,
                "commercial_use": commercial,
                "sort_order": order,
            },
        )


class Migration(migrations.Migration):
    dependencies = [("billing", "0002_order_payment_fields")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
