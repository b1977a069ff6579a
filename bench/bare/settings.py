"""The least Django and DRF need to answer JSON: no middleware, no database, no authentication."""

DEBUG = False
# Nothing is signed or stored here; Django only insists that a key exists.
SECRET_KEY = "bench-bare-project-signs-nothing"
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
INSTALLED_APPS = ["rest_framework"]
MIDDLEWARE: list = []
ROOT_URLCONF = "bare.urls"
DATABASES: dict = {}
USE_TZ = True
USE_I18N = False

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.AllowAny"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    # No user object at all for anonymous requests (the default builds an AnonymousUser).
    "UNAUTHENTICATED_USER": None,
}
