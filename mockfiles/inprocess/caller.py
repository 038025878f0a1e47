"""The caller's side of an in-memory request (mockfiles/inprocess/channel.py has the server's): a thread
(``Caller``) or a coroutine (``AsyncCaller``) starts a request on its runner (mockfiles/
inprocess/runner.py), runs it there while it waits (or waits for its runner's own thread), feeds its
body piece by piece when the application asks, and turns the server's events into an answer, or
into the error a socket would have given (``ConnectionReset``, ``Disconnected``, ``TimedOut``).
"""

from __future__ import annotations

import asyncio
import functools
import queue
from collections import deque
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
from mockfiles.inprocess.runner import Runner, current_runner

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
    """What the server's events mean to a caller, thread or coroutine alike: the head, the pieces
    of body (each acknowledged so the next is sent), or how the answer failed. The events come
    from the caller's runner, run by the caller itself, or, once the runner has a thread of its
    own (``Runner.detach``), from there: each then rings (``ring``)."""

    __slots__ = ("server", "runner", "channel", "inbox", "bell", "received", "complete", "settled")
    server: Server
    runner: Runner
    channel: Channel
    inbox: deque[Event]
    bell: asyncio.Future[None] | None  # set at the next event: a sync caller runs its runner until then
    received: int
    complete: bool  # the whole answer arrived
    settled: bool  # the caller is done with the request

    def _start(self, server: Server, first: bytes, more: bool, scope: Scope) -> None:
        self.server = server
        self.inbox = deque()
        self.bell = None
        self.received = 0
        self.complete = False
        self.settled = False
        while True:  # the thread's runner once the first piece of body is read (a new one if handed over)
            runner = self.runner = current_runner()
            self.channel = Channel(runner.loop, self.post, first, more, scope["method"])
            if server.start(runner, self.channel, scope):
                return

    # --- on the runner's loop ---------------------------------------------------------------

    def post(self, event: Event) -> None:
        self.inbox.append(event)
        bell = self.bell
        if bell is not None:
            self.bell = None
            if not bell.done():
                bell.set_result(None)
        if self.runner.detached:
            self.ring()

    def ring(self) -> None:
        """Wake the caller: an event came from the runner's own thread."""

    # --- what the events mean -------------------------------------------------------------

    def head(self, event: Event) -> Answer:
        kind = event[0]
        if kind == HEAD:
            self.received = len(event[3])
            if not event[4]:
                self.complete = True
                self.settle()
            return Answer(event[1], event[2], event[3], event[4])
        self.settle()
        if kind == RESET:
            raise ConnectionReset("[Errno 104] Connection reset by peer")
        raise Disconnected(NO_ANSWER)

    def started(self, answer: Answer) -> bool:
        """Whether more of the answer's body follows its first piece (and ask for it if so)."""
        if answer.more:
            self.runner.call(self.channel.ack)
        return answer.more

    def piece(self, event: Event, answer: Answer) -> tuple[bytes, bool]:
        """A piece of the answer's body and whether more follows (asked for if so)."""
        if event[0] == BODY:
            more: bool = event[2]
            self.received += len(event[1])
            if more:
                self.runner.call(self.channel.ack)
            else:
                self.complete = True
                self.settle()
            return event[1], more
        self.settle()
        if event[0] == RESET:
            raise ConnectionReset("[Errno 104] Connection reset by peer")
        raise incomplete(answer.headers, self.received)

    def feed(self, body: bytes, more: bool) -> None:
        self.runner.call(functools.partial(self.channel.piece, body, more))

    def leave(self) -> None:
        """The caller gives up (its timeout, an interruption) or closes the answer before its end."""
        self.runner.call(self.channel.left)
        self.settle()

    def settle(self) -> None:
        """The caller is done with the request: what is ready runs; a request still running (a
        delay the caller did not wait for) goes on on the runner's own thread, as on a server."""
        if self.settled:
            return
        self.settled = True
        runner = self.runner
        if runner.inline():
            if runner.pending():
                runner.drain()
            task = self.channel.task
            if task is not None and not task.done():
                runner.detach()


