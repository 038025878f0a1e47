"""The ASGI application: every dialect mounted under its prefix, the admin routes,
and the outer layer that stamps request ids and headers, records the journal, and
carries out faults that act on the response itself."""

from __future__ import annotations

import logging
import time
from typing import Any, Protocol

import orjson
from starlette.requests import ClientDisconnect
from starlette.responses import Response
from starlette.types import Message, Receive, Scope, Send

from . import admin
from .chaos import Connection, Dropped
from .context import RequestContext
from .dialects.dashscope_compatible import CompatibleDialect
from .dialects.dashscope_native import NativeDialect, NativeFilesAPI
from .dialects.openai import OpenAIDialect
from .emulator import Emulator
from .errors import ConnectionRefusal, HeadersTooLarge, MockFilesError, ServerError
from .files_api import FilesAPI
from .protocol import Headers, Refusal, RequestSoFar
from .responses import JSONResponse
from .routes import Router
from .timeouts import Timeouts

log = logging.getLogger("mockfiles")
MAX_HEADER_BYTES = 32 * 1024  # the server itself (httptools) sets no limit
ADMIN_PATHS = admin.PREFIX + "/"


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
            routes=[
                *FilesAPI(emulator, self.openai).routes(self.openai.prefix),
                *FilesAPI(emulator, compatible).routes(compatible.prefix),
                *NativeFilesAPI(emulator, native).routes(native.prefix),
                *admin.routes(emulator),
            ]
        )

    def dialect_for(self, path: str) -> Dialect:
        end = path.find("/", 1)
        dialect = self.dialects.get(path[1:end] if end > 0 else path[1:])
        if dialect is not None and (path.startswith(dialect.prefix + "/") or path == dialect.prefix):
            return dialect
        return self.openai

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await other_protocol(scope, receive, send)
            return
        path: str = scope["path"]
        dialect = self.dialect_for(path)
        ctx = RequestContext(dialect.new_request_id(), dialect.name, scope["method"], path, scope["query_string"])
        ctx.generation = self.emulator.generation
        ctx.received_at, ctx.received_wall = self.emulator.clock.now(), time.time()
        ctx.journaled = not path.startswith(ADMIN_PATHS)
        scope["mockfiles"] = ctx
        header_bytes, body_expected = scan_headers(scope, ctx)
        ctx.connection = exchange = Exchange(self.emulator, dialect, ctx, scope, receive, send, body_expected)
        try:
            response: Response | None
            try:
                if header_bytes > MAX_HEADER_BYTES:
                    raise HeadersTooLarge(MAX_HEADER_BYTES)
                response = await self.router.respond(scope, exchange.receive if body_expected else receive)
            except Exception as exc:
                response = error_response(dialect, ctx, exc)
            if response is not None:
                await exchange.respond(response)
        finally:
            exchange.finish()

    # --- what the connection asks (protocol.Answers) ---------------------------------

    def timeouts(self) -> Timeouts:
        return self.emulator.timeouts

    def refuse(self, refusal: Refusal, request: RequestSoFar) -> tuple[int, Headers, bytes]:
        """A refusal by the connection itself, in the request's dialect, journaled like any answer:
        the request it cuts short if the application has it, else a new entry."""
        ctx: RequestContext | None = request.scope.get("mockfiles") if request.scope is not None else None
        if ctx is None:
            path = request.target.partition(b"?")[0].decode("latin-1")
            dialect = self.dialect_for(path)
            ctx = RequestContext(dialect.new_request_id(), dialect.name, request.method or "", path)
            ctx.generation = self.emulator.generation
            ctx.journaled = not path.startswith(ADMIN_PATHS)
        else:
            dialect = self.dialect_for(ctx.path)
        status, body, extra = dialect.error(ConnectionRefusal(refusal.status, refusal.message), ctx)
        ctx.status, ctx.action = status, refusal.action
        ctx.details.setdefault("error", body.get("error", body))
        record(self.emulator, ctx)
        headers = [(b"content-type", b"application/json")]
        headers += [(name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in extra.items()]
        headers += dialect.headers(ctx) if ctx.journaled else [(b"x-request-id", ctx.request_id.encode())]
        return status, headers, orjson.dumps(body)


def error_response(dialect: Dialect, ctx: RequestContext, exc: Exception) -> Response | None:
    """The one place where exceptions become responses (or no response)."""
    if isinstance(exc, Dropped):
        return None
    if isinstance(exc, ClientDisconnect):
        if ctx.recorded_at is None:  # else the connection already said how it ended (a timeout)
            ctx.action = "client_disconnected"
        return None
    if not isinstance(exc, MockFilesError):
        log.exception("mockfiles: unexpected error while answering %s %s", ctx.method, ctx.path, exc_info=exc)
        exc = ServerError(str(exc))
    status, body, headers = dialect.error(exc, ctx)
    ctx.details.setdefault("error", body.get("error", body))
    return JSONResponse(body, status, headers)


async def other_protocol(scope: Scope, receive: Receive, send: Send) -> None:
    """Lifespan events are acknowledged (there is nothing to start or stop); websockets are
    refused."""
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            kind = message["type"].rsplit(".", 1)[-1]  # startup / shutdown
            await send({"type": f"lifespan.{kind}.complete"})
            if kind == "shutdown":
                return
    elif scope["type"] == "websocket":
        await receive()  # websocket.connect
        await send({"type": "websocket.close", "code": 1000})


class Exchange(Connection):
    """One request between the server and the router, and the connection it came on:
    stamps the dialect's headers on the response, records the journal entry before any of
    the response goes out (so that a client that has its answer finds its entry), and
    carries out the faults that act on the response itself (``truncate``,
    ``reset_after_commit``)."""

    __slots__ = ("emulator", "dialect", "ctx", "scope", "body_read", "dropped")

    def __init__(
        self,
        emulator: Emulator,
        dialect: Dialect,
        ctx: RequestContext,
        scope: Scope,
        receive: Receive,
        send: Send,
        body_expected: bool,
    ) -> None:
        super().__init__(send, receive)
        self.emulator = emulator
        self.dialect = dialect
        self.ctx = ctx
        self.scope = scope
        self.body_read = not body_expected
        self.dropped = False

    async def receive(self) -> Message:
        message = await self._receive()
        if message["type"] != "http.request" or not message.get("more_body", False):
            self.body_read = True
        return message

    async def respond(self, response: Response) -> None:
        ctx = self.ctx
        ctx.status = response.status_code
        headers = response.raw_headers
        stamped = self.dialect.headers(ctx) if ctx.journaled else [(b"x-request-id", ctx.request_id.encode())]
        if ctx.fault is not None:  # a fault rule's own headers win over the dialect's
            given = {name for name, _ in headers}
            stamped = [h for h in stamped if h[0] not in given]
        headers += stamped
        if ctx.status >= 400 and ctx.journaled:
            ctx.advice = retry_advice(headers)
        if not self.body_read and expects_continue(self.scope):
            # Answered before the body was read (a refused upload) to a client that waits for
            # "100 Continue" before sending it: it may never send it, so the connection cannot
            # carry another request. Any other client's body is drained (protocol.py).
            headers.append((b"connection", b"close"))
        if self.client_gone():
            # The client went away while the answer was being made (it timed out during a
            # fault's delay): nothing reaches it, and the journal says so.
            ctx.details["unsent_status"] = ctx.status
            ctx.status, ctx.action = None, "client_disconnected"
            self.record()
            return
        if ctx.action == "reset_after_commit":
            ctx.details["committed_status"] = ctx.status
            ctx.status = None
            await self.drop(hard=True)
            return
        self.record()
        await response(self.scope, self._receive, self.truncate if ctx.action == "truncate" else self._send)

    async def truncate(self, message: Message) -> None:
        """Send the head and half of the first piece of the body, then close the connection."""
        if self.dropped:
            return
        if message["type"] == "http.response.body":
            self.dropped = True
            body: bytes = message.get("body", b"")
            await self._send({"type": "http.response.body", "body": body[: len(body) // 2], "more_body": True})
            self.close_after_flush()
            await self.closed()
            return
        await self._send(message)

    def record(self) -> None:
        record(self.emulator, self.ctx)

    def before_drop(self) -> None:
        self.record()

    def finish(self) -> None:
        ctx = self.ctx
        if ctx.recorded_at is None:
            self.record()
        ctx.ended = time.perf_counter()
        # Breaking the cycle context -> exchange -> context frees the request's objects at
        # once, rather than leaving them to the cyclic garbage collector.
        ctx.connection = None


def record(emulator: Emulator, ctx: RequestContext) -> None:
    """Journal the request, once, unless it belongs to a state a reset has replaced."""
    if ctx.journaled and ctx.recorded_at is None and emulator.is_current(ctx):
        ctx.recorded_at, ctx.recorded_wall = emulator.clock.now(), time.time()
        emulator.journal.record(ctx)


def expects_continue(scope: Scope) -> bool:
    return any(name == b"expect" and value.lower() == b"100-continue" for name, value in scope["headers"])


ADVICE_HEADERS = (b"retry-after", b"retry-after-ms", b"x-should-retry")


def retry_advice(headers: list[tuple[bytes, bytes]]) -> dict[str, str] | None:
    """The response headers that tell a client whether and when to retry, for the journal."""
    advice = {name.decode(): value.decode("latin-1") for name, value in headers if name in ADVICE_HEADERS}
    return advice or None


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
