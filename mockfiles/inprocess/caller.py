"""The caller's side of an in-memory request (mockfiles/inmemory.py has the server's): a thread
(``Caller``) or an event loop (``AsyncCaller``) hands a request to the server's loop, feeds its
body piece by piece when the application asks, and turns the server's events into an answer, or
into the error a socket would have given (``ConnectionReset``, ``Disconnected``, ``TimedOut``).
"""

from __future__ import annotations

import asyncio
import functools
import queue
from collections.abc import AsyncIterator, Iterator

from starlette.types import Scope

from mockfiles.inprocess.channel import (
    BODY,
    HEAD,
    RESET,
    WANT,
    Channel,
    ConnectionReset,
    Disconnected,
    Event,
    Server,
    TimedOut,
)

GATHER = 64 * 1024  # small pieces of a body are gathered up to this many bytes into one message
PIECE = 1024 * 1024  # a larger piece is cut into messages of at most this many bytes


class Answer:
    """The head of an answer and its first piece of body; the rest comes from the caller."""

    __slots__ = ("status", "headers", "first", "more")

    def __init__(self, status: int, headers: list[tuple[bytes, bytes]], first: bytes, more: bool) -> None:
        self.status, self.headers, self.first, self.more = status, headers, first, more


class Gathering:
    """How a body becomes the messages the application receives: small chunks gathered up to
    ``GATHER`` bytes, large ones cut to ``PIECE``; the last message says no more follows."""

    __slots__ = ("gathered", "size")

    def __init__(self) -> None:
        self.gathered: list[bytes] = []
        self.size = 0

    def add(self, chunk: bytes) -> list[tuple[bytes, bool]]:
        """The messages ready once ``chunk`` is taken (often none)."""
        if len(chunk) > PIECE:
            ready = [(self._take(), True)] if self.gathered else []
            return ready + [(chunk[start : start + PIECE], True) for start in range(0, len(chunk), PIECE)]
        self.gathered.append(chunk)
        self.size += len(chunk)
        return [(self._take(), True)] if self.size >= GATHER else []

    def end(self) -> tuple[bytes, bool]:
        return self._take(), False

    def _take(self) -> bytes:
        gathered, self.gathered, self.size = self.gathered, [], 0
        return gathered[0] if len(gathered) == 1 else b"".join(gathered)


def pieces(chunks: Iterator[bytes]) -> Iterator[tuple[bytes, bool]]:
    """A body as the application's messages (``Gathering``)."""
    gathering = Gathering()
    for chunk in chunks:
        yield from gathering.add(chunk)
    yield gathering.end()


async def async_pieces(chunks: AsyncIterator[bytes]) -> AsyncIterator[tuple[bytes, bool]]:
    """``pieces`` of an async body."""
    gathering = Gathering()
    async for chunk in chunks:
        for message in gathering.add(chunk):
            yield message
    yield gathering.end()


def incomplete(headers: list[tuple[bytes, bytes]], received: int) -> Disconnected:
    """A body cut short, worded as h11 words it."""
    length = next((value.decode() for name, value in headers if name == b"content-length"), None)
    expected = f", expected {length}" if length is not None else ""
    return Disconnected(
        f"peer closed connection without sending complete message body (received {received} bytes{expected})"
    )


NO_ANSWER = "Server disconnected without sending a response."


class Receiving:
    """What the server's events mean to a caller, thread or event loop alike: the head, the
    pieces of body (each acknowledged so the next is sent), or how the answer failed."""

    __slots__ = ("server", "channel", "received", "complete")
    server: Server
    channel: Channel
    received: int
    complete: bool  # the whole answer arrived

    def head(self, event: Event) -> Answer:
        kind = event[0]
        if kind == HEAD:
            self.received = len(event[3])
            self.complete = not event[4]
            return Answer(event[1], event[2], event[3], event[4])
        if kind == RESET:
            raise ConnectionReset("[Errno 104] Connection reset by peer")
        raise Disconnected(NO_ANSWER)

    def started(self, answer: Answer) -> bool:
        """Whether more of the answer's body follows its first piece (and ask for it if so)."""
        if answer.more:
            self.server.call(self.channel.ack)
        return answer.more

    def piece(self, event: Event, answer: Answer) -> tuple[bytes, bool]:
        """A piece of the answer's body and whether more follows (asked for if so)."""
        if event[0] == BODY:
            more: bool = event[2]
            self.complete = not more
            if more:
                self.server.call(self.channel.ack)
            self.received += len(event[1])
            return event[1], more
        if event[0] == RESET:
            raise ConnectionReset("[Errno 104] Connection reset by peer")
        raise incomplete(answer.headers, self.received)

    def leave(self) -> None:
        self.server.call(self.channel.left)


