from django.apps import AppConfig


class SupabaseImportConfig(AppConfig):
    name = "supabase_import"
    verbose_name = "Import from Supabase"
