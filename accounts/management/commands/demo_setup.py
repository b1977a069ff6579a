"""Creates (or resets) the demo staff user for `make run` and prints how to log in."""

import os

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from accounts.models import Profile, User


class Command(BaseCommand):
    help = "Create the demo staff user for local runs and print its credentials."

    def handle(self, *args, **options):
        if settings.IS_PRODUCTION:
            # A superuser with a password printed to the terminal (and a known default) has no place there.
            raise CommandError("demo_setup refuses to run with DJANGO_ENV=production.")
        email = os.environ.get("DEMO_STAFF_EMAIL", "admin@aiasmr.local")
        password = os.environ.get("DEMO_STAFF_PASSWORD", "Admin-demo-123!")
        user = User.objects.filter(email=email).first()
        if user is None:
            user = User.objects.create_superuser(email=email, password=password)
        else:
            user.is_staff = user.is_superuser = user.is_active = True
            user.set_password(password)
            user.save()
        Profile.objects.get_or_create(user=user)
        self.stdout.write(f"Admin login: {email} / {password}")
