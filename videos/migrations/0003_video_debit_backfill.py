"""`Video.debit` is the one link from a video to its charge: rows made before it existed get it from the ledger."""

from django.db import migrations
from django.db.models import OuterRef, Subquery


def debit_backfill(apps, schema_editor):
    Video = apps.get_model("videos", "Video")
    CreditTransaction = apps.get_model("credits", "CreditTransaction")
    charge = CreditTransaction.objects.filter(video_id=OuterRef("pk"), type="usage").order_by("pk").values("pk")[:1]
    Video.objects.filter(debit__isnull=True).update(debit=Subquery(charge))


class Migration(migrations.Migration):
    dependencies = [
        ("credits", "0002_staff_permissions"),
        ("videos", "0002_generation_lifecycle"),
    ]

    operations = [migrations.RunPython(debit_backfill, migrations.RunPython.noop)]
