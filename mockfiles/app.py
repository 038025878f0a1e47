"""The ASGI application: every dialect mounted under its prefix, the admin routes,
and the outer layer that stamps request ids and headers, records the journal, and
carries out faults that act on the response itself."""

from __future__ import annotations

import logging
import time
from typing import Any, Protocol

from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect
from starlette.routing import Router
from starlette.types import Message, Receive, Scope, Send

from . import admin
from .chaos import Connection, Dropped
from .context import RequestContext
from .dialects.dashscope_compatible import CompatibleDialect
from .dialects.dashscope_native import NativeDialect, NativeFilesAPI
from .dialects.openai import OpenAIDialect
from .emulator import Emulator
from .errors import MethodNotAllowed, MockFilesError, NotFound, ServerError
from .files_api import FilesAPI
from .responses import JSONResponse

log = logging.getLogger("mockfiles")
MAX_HEADER_BYTES = 32 * 1024  # the server itself (httptools) sets no limit


class HeadersTooLarge(MockFilesError):
    status = 431
    type = "invalid_request_error"


class Dialect(Protocol):
    """How one wire dialect shows request ids, headers and errors."""

    name: str
    prefix: str

    def new_request_id(self) -> str: ...
    def headers(self, ctx: RequestContext) -> list[tuple[bytes, bytes]]: ...
    def error(self, err: MockFilesError, ctx: RequestContext) -> tuple[int, dict[str, Any], dict[str, str]]: ...


class MockFilesApp:
    """The outer ASGI layer around the router. Every dialect is always mounted; the
    path decides which one answers, and every error is rendered here, in its shape."""

    def __init__(self, emulator: Emulator) -> None:
        self.emulator = emulator
        self.openai = OpenAIDialect()
        compatible = CompatibleDialect()
        native = NativeDialect()
        self.dialects: dict[str, Dialect] = {  # by the first segment of their prefix
            d.prefix.split("/")[1]: d for d in (self.openai, compatible, native)
        }
        self.router = Router(
            routes=[  # flat: one routing level, no Mount to walk through
                *FilesAPI(emulator, self.openai).routes(self.openai.prefix),
                *FilesAPI(emulator, compatible).routes(compatible.prefix),
                *NativeFilesAPI(emulator, native).routes(native.prefix),
                *admin.routes(emulator),
            ],
            redirect_slashes=False,  # /v1/files/ is an unknown URL, as on the real API
        )

    def dialect_for(self, path: str) -> Dialect:
        end = path.find("/", 1)
        dialect = self.dialects.get(path[1:end] if end > 0 else path[1:])
        if dialect is not None and (path.startswith(dialect.prefix + "/") or path == dialect.prefix):
            return dialect
        return self.openai

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.router(scope, receive, send)  # lifespan
            return
        path: str = scope["path"]
        dialect = self.dialect_for(path)
        ctx = RequestContext(dialect.new_request_id(), dialect.name, scope["method"], path, scope["query_string"])
        ctx.generation = self.emulator.generation
        ctx.journaled = not path.startswith(admin.PREFIX + "/") and path != admin.PREFIX
        scope["mockfiles"] = ctx
        scope["app"] = self  # the router then raises 404/405 as HTTPException, rendered below
        exchange = Exchange(self.emulator, dialect, ctx, scope, receive, send)
        header_bytes, body_expected = scan_headers(scope, ctx)
        exchange.body_read = not body_expected
        ctx.connection = Connection(send, receive, before_drop=exchange.record)
        try:
            if header_bytes > MAX_HEADER_BYTES:
                raise HeadersTooLarge(
                    f"Request header fields too large: at most {MAX_HEADER_BYTES} bytes of headers are accepted.",
                    headers={"connection": "close"},
                )
            await self.router(scope, exchange.receive if body_expected else receive, exchange.send)
        except Exception as exc:
            await self.answer_error(exchange, exc)
        finally:
            exchange.finish()

    async def answer_error(self, exchange: Exchange, exc: Exception) -> None:
        """The one place where exceptions become responses (or no response)."""
        ctx = exchange.ctx
        if isinstance(exc, Dropped):
            return
        if isinstance(exc, ClientDisconnect):
            ctx.action = "client_disconnected"
            return
        if exchange.started:
            raise exc  # part of a response is out: the server closes the connection
        if isinstance(exc, HTTPException):
            exc = http_error(exc, ctx)
        elif not isinstance(exc, MockFilesError):
            log.exception("mockfiles: unexpected error while answering %s %s", ctx.method, ctx.path, exc_info=exc)
            exc = ServerError(str(exc))
        status, body, headers = exchange.dialect.error(exc, ctx)
        ctx.details.setdefault("error", body.get("error", body))
        await JSONResponse(body, status, headers)(exchange.scope, exchange.receive, exchange.send)


