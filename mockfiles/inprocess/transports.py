"""httpx transports that reach a running server's application in memory (mockfiles/inprocess/channel.py).

Both httpx and its fork httpx2 (which the openai SDK uses from version 3) are served by the same
code: a ``Flavour`` is one of the two modules, whose request, response and exception classes the
transports use, so that a reset is that library's ``ReadError``, a connection closed early its
``RemoteProtocolError`` and a client that gives up its ``ReadTimeout``: the exceptions it raises
over a socket, which the openai SDK turns into ``APIConnectionError`` and ``APITimeoutError``
(and retries) the same way.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from collections.abc import AsyncIterator, Iterator
from functools import cache
from types import ModuleType
from typing import Any, Protocol

from starlette.types import Scope

from mockfiles.inprocess.caller import GATHER, Answer, AsyncCaller, Caller, async_pieces, pieces
from mockfiles.inprocess.channel import ConnectionReset, Disconnected, Server, ServerGone, TimedOut


class _URL(Protocol):
    scheme: str
    host: str
    port: int | None
    path: str
    raw_path: bytes
    query: bytes


class _Headers(Protocol):
    raw: list[tuple[bytes, bytes]]


class _Request(Protocol):
    """What the transports read of an httpx (or httpx2) request."""

    method: str
    url: _URL
    headers: _Headers
    stream: Any  # the library's SyncByteStream or AsyncByteStream
    extensions: dict[str, Any]

    def read(self) -> bytes: ...

    async def aread(self) -> bytes: ...


class Flavour:
    """httpx or httpx2: the classes the transports make and raise."""

    def __init__(self, module: ModuleType) -> None:
        self.module = module
        self.name: str = module.__name__
        self.byte_stream: type = module.ByteStream
        self.response: Any = module.Response
        self.sync_stream: type[_Body] = type("InMemoryStream", (_Body, module.SyncByteStream), {})
        self.async_stream: type[_AsyncBody] = type("AsyncInMemoryStream", (_AsyncBody, module.AsyncByteStream), {})

    def error(self, exc: Exception, request: _Request) -> Exception:
        """The library's exception for what happened to the in-memory connection."""
        module = self.module
        kind: Any
        if isinstance(exc, TimedOut):
            kind = module.ReadTimeout
        elif isinstance(exc, ConnectionReset):
            kind = module.ReadError
        elif isinstance(exc, ServerGone):
            kind = module.ConnectError
        else:
            kind = module.RemoteProtocolError
        error: Exception = kind(str(exc), request=request)
        return error


LIBRARIES = ("httpx", "httpx2")


@cache
def flavour(name: str | None = None) -> Flavour:
    """``"httpx"`` or ``"httpx2"``, imported when first asked for; ``None``: the one the installed
    openai SDK is built on (``sdk_library``). A library that is not installed is said so, with
    what to install or pass instead, rather than as a bare ``No module named 'httpx'``."""
    name = name if name is not None else sdk_library()
    if name not in LIBRARIES:
        raise ValueError(f"an in-process transport is for httpx or httpx2, not {name!r}")
    try:
        module = importlib.import_module(name)
    except ImportError:
        other = LIBRARIES[1 - LIBRARIES.index(name)]
        raise ModuleNotFoundError(
            f"an in-process transport for {name} needs {name}, which is not installed: pip install {name}, "
            f"or ask for the library you use, transport({other!r}) "
            f"(the openai SDK uses httpx2 from version 3, httpx before)",
            name=name,
        ) from None
    return Flavour(module)


def sdk_library() -> str:
    """The library the installed openai SDK is built on: httpx2 for openai 3.x, httpx for 1.x and
    2.x; without the SDK, httpx if it is installed, else httpx2."""
    try:
        import openai
    except ImportError:
        return "httpx" if importlib.util.find_spec("httpx") is not None else "httpx2"
    return flavour_of(openai.DefaultHttpxClient).name


def flavour_of(cls: type) -> Flavour:
    """The flavour an httpx client class (or a subclass, as the openai SDK's) is built on."""
    for base in cls.__mro__:
        root = base.__module__.partition(".")[0]
        if root in ("httpx", "httpx2") and root in sys.modules:
            return flavour(root)
    raise TypeError(f"{cls.__name__} is not an httpx or httpx2 client")


def scope_of(request: _Request) -> Scope:
    """The ASGI scope uvicorn would give the application for this request."""
    url = request.url
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "server": (url.host, url.port or (443 if url.scheme == "https" else 80)),
        "client": ("127.0.0.1", 0),
        "scheme": url.scheme,
        "method": request.method,
        "root_path": "",
        "path": url.path,
        "raw_path": url.raw_path.partition(b"?")[0],
        "query_string": url.query,
        "headers": header_pairs(request.headers),
        "state": {},
    }


def header_pairs(headers: _Headers) -> list[tuple[bytes, bytes]]:
    """The request's headers as ASGI gives them: lower-cased names. httpx and httpx2 keep each
    header's name lower-cased beside the name as given (``_list``); read from there when it is."""
    kept = getattr(headers, "_list", None)
    if isinstance(kept, list) and (not kept or len(kept[0]) == 3):
        return [(lower, value) for _, lower, value in kept]
    return [(name.lower(), value) for name, value in headers.raw]


