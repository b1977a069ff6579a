"""A bare Django + DRF project with one view: the framework's own ceiling for `make bench`.

It imports nothing of the service: the benchmark serves it with the service's server, worker class,
worker count and threads, so `project req/s / bare req/s` is the share of the framework's best that an
endpoint keeps. Served from `bench/` as `bare.asgi:application` (or `bare.wsgi:application`) with
DJANGO_SETTINGS_MODULE=bare.settings.
"""
