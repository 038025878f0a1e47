"""The transport layer: the one place that acts on a client's connection.

The front layer (front.py) decides what happens to a request; this carries it out. It sleeps a
fault's delay, resets the connection (a TCP reset), holds a request until its client gives up,
cuts an answer short (``truncate``) or drops the connection once the operation is done
(``reset_after_commit``). It also sends every answer: with the dialect's headers stamped on, and
the journal entry written before the first byte goes out, so that a client that has its answer
finds its entry.

The connection is reached only through ``Connection``, a typed handle: ``UvicornConnection`` under
uvicorn, through its request cycle (the object behind ``send``). An in-memory server can hand the
application its own (``MockFilesApp(connections=...)``), raising a reset or a timeout as the
exceptions a client would get from a socket.
"""

from __future__ import annotations

import asyncio
import socket
import struct
import threading
import time
from collections.abc import Callable
from typing import NoReturn, Protocol

from starlette.responses import Response
from starlette.types import Message, Receive, Scope, Send

from mockfiles.admission.decision import After, Decision, Direction
from mockfiles.core.errors import MockFilesError
from mockfiles.core.record import Record
from mockfiles.emulator import Emulator
from mockfiles.web.dialects import Dialect
from mockfiles.web.effects import BodyCut, cut_sender, dribbled, events_cut, malformed, within
from mockfiles.web.head import head_of
from mockfiles.web.streams import EventStream

HOLD_CLOSE_WAIT = 5.0  # seconds to wait for the client to be gone once its connection is closed
ADVICE_HEADERS = (b"retry-after", b"retry-after-ms", b"x-should-retry")


class Dropped(Exception):
    """The connection was closed on purpose: there is no response to send."""


class Connection(Protocol):
    """The client's connection, as faults act on it."""

    def reachable(self) -> bool:
        """Whether faults can act on it (a server may give no access to its connections)."""
        ...

    def client_gone(self) -> bool:
        """Whether the client has closed the connection (a server that cannot tell says no)."""
        ...

    def reset(self) -> None:
        """Abort the connection with a TCP reset."""
        ...

    def close(self) -> None:
        """Close the connection once what was written is sent."""
        ...


ConnectionFactory = Callable[[Send], Connection]


class _Transport(Protocol):
    """What ``UvicornConnection`` uses of the connection's transport (asyncio's or uvloop's)."""

    def abort(self) -> None: ...
    def close(self) -> None: ...
    def get_extra_info(self, name: str, default: object = None) -> object: ...


class _Cycle(Protocol):
    """What ``UvicornConnection`` uses of uvicorn's request cycle."""

    transport: _Transport
    disconnected: bool


class UvicornConnection:
    """The connection under uvicorn: its request cycle is the object ``send`` is bound to, and its
    transport is guarded by mockfiles' protocol (protocol.py: closing while the client still sends
    closes gracefully). Under another server, dropping raises, which answers 500."""

    __slots__ = ("_send",)

    def __init__(self, send: Send) -> None:
        self._send = send

    @property
    def _cycle(self) -> _Cycle | None:
        cycle: _Cycle | None = getattr(self._send, "__self__", None)
        return cycle

    def _transport(self) -> _Transport | None:
        transport: _Transport | None = getattr(self._cycle, "transport", None)
        return transport

    def reachable(self) -> bool:
        return self._transport() is not None

    def client_gone(self) -> bool:
        return getattr(getattr(self._send, "__self__", None), "disconnected", False) is True

    def reset(self) -> None:
        transport = self._transport()
        if transport is None:
            return
        # SO_LINGER 0: the kernel answers with a reset, not a FIN (uvloop's socket is a stand-in with setsockopt)
        setsockopt = getattr(transport.get_extra_info("socket"), "setsockopt", None)
        if setsockopt is not None:
            try:
                setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            except (OSError, ValueError):  # ValueError: uvloop's stand-in for a socket already closed
                pass
        transport.abort()

    def close(self) -> None:
        transport = self._transport()
        if transport is not None:
            transport.close()