def http_error(exc: HTTPException, ctx: RequestContext) -> MockFilesError:
    """The router's 404 and 405, as the real API words them."""
    where = f"{ctx.method} {ctx.path}"
    if exc.status_code == 405:
        return MethodNotAllowed(f"Invalid method for URL ({where})", headers=exc.headers)
    if exc.status_code == 404:
        return NotFound(f"Invalid URL ({where})")
    error = MockFilesError(str(exc.detail))
    error.status = exc.status_code
    return error


class Exchange:
    """One request between the server and the router: stamps the dialect's headers on
    the response, records the journal entry, and carries out the faults that act on the
    response itself (``truncate``, ``reset_after_commit``)."""

    __slots__ = ("emulator", "dialect", "ctx", "scope", "_receive", "_send", "body_read", "started", "dropped")

    def __init__(
        self, emulator: Emulator, dialect: Dialect, ctx: RequestContext, scope: Scope, receive: Receive, send: Send
    ) -> None:
        self.emulator = emulator
        self.dialect = dialect
        self.ctx = ctx
        self.scope = scope
        self._receive = receive
        self._send = send
        self.body_read = True
        self.started = False
        self.dropped = False

    async def receive(self) -> Message:
        message = await self._receive()
        if message["type"] != "http.request" or not message.get("more_body", False):
            self.body_read = True
        return message

    async def send(self, message: Message) -> None:
        if self.dropped:
            return
        ctx = self.ctx
        if message["type"] == "http.response.start":
            self.started = True
            ctx.status = message["status"]
            if ctx.action == "reset_after_commit":
                ctx.details["committed_status"] = ctx.status
                ctx.status = None
                self.dropped = True
                await ctx.connection.drop(hard=True)
                return
            ours = self.dialect.headers(ctx) if ctx.journaled else [(b"x-request-id", ctx.request_id.encode())]
            message["headers"] = headers = [*message["headers"], *ours]
            if not self.body_read:
                # Answered before the body was read (a refused upload): close the connection
                # rather than let the server drain the rest of the body for keep-alive.
                headers.append((b"connection", b"close"))
        elif message["type"] == "http.response.body":
            if ctx.action == "truncate":
                body: bytes = message.get("body", b"")
                self.dropped = True
                self.record()
                await self._send({"type": "http.response.body", "body": body[: len(body) // 2], "more_body": True})
                ctx.connection.close_after_flush()
                await ctx.connection.closed()
                return
            if not message.get("more_body", False):
                self.record()
        await self._send(message)

    def record(self) -> None:
        """Journal the request before the last byte goes out (or the connection is dropped),
        so that a client that has its answer finds its entry."""
        ctx = self.ctx
        if ctx.journaled and ctx.time is None and self.emulator.is_current(ctx):
            ctx.time, ctx.wall_time = self.emulator.clock.now(), time.time()
            self.emulator.journal.record(ctx)

    def finish(self) -> None:
        ctx = self.ctx
        if ctx.time is None:
            self.record()
        ctx.ended = time.perf_counter()
        # The connection handle refers back to this exchange: without this reference cycle,
        # the request's objects are freed at once rather than by the cyclic garbage collector.
        ctx.connection = None


def scan_headers(scope: Scope, ctx: RequestContext) -> tuple[int, bool]:
    """One pass over the request headers: their total size, whether a body follows, and
    (for the journal) the SDK's retry count."""
    size, body = 0, False
    for name, value in scope["headers"]:
        size += len(name) + len(value)
        if name == b"content-length":
            body = value.strip() not in (b"0", b"")
        elif name == b"transfer-encoding":
            body = True
        elif name == b"x-stainless-retry-count":
            ctx.retry_count = int(value) if value.isdigit() else None
    return size, body


def build_app(emulator: Emulator) -> MockFilesApp:
    return MockFilesApp(emulator)
