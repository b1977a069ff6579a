"""Django's ASGI handler, running each request's whole middleware chain and view as one sync call.

Every middleware and view here is synchronous. Django's own ASGI handler builds an async chain and adapts
each sync piece with its own hop between the event loop and a thread: a sync middleware in the middle of
async-capable ones costs two hops, and an async-capable `MiddlewareMixin` (Security, sessions, CSRF, CSP...)
runs its `process_request` and `process_response` each in a hop of its own: 18 hops for `GET /api/ping`,
about half of its CPU (bench/README.md). Here the chain is built in sync mode and called once on the
request's thread, as under WSGI (3 hops with request_started and response.close); the event loop still
reads and writes the connections, so a slow client holds no thread.
"""

from asgiref.sync import sync_to_async
from django.core.handlers.asgi import ASGIHandler


class SyncChainASGIHandler(ASGIHandler):
    def load_middleware(self, is_async=False):
        super().load_middleware(is_async=False)

    async def get_response_async(self, request):
        # thread_sensitive: the same per-request thread as `response.close()`, which ends the request's
        # database connections (they are thread-local).
        return await sync_to_async(self.get_response, thread_sensitive=True)(request)
