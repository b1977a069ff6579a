"""Express routers are not strict: `/api/x/` is `/api/x`. One trailing slash is optional on every API route.

Routes are registered in one spelling (most without the slash; a few, like the Stripe webhook, with it). This
middleware rewrites the path to the registered spelling before URL resolution: no redirect, so a POST keeps
its body. It costs a few regex matches (the routes registered with a slash), never a second resolve.
"""

import functools
import re

from django.conf import settings
from django.urls import URLResolver, get_resolver

# The API's paths; the admin and media keep Django's own slash rules.
_APPLIES = re.compile(r"^/(api/.|health/?$)")
_API_PREFIXES = ("api/", "health")


def _endpoint_regexes(patterns, prefix: str):
    for entry in patterns:
        part = entry.pattern.regex.pattern.removeprefix("^")
        if isinstance(entry, URLResolver):
            yield from _endpoint_regexes(entry.url_patterns, prefix + part)
        else:
            yield prefix + part


@functools.lru_cache(maxsize=8)
def slashed_routes(urlconf: str) -> tuple[re.Pattern, ...]:
    """The API routes of `urlconf` registered with a trailing slash, as regexes over the path without its
    leading `/`."""
    found = []
    for regex in _endpoint_regexes(get_resolver(urlconf).url_patterns, ""):
        if regex.startswith(_API_PREFIXES) and regex.removesuffix(r"\Z").removesuffix("$").endswith("/"):
            found.append(re.compile(regex))
    return tuple(found)


def registered_spelling(path: str, *, urlconf: str) -> str:
    """`path` with or without its one trailing slash, whichever way its route is registered."""
    if not _APPLIES.match(path):
        return path
    routes = slashed_routes(urlconf)
    if path.endswith("/"):
        return path if any(route.match(path[1:]) for route in routes) else path[:-1]
    with_slash = path[1:] + "/"
    return path + "/" if any(route.match(with_slash) for route in routes) else path


class TrailingSlashMiddleware:
    """Before URL resolution: the path in the spelling its route is registered with."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        urlconf = getattr(request, "urlconf", None) or settings.ROOT_URLCONF
        spelling = registered_spelling(request.path_info, urlconf=urlconf)
        if spelling != request.path_info:
            script = request.path[: len(request.path) - len(request.path_info)]
            request.path_info = spelling
            request.path = script + spelling
        return self.get_response(request)