class Caller(Receiving):
    """A request from a thread: ``first`` is its body's first piece, ``rest`` (if more follows)
    gives the others as the application asks for them."""

    __slots__ = ("_rest", "timeout", "_doorbell")

    def __init__(
        self,
        server: Server,
        scope: Scope,
        first: bytes,
        rest: Iterator[tuple[bytes, bool]] | None,
        timeout: float | None,
    ) -> None:
        self._rest = rest
        self.timeout = timeout
        self._doorbell: queue.SimpleQueue[None] | None = None
        self._start(server, first, rest is not None, scope)

    def ring(self) -> None:
        doorbell = self._doorbell
        if doorbell is not None:
            doorbell.put(None)

    def _next(self) -> Event:
        inbox = self.inbox
        while True:
            try:
                if inbox:
                    event = inbox.popleft()
                    if event[0] != WANT:
                        return event
                    rest = self._rest
                    self.feed(*(next(rest, (b"", False)) if rest is not None else (b"", False)))
                else:
                    self._wait()
            except BaseException:  # timed out, interrupted, or the body failed: the client is gone
                self.leave()
                raise

    def _wait(self) -> None:
        runner = self.runner
        if runner.inline():
            if runner.pending():
                runner.drain()
                return
            bell = self.bell = runner.loop.create_future()
            if not runner.run_until(bell, self.timeout):
                raise TimedOut("timed out")
        elif not runner.detached:  # its answer is read from another thread: the runner gets its own
            runner.detach()
        elif self._doorbell is None:  # from now on each event rings; one that came meanwhile is in the inbox
            self._doorbell = queue.SimpleQueue()
        else:
            try:
                self._doorbell.get(timeout=self.timeout)
            except queue.Empty:
                raise TimedOut("timed out") from None

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
    """A request from a coroutine: its runner is run here while nothing waits, then given a thread
    of its own (the caller's loop must not block), whose events are handed to the caller's loop."""

    __slots__ = ("_loop", "_body", "timeout", "_waiter")

    def __init__(self, server: Server, timeout: float | None) -> None:
        self.server = server
        self._loop = asyncio.get_running_loop()
        self.timeout = timeout
        self._waiter: asyncio.Future[None] | None = None
        self._body: AsyncIterator[tuple[bytes, bool]] | None = None

    def start(self, scope: Scope, first: bytes, rest: AsyncIterator[tuple[bytes, bool]] | None) -> None:
        """The request, with its body's first piece; ``rest`` (if more follows) gives the others."""
        self._body = rest
        self._start(self.server, first, rest is not None, scope)

    def ring(self) -> None:
        try:
            self._loop.call_soon_threadsafe(self._wake)
        except RuntimeError:  # the caller's loop is closed: it is gone
            self.channel.left()

    def _wake(self) -> None:
        waiter, self._waiter = self._waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    async def _next(self) -> Event:
        inbox = self.inbox
        while True:
            try:
                if inbox:
                    event = inbox.popleft()
                    if event[0] != WANT:
                        return event
                    body = self._body
                    self.feed(*(await anext(body, (b"", False)) if body is not None else (b"", False)))
                else:
                    await self._wait()
            except asyncio.TimeoutError:
                self.leave()
                raise TimedOut("timed out") from None
            except BaseException:  # cancelled, or the body failed: the client is gone, as its socket would be
                self.leave()
                raise

    async def _wait(self) -> None:
        runner = self.runner
        if not runner.detached:
            if runner.inline() and runner.pending():
                runner.drain()
            else:  # the request waits for time or a worker thread: not on the caller's loop
                runner.detach()
            return
        waiter = self._waiter = self._loop.create_future()
        if self.inbox:  # an event came before the waiter was there to be woken
            return
        if self.timeout is None:
            await waiter
        else:
            await asyncio.wait_for(waiter, self.timeout)

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