class Holds:
    """Requests held by a ``timeout`` fault, let go when the emulator resets, changes scenario or
    stops (``Emulator.on_release``); safe to release from any thread."""

    def __init__(self) -> None:
        self._held: set[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = set()
        self._lock = threading.Lock()

    async def wait(self, seconds: float, gone: asyncio.Future[None]) -> None:
        """Wait until ``gone`` (the client left), a release, or ``seconds``, whichever comes first."""
        entry = (asyncio.get_running_loop(), asyncio.Event())
        with self._lock:
            self._held.add(entry)
        released = asyncio.ensure_future(_set(entry[1]))
        try:
            await asyncio.wait([released, gone], timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
        finally:
            released.cancel()  # also when the wait itself is cancelled: no task is left pending
            with self._lock:
                self._held.discard(entry)

    def release(self) -> None:
        with self._lock:
            held = list(self._held)
        for loop, event in held:
            try:  # the loop of an in-process request may close meanwhile (inprocess/runner.py)
                loop.call_soon_threadsafe(event.set)
            except RuntimeError:  # closed: the request held on it has ended
                pass


async def _set(event: asyncio.Event) -> None:
    await event.wait()


class Transport:
    """What every exchange of one application shares: the emulator it journals to, the held
    requests, and how it reaches a connection."""

    def __init__(self, emulator: Emulator, connections: ConnectionFactory = UvicornConnection) -> None:
        self.emulator = emulator
        self.connections = connections
        self.holds = Holds()
        emulator.on_release(self.holds.release)


class Exchange:
    """One request between the server and its handler, and the connection it came on."""

    __slots__ = (
        "transport",
        "dialect",
        "record",
        "scope",
        "_receive",
        "_send",
        "connection",
        "body_read",
        "dropped",
        "disconnected",
        "after",
        "decided",
        "cut",
        "dribble",
        "authorization",
        "cors",
        "cut_events",
    )

    def __init__(
        self,
        transport: Transport,
        dialect: Dialect,
        record: Record,
        scope: Scope,
        receive: Receive,
        send: Send,
        body_expected: bool,
        authorization: bytes | None,
    ) -> None:
        self.transport = transport
        self.dialect = dialect
        self.record = record
        self.scope = scope
        self._receive = receive
        self._send = send
        self.connection = transport.connections(send)
        self.body_read = not body_expected
        self.dropped = False
        self.disconnected = False  # the client's disconnect was read
        self.after: After | None = None  # what the fault decision does to the answer
        self.decided = False  # a fault decision was taken for this request
        self.cut: BodyCut | None = None  # a decision that waits for bytes of a body
        self.dribble: tuple[Direction, float] | None = None  # a body limited to so many bytes per second
        self.authorization = authorization  # the first Authorization header's raw value, found by the header scan
        self.cors: list[tuple[bytes, bytes]] | None = None  # the CORS headers of the answer (browsers.py)
        self.cut_events: int | None = None  # a streamed answer is reset after this many events

    async def receive(self) -> Message:
        message = await self._receive()
        if message["type"] != "http.request" or not message.get("more_body", False):
            self.body_read = True
        cut = self.cut
        if cut is not None and not cut.done and message["type"] == "http.request":
            await self._cut_request(cut, message)
        dribble = self.dribble
        if dribble is not None and dribble[0] == "request" and message["type"] == "http.request":
            await asyncio.sleep(len(message.get("body", b"")) / dribble[1])  # read no faster than the bandwidth
        return message

    def count_body(self, decision: Decision, error: MockFilesError | None) -> None:
        """Carry out ``decision`` once ``decision.at_bytes`` bytes of its body went through (a
        stall with no count: at once)."""
        self.cut = BodyCut(decision, error, decision.at_bytes or 0)
        if decision.body == "response":
            self.after = decision.after

    async def _cut_request(self, cut: BodyCut, message: Message) -> None:
        """Once ``cut.at`` bytes of an upload were read (or at its end): stall, answer the error, or reset."""
        if cut.take(len(message.get("body", b"")), message.get("more_body", False)) is None:
            return
        self.record.details["cut_at_bytes"] = cut.seen
        if cut.decision.stall:
            await self.pause(cut.decision.stall)
        elif cut.error is not None:
            raise cut.error
        elif cut.decision.drop == "reset":
            await self.drop(hard=True)

    # --- carrying out a decision ------------------------------------------------------

    async def pause(self, seconds: float) -> None:
        """A fault's delay (the emulator may be reset meanwhile)."""
        await asyncio.sleep(seconds)
        await self.drop_if_stale()

    async def drop_if_stale(self) -> None:
        """Drop a request that began before a reset: it must not touch the state after it."""
        if not self.transport.emulator.is_current(self.record.arrival.generation):
            self.record.action = "dropped_by_reset"
            await self.drop(hard=True)

    async def drop(self, hard: bool) -> NoReturn:
        """Close the connection (a TCP reset when ``hard``) once the journal has the request, wait
        until the client is gone, and leave the handler: there is no answer. Under a server that
        gives no access to its connections this raises RuntimeError instead (answered 500)."""
        connection = self.connection
        if not connection.reachable():
            raise RuntimeError("this server gives no access to the connection; cannot drop it")
        self.journal()
        if hard:
            connection.reset()
        else:
            connection.close()
        await within(self.closed(), HOLD_CLOSE_WAIT)
        raise Dropped()

    async def hold(self, seconds: float) -> NoReturn:
        """Answer nothing until the client gives up, the emulator lets go, or ``seconds`` pass;
        the journal shows the request meanwhile."""
        self.journal()
        gone = asyncio.ensure_future(self.closed())
        try:
            await self.transport.holds.wait(seconds, gone)
        finally:
            gone.cancel()
        await self.drop(hard=False)

    async def closed(self) -> None:
        """Wait for the client to be gone (reading and discarding any body left)."""
        while not self.disconnected:
            message = await self._receive()
            if message["type"] == "http.disconnect":
                self.disconnected = True

    # --- answering ----------------------------------------------------------------------

    async def respond(self, response: Response) -> None:
        """Send the answer: the dialect's headers stamped on (a fault rule's own win), the journal
        written first; or nothing, if the client is gone or the decision drops the answer."""
        record = self.record
        if self.after == "malformed_json" and response.status_code < 400:
            response = malformed(response)
        record.status = response.status_code
        headers = response.raw_headers
        arrival = record.arrival
        journaled = arrival.journaled
        stamped = self.dialect.headers(record) if journaled else [(b"x-request-id", arrival.request_id.encode())]
        if record.fault is not None:  # a fault rule's own headers win over the dialect's
            given = {name for name, _ in headers}
            stamped = [h for h in stamped if h[0] not in given]
        headers += stamped
        if self.cors is not None:
            headers += self.cors
        if record.status >= 400 and journaled:
            record.advice = retry_advice(headers)
        if not self.body_read and head_of(self.scope).continues:
            # Answered before the body was read (a refused upload) to a client that waits for
            # "100 Continue" before sending it: it may never send it, so the connection cannot
            # carry another request. Any other client's body is drained (protocol.py).
            headers.append((b"connection", b"close"))
        if self.connection.client_gone() or self.disconnected:
            # The client went away while the answer was being made (it timed out during a
            # fault's delay): nothing reaches it, and the journal says so.
            record.details["unsent_status"] = record.status
            record.status, record.action = None, "client_disconnected"
            self.journal()
            return
        if self.after == "reset_after_commit":
            record.details["committed_status"] = record.status
            record.status = None
            try:
                await self.drop(hard=True)
            except Dropped:
                return
        self.journal()
        send = self._send
        if self.cut is not None and self.cut.decision.body == "response":
            send = cut_sender(self.cut, self._send, self.record, self.connection.reset, self.closed)
        elif self.after == "truncate" or (self.cut_events is not None and not isinstance(response, EventStream)):
            send = self._truncate  # an answer that is not a stream is cut in half instead
        elif self.cut_events is not None:
            send = events_cut(self.cut_events, self._send, record, self.connection.reset, self.closed)
        if self.dribble is not None and self.dribble[0] == "response":
            send = dribbled(send, self.dribble[1])
        await response(self.scope, self._receive, send)

    async def _truncate(self, message: Message) -> None:
        """Send the head and half of the first piece of the body, then close the connection."""
        if self.dropped:
            return
        if message["type"] == "http.response.body":
            self.dropped = True
            body: bytes = message.get("body", b"")
            await self._send({"type": "http.response.body", "body": body[: len(body) // 2], "more_body": True})
            self.connection.close()
            await self.closed()
            return
        await self._send(message)

    def journal(self) -> None:
        self.transport.emulator.record(self.record)

    def finish(self) -> None:
        record = self.record
        if record.recorded_at is None:
            self.journal()
        record.ended = time.perf_counter()
        record.finish()


def retry_advice(headers: list[tuple[bytes, bytes]]) -> dict[str, str] | None:
    """The response headers that tell a client whether and when to retry, for the journal."""
    advice = {name.decode(): value.decode("latin-1") for name, value in headers if name in ADVICE_HEADERS}
    return advice or None
