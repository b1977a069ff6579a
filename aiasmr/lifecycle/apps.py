from django.apps import AppConfig


class LifecycleConfig(AppConfig):
    """No models: installed so that its admin module registers the User admin."""

    name = "aiasmr.lifecycle"
    label = "lifecycle"
    verbose_name = "Account lifecycle"
