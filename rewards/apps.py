from django.apps import AppConfig


class RewardsConfig(AppConfig):
    name = "rewards"
    verbose_name = "Free credits"
    default_auto_field = "django.db.models.BigAutoField"
