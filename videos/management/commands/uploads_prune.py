"""Removes image uploads that no generation used, older than UPLOAD_UNUSED_MAX_AGE_HOURS (or --hours)."""

from datetime import timedelta

from django.conf import settings
from django.core.management.base import BaseCommand

from videos.uploads import uploads_prune


class Command(BaseCommand):
    help = "Remove image uploads no generation used that are older than the configured age."

    def add_arguments(self, parser):
        parser.add_argument("--hours", type=float, default=settings.UPLOAD_UNUSED_MAX_AGE_HOURS)
        parser.add_argument("--limit", type=int, default=1000)

    def handle(self, *args, hours, limit, **options):
        removed = uploads_prune(older_than=timedelta(hours=hours), limit=limit)
        self.stdout.write(f"removed {removed} unused upload(s) older than {hours:g} h")
