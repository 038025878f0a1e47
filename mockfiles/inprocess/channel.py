"""The in-memory connection: a request handed to the application without a socket.

The application runs on an event loop of the calling thread (mockfiles/inprocess/runner.py), run by
that thread while it waits for its answer: a request that waits for nothing is answered with no
hand-over between threads. Its steps hold the emulator's lock (mockfiles/web/serial.py), as those of
the requests on the server's loop do, so the emulator's state is changed by one thread at a
time; a fault's delay and a held request keep real time while a test freezes time with freezegun
(the runner's clock is freeze-proof, a test's loop is not), and ``Emulator.on_release`` lets go of
held requests wherever they run.

A request's body goes over in pieces of at most ``PIECE`` bytes, each asked for by the
application's ``receive`` (pull: the caller reads the next piece only when the application wants
it, so nothing holds the body twice), and a streamed answer comes back with at most ``WINDOW``
pieces not yet taken by the caller.

``Channel`` is the server's side of one request: the ASGI ``receive`` and ``send``, and the
``transport.Connection`` that faults act on (a reset or a close reaches the caller as
``ConnectionReset`` or ``Disconnected``; the caller giving up is ``client_gone()``). The caller's
side is ``Caller`` (a thread) or ``AsyncCaller`` (a coroutine), in mockfiles/inprocess/caller.py:
its ``inbox`` gets the server's events, and it turns them into an answer, or into the exception a
socket would have given.
"""

from __future__ import annotations

import asyncio
import email.utils
import logging
import time
from collections import deque
from collections.abc import Callable, Coroutine
from typing import Any

from starlette.types import ASGIApp, Message, Scope, Send

from mockfiles.inprocess.runner import Runner
from mockfiles.web.exchange import Connection
from mockfiles.web.serial import Lock, resumed

log = logging.getLogger("mockfiles")

WINDOW = 2  # pieces of a streamed answer sent ahead of the caller
DISCONNECT: Message = {"type": "http.disconnect"}

# What the server tells the caller, as tuples whose first item is one of these
WANT, HEAD, BODY, RESET, CLOSE, DONE = range(6)
Event = tuple[Any, ...]
Post = Callable[[Event], None]


class ConnectionReset(Exception):
    """The server reset the connection (``action: reset``, ``reset_after_commit``)."""


class Disconnected(Exception):
    """The server closed the connection before the answer was complete."""


class TimedOut(Exception):
    """The caller waited longer than its read timeout."""


class ServerGone(Exception):
    """The server is not running: nothing can be sent to it."""


class Channel:
    """The server's side of one in-memory request (runs on the server's loop only)."""

    __slots__ = (
        "loop",
        "task",
        "_post",
        "_first",
        "_body_done",
        "_waiting",
        "_ended",
        "_gone",
        "_start",
        "_head",
        "_acks",
    )

    def __init__(self, loop: asyncio.AbstractEventLoop, post: Post, first: bytes, more: bool, method: str) -> None:
        self.loop = loop
        self.task: asyncio.Task[None] | None = None  # the request's, once it has started
        self._post = post
        self._first: tuple[bytes, bool] | None = (first, more)
        self._body_done = not more
        self._waiting: asyncio.Future[Message] | None = None
        self._ended = False  # the answer is complete, or the connection was reset or closed, or the caller left
        self._gone = False  # the caller left
        self._start: tuple[int, list[tuple[bytes, bytes]]] | None = None
        self._head = method == "HEAD"
        self._acks: deque[asyncio.Future[None]] = deque()

    # --- ASGI ---------------------------------------------------------------------------

    async def receive(self) -> Message:
        first = self._first
        if first is not None:
            self._first = None
            return {"type": "http.request", "body": first[0], "more_body": first[1]}
        if self._ended:
            return DISCONNECT
        waiting: asyncio.Future[Message] = self.loop.create_future()
        self._waiting = waiting
        if not self._body_done:
            self._post((WANT,))
        return await waiting

    async def send(self, message: Message) -> None:
        if self._ended:
            return  # as uvicorn: nothing reaches a client that is gone
        kind = message["type"]
        if kind == "http.response.start":
            self._start = (message["status"], [*message.get("headers", ()), *server_headers()])
            return
        if kind != "http.response.body":
            return
        body: bytes = b"" if self._head else message.get("body", b"")
        more: bool = message.get("more_body", False)
        start, self._start = self._start, None
        if not more:
            self._end()
        self._post((HEAD, start[0], start[1], body, more) if start is not None else (BODY, body, more))
        if more:
            ack = self.loop.create_future()
            self._acks.append(ack)
            if len(self._acks) > WINDOW:
                await self._acks[0]

    # --- what the caller does (called on the server's loop) ------------------------------

    def piece(self, body: bytes, more: bool) -> None:
        """The next piece of the request's body, asked for by ``receive``."""
        if not more:
            self._body_done = True
        waiting, self._waiting = self._waiting, None
        if waiting is not None and not waiting.done():
            waiting.set_result({"type": "http.request", "body": body, "more_body": more})

    def ack(self) -> None:
        """The caller took a piece of a streamed answer."""
        if self._acks:
            ack = self._acks.popleft()
            if not ack.done():
                ack.set_result(None)

    def left(self) -> None:
        """The caller gave up (its timeout) or closed the answer before its end."""
        self._gone = True
        self._end()

    def _end(self) -> None:
        self._ended = True
        waiting, self._waiting = self._waiting, None
        if waiting is not None and not waiting.done():
            waiting.set_result(DISCONNECT)
        while self._acks:
            ack = self._acks.popleft()
            if not ack.done():
                ack.set_result(None)

    # --- transport.Connection -------------------------------------------------------------

    def reachable(self) -> bool:
        return True

    def client_gone(self) -> bool:
        return self._gone

    def reset(self) -> None:
        if not self._ended:
            self._post((RESET,))
        self._end()

    def close(self) -> None:
        if not self._ended:
            self._post((CLOSE,))
        self._end()

    async def run(self, app: ASGIApp, scope: Scope) -> None:
        error: BaseException | None = None
        try:
            await app(scope, self.receive, self.send)
        except BaseException as exc:  # told to the caller as a closed connection, as uvicorn would
            error = exc
            if not isinstance(exc, asyncio.CancelledError):
                log.exception("mockfiles: the in-memory request failed", exc_info=exc)
        finally:
            if not self._ended:
                self._post((DONE, error))
            self._end()
            self._post = _told  # nothing more to tell: the caller is let go (no cycle left for the GC)