class Caller(Receiving):
    """A request from a thread: the server's events arrive in a queue the thread waits on."""

    __slots__ = ("inbox", "_body", "timeout")

    def __init__(self, server: Server, scope: Scope, body: Iterator[bytes], timeout: float | None) -> None:
        self.server = server
        self.inbox: queue.SimpleQueue[Event] = queue.SimpleQueue()
        self._body = pieces(body)
        self.timeout = timeout
        self.received = 0
        self.complete = False  # the whole answer arrived
        first, more = next(self._body)
        self.channel = Channel(server.loop, self.inbox.put, first, more, scope["method"])
        server.submit(self.channel, scope)

    def _next(self) -> Event:
        while True:
            try:
                event = self.inbox.get(timeout=self.timeout)
            except queue.Empty:
                self.leave()
                raise TimedOut("timed out") from None
            except BaseException:  # interrupted: the client is gone, as its socket would be
                self.leave()
                raise
            if event[0] != WANT:
                return event
            body, more = next(self._body, (b"", False))
            self.server.call(functools.partial(self.channel.piece, body, more))

    def answer(self) -> Answer:
        return self.head(self._next())

    def rest(self, answer: Answer) -> Iterator[bytes]:
        """The answer's body after its first piece."""
        if answer.first:
            yield answer.first
        more = self.started(answer)
        while more:
            data, more = self.piece(self._next(), answer)
            if data:
                yield data


class AsyncCaller(Receiving):
    """A request from another event loop: the server's events are handed to that loop."""

    __slots__ = ("inbox", "_loop", "_body", "timeout")

    def __init__(self, server: Server, timeout: float | None) -> None:
        self.server = server
        self._loop = asyncio.get_running_loop()
        self.inbox: asyncio.Queue[Event] = asyncio.Queue()
        self.timeout = timeout
        self.received = 0
        self.complete = False  # the whole answer arrived
        self._body: AsyncIterator[tuple[bytes, bool]] | None = None

    async def start(self, scope: Scope, body: AsyncIterator[bytes]) -> None:
        self._body = async_pieces(body)
        first, more = await anext(self._body)
        self.channel = Channel(self.server.loop, self._post, first, more, scope["method"])
        self.server.submit(self.channel, scope)

    def _post(self, event: Event) -> None:
        try:
            self._loop.call_soon_threadsafe(self.inbox.put_nowait, event)
        except RuntimeError:  # the caller's loop is closed: it is gone
            self.channel.left()

    async def _next(self) -> Event:
        while True:
            try:
                if self.timeout is None:
                    event = await self.inbox.get()
                else:
                    event = await asyncio.wait_for(self.inbox.get(), self.timeout)
            except asyncio.TimeoutError:
                self.leave()
                raise TimedOut("timed out") from None
            except BaseException:  # cancelled: the client is gone, as its socket would be
                self.leave()
                raise
            if event[0] != WANT:
                return event
            assert self._body is not None
            body, more = await anext(self._body, (b"", False))
            self.server.call(functools.partial(self.channel.piece, body, more))

    async def answer(self) -> Answer:
        return self.head(await self._next())

    async def rest(self, answer: Answer) -> AsyncIterator[bytes]:
        """The answer's body after its first piece."""
        if answer.first:
            yield answer.first
        more = self.started(answer)
        while more:
            data, more = self.piece(await self._next(), answer)
            if data:
                yield data
