"""The ASGI application: the dialect of a request by its path, the request's record, the router,
the front layer before every endpoint's handler, and the one place where exceptions become
responses (in the request's dialect). docs/architecture.md follows one request through it.
"""

from __future__ import annotations

import asyncio
import logging
import time

import orjson
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from mockfiles.core.echoes import echoed
from mockfiles.core.error_table import injected_defaults
from mockfiles.core.errors import (
    BrowserRefused,
    ConnectionRefusal,
    HeadersTooLarge,
    InjectedError,
    MockFilesError,
    ServerError,
)
from mockfiles.core.record import Arrival, Record
from mockfiles.core.scheduler import ALL
from mockfiles.core.timeouts import Timeouts
from mockfiles.emulator import Emulator
from mockfiles.web.api import Api, mount
from mockfiles.web.browsers import BrowserPolicy
from mockfiles.web.control.admin import PREFIX as ADMIN_PREFIX
from mockfiles.web.dialects import Dialect
from mockfiles.web.dialects.azure import AzureDialect, AzureV1Dialect
from mockfiles.web.dialects.dashscope_compatible import CompatibleDialect
from mockfiles.web.dialects.dashscope_native import NativeDialect
from mockfiles.web.dialects.openai import OpenAIDialect
from mockfiles.web.effects import ProxyPage
from mockfiles.web.exchange import ConnectionFactory, Dropped, Exchange, Transport, UvicornConnection
from mockfiles.web.front import Front
from mockfiles.web.head import MAX_HEADER_BYTES, SCOPE_KEY, Head, scan
from mockfiles.web.refusals import Headers, Refusal, RequestSoFar
from mockfiles.web.responses import JSONResponse
from mockfiles.web.routing import Router

log = logging.getLogger("mockfiles")
ADMIN_PATHS = ADMIN_PREFIX + "/"


