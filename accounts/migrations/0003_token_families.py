import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0002_profile_plan_entitlements"),
    ]

    operations = [
        migrations.AddField(
            model_name="user",
            name="sessions_revoked_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.CreateModel(
            name="RevokedTokenFamily",
            fields=[
                ("family", models.UUIDField(primary_key=True, serialize=False)),
                ("reason", models.CharField(max_length=32)),
                ("revoked_at", models.DateTimeField(default=django.utils.timezone.now)),
                (
                    "user",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="revoked_token_families",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
        ),
    ]
