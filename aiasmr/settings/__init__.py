"""Settings for aiasmr: every knob an environment variable with a safe development default, in modules
by concern (base: the framework, security, storage, auth, limits; payments; generation). `.env.example`
documents every variable.

Production mode (DJANGO_ENV=production) refuses to start without a real secret key, allowed hosts,
a database URL, storage and payment settings.
"""

from django.core.exceptions import ImproperlyConfigured

from aiasmr.config.guard import production_problems
from aiasmr.settings.base import *  # noqa: F403
from aiasmr.settings.generation import *  # noqa: F403
from aiasmr.settings.payments import *  # noqa: F403

if IS_PRODUCTION and (problems := production_problems(values=globals())):  # noqa: F405
    raise ImproperlyConfigured("DJANGO_ENV=production refuses to start without: " + ", ".join(problems))
