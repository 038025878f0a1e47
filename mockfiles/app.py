"""The ASGI application: every dialect mounted under its prefix, the admin routes,
and the outer layer that stamps request ids and headers, records the journal, and
carries out faults that act on the response itself."""

from __future__ import annotations

import logging
import time
from typing import Any, Protocol

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
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
    """The outer ASGI layer around the Starlette app. Every dialect is always mounted;
    the path decides which one answers."""

    def __init__(self, emulator: Emulator) -> None:
        self.emulator = emulator
        self.openai = OpenAIDialect()
        compatible = CompatibleDialect()
        native = NativeDialect()
        self.dialects: list[Dialect] = [compatible, native, self.openai]
        self.app = Starlette(
            routes=[  # flat: one routing level, no Mount to walk through
                *FilesAPI(emulator, self.openai).routes(self.openai.prefix),
                *FilesAPI(emulator, compatible).routes(compatible.prefix),
                *NativeFilesAPI(emulator, native).routes(native.prefix),
                *admin.routes(emulator),
            ],
            exception_handlers={
                MockFilesError: self.render_error,
                HTTPException: self.render_http_exception,
                Dropped: no_response,
                ClientDisconnect: self.client_gone,
                Exception: self.render_crash,
            },
        )
        self.app.router.redirect_slashes = False  # /v1/files/ is an unknown URL, as on the real API

    def dialect_for(self, path: str) -> Dialect:
        for dialect in self.dialects:
            if path.startswith(dialect.prefix + "/") or path == dialect.prefix:
                return dialect
        return self.openai

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        dialect = self.dialect_for(path)
        ctx = RequestContext(dialect.new_request_id(), dialect.name, scope["method"], path)
        ctx.generation = self.emulator.generation
        ctx.journaled = not path.startswith(admin.PREFIX + "/") and path != admin.PREFIX
        scope["mockfiles"] = ctx
        header_bytes, body_expected = scan_headers(scope)
        if header_bytes > MAX_HEADER_BYTES:
            await self.refuse(
                scope,
                receive,
                send,
                dialect,
                ctx,
                HeadersTooLarge(
                    f"Request header fields too large: at most {MAX_HEADER_BYTES} bytes of headers are accepted."
                ),
            )
            return
        state: dict[str, Any] = {"dropped": False, "entry": None, "body_read": not body_expected}

        async def receive_tracking() -> Message:
            message = await receive()
            if message["type"] != "http.request" or not message.get("more_body", False):
                state["body_read"] = True
            return message

        def record() -> None:
            # Before the last byte goes out (or the connection is dropped), so that a client
            # that has its answer finds its entry; the duration is brought up to date at the end.
            if ctx.journaled and state["entry"] is None and self.emulator.is_current(ctx):
                state["entry"] = journal_entry(ctx, self.emulator.clock.now(), scope)
                self.emulator.journal.record(state["entry"])

        ctx.connection = Connection(send, receive, before_drop=record)

        async def send_with_headers(message: Message) -> None:
            if state["dropped"]:
                return
            if message["type"] == "http.response.start":
                ctx.status = message["status"]
                if ctx.action == "reset_after_commit":
                    ctx.details["committed_status"] = ctx.status
                    ctx.status = None
                    state["dropped"] = True
                    await ctx.connection.drop(hard=True)
                    return
                headers = list(message.get("headers", []))
                headers += dialect.headers(ctx) if ctx.journaled else [(b"x-request-id", ctx.request_id.encode())]
                if not state["body_read"]:
                    # Answered before the body was read (a refused upload): close the connection
                    # rather than let the server drain the rest of the body for keep-alive.
                    headers.append((b"connection", b"close"))
                message = {**message, "headers": headers}
            elif message["type"] == "http.response.body":
                if ctx.action == "truncate":
                    body: bytes = message.get("body", b"")
                    state["dropped"] = True
                    record()
                    await send({"type": "http.response.body", "body": body[: len(body) // 2], "more_body": True})
                    ctx.connection.close_after_flush()
                    await ctx.connection.closed()
                    return
                if not message.get("more_body", False):
                    record()
            await send(message)

        try:
            await self.app(scope, receive_tracking, send_with_headers)
        finally:
            if state["entry"] is None:
                record()
            else:
                state["entry"]["duration_ms"] = ctx.elapsed_ms()

    async def refuse(
        self, scope: Scope, receive: Receive, send: Send, dialect: Dialect, ctx: RequestContext, err: MockFilesError
    ) -> None:
        """Answer before any routing (the request is not journaled)."""
        status, body, headers = dialect.error(err, ctx)
        response = JSONResponse(body, status, {**headers, "connection": "close"})
        response.raw_headers += dialect.headers(ctx)
        await response(scope, receive, send)

    # --- errors: every error response is made here -------------------------------------

    def _context(self, request: Request) -> RequestContext:
        return request.scope["mockfiles"]

    async def render_error(self, request: Request, exc: Exception) -> Response:
        assert isinstance(exc, MockFilesError)
        ctx = self._context(request)
        status, body, headers = self.dialect_for(ctx.path).error(exc, ctx)
        ctx.details.setdefault("error", body.get("error", body))
        return JSONResponse(body, status_code=status, headers=headers)

    async def render_http_exception(self, request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        where = f"{request.method} {request.url.path}"
        error: MockFilesError
        if exc.status_code == 405:
            error = MethodNotAllowed(f"Invalid method for URL ({where})", headers=exc.headers)
        elif exc.status_code == 404:
            error = NotFound(f"Invalid URL ({where})")
        else:
            error = MockFilesError(str(exc.detail))
            error.status = exc.status_code
        return await self.render_error(request, error)

    async def client_gone(self, request: Request, exc: Exception) -> Response:
        self._context(request).action = "client_disconnected"
        return _NoResponse()

    async def render_crash(self, request: Request, exc: Exception) -> Response:
        log.exception("mockfiles: unexpected error while answering %s %s", request.method, request.url.path)
        return await self.render_error(request, ServerError(str(exc)))


async def no_response(request: Request, exc: Exception) -> Response:
    return _NoResponse()


class _NoResponse(Response):
    """The connection is already closed; there is nothing to send."""

    def __init__(self) -> None:
        super().__init__()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        return None


def scan_headers(scope: Scope) -> tuple[int, bool]:
    """One pass over the request headers: their total size, and whether a body follows."""
    size, body = 0, False
    for name, value in scope["headers"]:
        size += len(name) + len(value)
        if name == b"content-length":
            body = value.strip() not in (b"0", b"")
        elif name == b"transfer-encoding":
            body = True
    return size, body


def journal_entry(ctx: RequestContext, now: float, scope: Scope) -> dict[str, Any]:
    retry = None
    for name, value in scope["headers"]:
        if name == b"x-stainless-retry-count":
            retry = int(value) if value.isdigit() else None
    entry = {
        "time": now,
        "wall_time": time.time(),
        "request_id": ctx.request_id,
        "dialect": ctx.dialect,
        "method": ctx.method,
        "path": ctx.path,
        "query": scope["query_string"].decode("latin-1"),
        "endpoint": ctx.endpoint,
        "account": ctx.key,
        "status": ctx.status,
        "fault": ctx.fault,
        "action": ctx.action,
        "retry_count": retry,
        "duration_ms": ctx.elapsed_ms(),
    }
    if ctx.details:
        entry.update(ctx.details)
    return entry


def build_app(emulator: Emulator) -> MockFilesApp:
    return MockFilesApp(emulator)