def _told(event: Event) -> None:
    """A channel's ``post`` once its request has ended."""


def connection_of(send: Send) -> Connection:
    """``transport.ConnectionFactory`` of the in-memory application: the channel ``send`` is bound to."""
    channel = getattr(send, "__self__", None)
    if not isinstance(channel, Channel):
        raise TypeError("the in-memory application serves only in-memory requests")
    return channel


_date: tuple[int, bytes] = (0, b"")


def server_headers() -> list[tuple[bytes, bytes]]:
    """The headers uvicorn adds to every answer, so that an answer is the same either way."""
    global _date
    now = int(time.time())
    if _date[0] != now:
        _date = (now, email.utils.formatdate(now, usegmt=True).encode())
    return [(b"server", b"uvicorn"), (b"date", _date[1])]


class Server:
    """The application in-memory requests reach, and the requests still running (``stop`` ends them)."""

    def __init__(self, app: ASGIApp, lock: Lock) -> None:
        self.app = app
        self.lock = lock
        self.live: set[Channel] = set()
        self.closed = False

    def start(self, runner: Runner, channel: Channel, scope: Scope) -> bool:
        """Run the request's first step on ``runner`` now; if it waits, the rest is a task there
        (run at the caller's next ``drain``). False if the runner was handed over meanwhile."""
        if self.closed:
            raise ServerGone("the mockfiles server is not running")
        coro = channel.run(self.app, scope)
        stepped = runner.first_step(coro, self.lock)
        if stepped is None:
            coro.close()
            return False
        ended, waited = stepped
        if not ended:
            self.live.add(channel)
            channel.task = runner.start(self._rest(channel, coro, waited))
        return True

    async def _rest(self, channel: Channel, coro: Coroutine[Any, Any, None], waited: Any) -> None:
        try:
            await resumed(coro, waited, self.lock)
        finally:
            self.live.discard(channel)

    def shutdown(self, grace: float = 0.0) -> None:
        """The server stops: requests still running have ``grace`` seconds to finish, as a socket's
        have (web/stopping.py); then they are cancelled, and the application answers them 503, or
        ends an answer under way as a closed connection. Later requests fail."""
        self.closed = True
        deadline = time.monotonic() + grace
        while self.live and time.monotonic() < deadline:
            time.sleep(0.01)  # their callers' threads run them meanwhile
        for channel in list(self.live):
            if channel.task is not None:
                try:
                    channel.loop.call_soon_threadsafe(channel.task.cancel)
                except RuntimeError:  # its loop is closed: it has ended
                    pass
