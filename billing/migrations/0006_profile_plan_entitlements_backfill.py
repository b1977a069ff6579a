"""Copies what each plan grants onto the profiles on it (accounts now reads entitlements from the profile)."""

from django.db import migrations


def backfill(apps, schema_editor):
    Plan = apps.get_model("billing", "Plan")
    Profile = apps.get_model("accounts", "Profile")
    for plan in Plan.objects.all():
        Profile.objects.filter(plan_type=plan.slug).update(
            plan_max_quality=plan.max_quality, plan_commercial_use=plan.commercial_use
        )


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0002_profile_plan_entitlements"),
        ("billing", "0005_order_invoice_payment_intent"),
    ]

    operations = [migrations.RunPython(backfill, migrations.RunPython.noop)]