def read_at_once(request: _Request, flavour: Flavour) -> bool:
    """Whether the request's body is read whole before the application starts: a body in memory,
    or one declared no longer than ``GATHER`` (whose pieces would be gathered into one message)."""
    if isinstance(request.stream, flavour.byte_stream):
        return True
    length = next((value for name, value in request.headers.raw if name.lower() == b"content-length"), None)
    return length is not None and length.isdigit() and int(length) <= GATHER


def read_timeout(request: _Request) -> float | None:
    timeout: float | None = request.extensions.get("timeout", {}).get("read")
    return timeout


class InProcessTransport:
    """A sync httpx (or httpx2) transport: each request runs on the server's loop, the calling
    thread feeding its body and reading its answer."""

    def __init__(self, server: Server, flavour: Flavour) -> None:
        self._server = server
        self._flavour = flavour

    def handle_request(self, request: _Request) -> Any:
        flavour = self._flavour
        try:
            body = request.read() if read_at_once(request, flavour) else None
            if body is not None and len(body) <= GATHER:
                caller = Caller(self._server, scope_of(request), body, None, read_timeout(request))
            else:
                body_pieces = pieces(iter((body,)) if body is not None else iter(request.stream))
                first, more = next(body_pieces)
                rest = body_pieces if more else None
                caller = Caller(self._server, scope_of(request), first, rest, read_timeout(request))
            answer = caller.answer()
        except (TimedOut, ConnectionReset, Disconnected, ServerGone) as exc:
            raise flavour.error(exc, request) from None
        if not answer.more:  # the whole answer, in memory: the client reads it at once
            whole = flavour.byte_stream(answer.first)
            return flavour.response(answer.status, headers=answer.headers, stream=whole, request=request)
        rest_of_body = flavour.sync_stream(caller, answer, flavour, request)
        return flavour.response(answer.status, headers=answer.headers, stream=rest_of_body, request=request)

    def close(self) -> None:
        pass

    def __enter__(self) -> InProcessTransport:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class _Body:
    """An answer's body as the caller reads it (mixed into the library's SyncByteStream)."""

    def __init__(self, caller: Caller, answer: Answer, flavour: Flavour, request: _Request) -> None:
        self._caller, self._answer, self._flavour, self._request = caller, answer, flavour, request

    def __iter__(self) -> Iterator[bytes]:
        try:
            yield from self._caller.rest(self._answer)
        except (TimedOut, ConnectionReset, Disconnected) as exc:
            raise self._flavour.error(exc, self._request) from None

    def close(self) -> None:
        """Closed before its end: the client is gone, as when it closes a socket."""
        if not self._caller.complete:
            self._caller.leave()


class AsyncInProcessTransport:
    """An async httpx (or httpx2) transport: each request runs on the server's loop (not the
    caller's), the caller's loop feeding its body and reading its answer."""

    def __init__(self, server: Server, flavour: Flavour) -> None:
        self._server = server
        self._flavour = flavour

    async def handle_async_request(self, request: _Request) -> Any:
        flavour = self._flavour
        caller = AsyncCaller(self._server, read_timeout(request))
        try:
            body = (await request.aread()) if read_at_once(request, flavour) else None
            if body is not None and len(body) <= GATHER:
                caller.start(scope_of(request), body, None)
            else:
                body_pieces = async_pieces(_aiter(request.stream) if body is None else _one(body))
                first, more = await anext(body_pieces)
                caller.start(scope_of(request), first, body_pieces if more else None)
            answer = await caller.answer()
        except (TimedOut, ConnectionReset, Disconnected, ServerGone) as exc:
            raise flavour.error(exc, request) from None
        if not answer.more:
            whole = flavour.byte_stream(answer.first)
            return flavour.response(answer.status, headers=answer.headers, stream=whole, request=request)
        rest = flavour.async_stream(caller, answer, flavour, request)
        return flavour.response(answer.status, headers=answer.headers, stream=rest, request=request)

    async def aclose(self) -> None:
        pass

    async def __aenter__(self) -> AsyncInProcessTransport:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()


async def _aiter(stream: Any) -> AsyncIterator[bytes]:
    async for chunk in stream:
        yield chunk


async def _one(body: bytes) -> AsyncIterator[bytes]:
    yield body


class _AsyncBody:
    """An answer's body as an async caller reads it (mixed into the library's AsyncByteStream)."""

    def __init__(self, caller: AsyncCaller, answer: Answer, flavour: Flavour, request: _Request) -> None:
        self._caller, self._answer, self._flavour, self._request = caller, answer, flavour, request

    async def __aiter__(self) -> AsyncIterator[bytes]:
        try:
            async for chunk in self._caller.rest(self._answer):
                yield chunk
        except (TimedOut, ConnectionReset, Disconnected) as exc:
            raise self._flavour.error(exc, self._request) from None

    async def aclose(self) -> None:
        if not self._caller.complete:
            self._caller.leave()