class MockFilesApp:
    """The outer ASGI layer around the router. Every dialect is always mounted; the
    path decides which one answers, and every error is rendered here, in its shape.
    ``connections`` gives each request's connection handle (transport.py)."""

    def __init__(
        self,
        emulator: Emulator,
        connections: ConnectionFactory = UvicornConnection,
        browsers: BrowserPolicy | None = None,
    ) -> None:
        self.emulator = emulator
        self.browsers = browsers if browsers is not None else BrowserPolicy()
        self.openai = OpenAIDialect()
        compatible, native = CompatibleDialect(), NativeDialect()
        self.azure, self.azure_v1 = AzureDialect(), AzureV1Dialect()
        self.dialects: dict[str, Dialect] = {  # by the first segment of their prefix
            d.prefix.split("/")[1]: d for d in (self.openai, compatible, native, self.azure)
        }
        self.front = Front(emulator)
        self.transport = Transport(emulator, connections)
        self.api = Api(emulator, self.front, self.openai, compatible, native, self.azure, self.azure_v1)
        self.router = Router(mount(self.api))

    def dialect_for(self, path: str) -> Dialect:
        if path.startswith("/v1/"):  # most requests: OpenAI's
            return self.openai
        end = path.find("/", 1)
        dialect = self.dialects.get(path[1:end] if end > 0 else path[1:])
        if dialect is self.azure and path.startswith("/openai/v1/"):
            return self.azure_v1
        if dialect is not None and (path.startswith(dialect.prefix + "/") or path == dialect.prefix):
            return dialect
        return self.openai

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await other_protocol(scope, receive, send)
            return
        path: str = scope["path"]
        dialect = self.dialect_for(path)
        head = scope[SCOPE_KEY] = scan(scope["headers"])  # the one pass over its headers
        origin = head.origin
        admin = path.startswith(ADMIN_PATHS)
        preflight = origin is not None and scope["method"] == "OPTIONS" and head.preflight is not None
        emulator = self.emulator
        received_at, received_wall = emulator.clock.now_and_wall()
        arrival = Arrival(
            dialect.new_request_id(),
            dialect.name,
            scope["method"],
            path,
            scope["query_string"],
            head.retry_count,
            emulator.generation,
            not (admin or preflight),  # journaled: API requests only
            received_at,
            received_wall,
            time.perf_counter(),
        )
        record = scope["mockfiles"] = Record(arrival)
        if head.tags is not None:
            record.details.update(head.tags)
        body_expected = head.body
        exchange = Exchange(self.transport, dialect, record, scope, receive, send, body_expected, head.authorization)
        try:
            response: Response | None
            try:
                if head.size > MAX_HEADER_BYTES:
                    raise HeadersTooLarge(MAX_HEADER_BYTES)
                if head.expect is not None:
                    raise expectation_failed(head.expect)
                if origin is not None or admin:
                    exchange.cors = self.browser_checks(scope["method"], head, admin)
                if preflight:
                    raise Preflight()
                dialect.check_request(scope["query_string"])
                operation = self.router.resolve(scope)
                if operation.endpoint is not None:
                    await self.front.admit(exchange, operation.endpoint)
                    if emulator.scheduler.behind(record.key, received_at):  # its arrival's time
                        await current(exchange, record.key)
                elif operation.everyone and emulator.scheduler.behind(ALL, received_at):
                    await current(exchange, ALL)
                request = Request(scope, exchange.receive if body_expected else receive)
                response = await operation.handler(request, exchange)
            except Preflight:
                response = Response(status_code=204)
            except Exception as exc:
                response = error_response(dialect, record, exc)
            if response is not None and emulator.behind:
                response = await stored_first(emulator, dialect, record, response)
            if response is not None:
                await exchange.respond(response)
        except asyncio.CancelledError:  # the server stops, and its grace period is over
            await stopped(exchange)
        finally:
            exchange.finish()

    def browser_checks(self, method: str, head: Head, admin: bool) -> list[tuple[bytes, bytes]] | None:
        """What a browser's request may do (browsers.py): an admin request a page of another site
        could have sent is refused; a preflight is answered or refused; the CORS headers of the
        answer, if it gets any."""
        origin = head.origin.decode("latin-1") if head.origin is not None else None
        token_required = self.emulator.admin_token is not None
        browsers = self.browsers
        preflight = origin is not None and method == "OPTIONS" and head.preflight is not None
        if admin:
            wanted = head.preflight if preflight else method
            browsers.check_admin(wanted or method, head.host, origin, token_required)
            if origin is None:
                return None
            if preflight and not (token_required and browsers.origin_allowed(origin)):
                raise BrowserRefused("cors_admin_refused", origin=origin)
            grant = browsers.admin_grant(origin, token_required)
        else:
            assert origin is not None
            if preflight and not browsers.origin_allowed(origin):
                raise BrowserRefused("cors_origin_not_allowed", origin=origin)
            grant = browsers.grant(origin)
        if preflight and grant is not None:
            grant = browsers.preflight(origin or "", head.preflight_headers, admin)
        return grant

    # --- what the connection asks (protocol.Answers) ---------------------------------

    def timeouts(self) -> Timeouts:
        return self.emulator.timeouts

    def refuse(self, refusal: Refusal, request: RequestSoFar) -> tuple[int, Headers, bytes]:
        """A refusal by the connection itself, in the request's dialect, journaled like any answer:
        the request it cuts short if the application has it, else a new entry."""
        record: Record | None = request.scope.get("mockfiles") if request.scope is not None else None
        if record is None:
            path = request.target.partition(b"?")[0].decode("latin-1")
            dialect = self.dialect_for(path)
            arrival = Arrival(
                dialect.new_request_id(),
                dialect.name,
                request.method or "",
                path,
                generation=self.emulator.generation,
                journaled=not path.startswith(ADMIN_PATHS),
                started=time.perf_counter(),
            )
            record = Record(arrival)
        else:
            dialect = self.dialect_for(record.arrival.path)
        status, body, extra = dialect.error(ConnectionRefusal(refusal.status, refusal.message), record)
        record.status, record.action = status, refusal.action
        record.details.setdefault("error", body.get("error", body))
        self.emulator.record(record)
        headers = [(b"content-type", b"application/json")]
        headers += [(name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in extra.items()]
        if record.arrival.journaled:
            headers += dialect.headers(record)
        else:
            headers.append((b"x-request-id", record.request_id.encode()))
        return status, headers, orjson.dumps(body)


async def current(ex: Exchange, account: str | None) -> None:
    """Wait, without holding up anyone else, until the emulator's work due for ``account`` (``ALL``:
    for every account) by now is done (scheduler.py): a request never finds its account's batch
    ended without its files, and never does that work itself."""
    loop = asyncio.get_running_loop()
    done: asyncio.Future[None] = loop.create_future()

    def wake() -> None:  # from the scheduler's thread
        loop.call_soon_threadsafe(_set, done)

    ex.transport.emulator.scheduler.when_current(account, wake)
    await done
    await ex.drop_if_stale()  # a reset let it go: not into the new state


def _set(done: asyncio.Future[None]) -> None:
    if not done.done():
        done.set_result(None)


async def stored_first(emulator: Emulator, dialect: Dialect, record: Record, response: Response) -> Response | None:
    """The answer, once the changes it follows are in the data directory (off the event loop);
    if they cannot be written, the error instead: never an answer for what is not kept."""
    try:
        await asyncio.to_thread(emulator.flush)
    except Exception as exc:
        return error_response(dialect, record, exc)
    return response


def error_response(dialect: Dialect, record: Record, exc: Exception) -> Response | None:
    """The one place where exceptions become responses (or no response)."""
    if isinstance(exc, Dropped):
        return None
    if isinstance(exc, ProxyPage):
        return exc.response()
    if isinstance(exc, ClientDisconnect):
        if record.recorded_at is None:  # else the connection already said how it ended (a timeout)
            record.action = "client_disconnected"
        return None
    if not isinstance(exc, MockFilesError):
        arrival = record.arrival
        log.exception("mockfiles: unexpected error while answering %s %s", arrival.method, arrival.path, exc_info=exc)
        exc = ServerError(str(exc))
    status, body, headers = dialect.error(exc, record)
    record.details.setdefault("error", body.get("error", body))
    return JSONResponse(body, status, headers)


async def stopped(exchange: Exchange) -> None:
    """A request still unanswered when the server's grace period ends (docs/wire.md#connections):
    answered 503 if nothing of its answer was sent yet, else its connection is reset (a
    download cut short, rather than one that looks whole)."""
    task = asyncio.current_task()
    if task is not None and hasattr(task, "uncancel"):  # Python 3.11+: the cancellation is handled here
        task.uncancel()
    record = exchange.record
    record.action = "server_stopping"
    if record.recorded_at is None:  # the journal is written just before the first byte of an answer
        type, code, message = injected_defaults(503, "")  # the real service's words for a 503
        error = InjectedError(503, message=message, type=type, code=code, param=None)
        response = error_response(exchange.dialect, record, error)
        if response is not None:
            await exchange.respond(response)
        return
    if exchange.connection.reachable():
        exchange.connection.reset()
        await exchange.closed()


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


class Preflight(Exception):
    """A CORS preflight that may go on: answered 204 with the headers ``browser_checks`` gave."""


def expectation_failed(expect: bytes) -> ConnectionRefusal:
    """417 for an ``Expect`` the server cannot meet: HTTP defines only ``100-continue``, which
    uvicorn meets (docs/wire.md#connections)."""
    value = echoed(expect.decode("latin-1"))
    message = f"Expectation Failed: only 'Expect: 100-continue' is supported, not 'Expect: {value}'."
    return ConnectionRefusal(417, message)


def build_app(emulator: Emulator, browsers: BrowserPolicy | None = None) -> MockFilesApp:
    return MockFilesApp(emulator, browsers=browsers)
