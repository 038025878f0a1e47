"""How a request reaches its handler: one Starlette ``Route`` per path, whose endpoint
picks the handler for the request's method.

The endpoint is a plain ASGI app rather than a request/response function, so that no
per-route exception wrapper runs: every error rises to the outer layer (``app.py``),
which renders it, in the dialect of the path, in one place.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

Handler = Callable[[Request], Awaitable[Any]]


class Endpoint:
    def __init__(self, handlers: dict[str, Handler]) -> None:
        self.handlers = handlers

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = await self.handlers[scope["method"]](Request(scope, receive, send))
        await response(scope, receive, send)


def by_method(path: str, **handlers: Handler) -> Route:
    """One route per path, so that a 405 lists every method the path allows; HEAD is
    answered as GET."""
    if "GET" in handlers:
        handlers.setdefault("HEAD", handlers["GET"])
    return Route(path, Endpoint(handlers), methods=list(handlers))
