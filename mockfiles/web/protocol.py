"""The HTTP/1.1 connection: uvicorn's httptools protocol, plus what a real service's front end
(nginx, a cloud load balancer) does and httptools does not. The clients mockfiles exists for
depend on all of it.

1. **Refused uploads are drained, not reset** (nginx's lingering close). An upload refused before
   its body is read (401, 429, 413 on the declared length, a quota 400) is answered while the
   client is still sending. Closing the socket then, with unread bytes in it, makes the kernel
   send a TCP reset, and a client that writes its whole body before it reads (async httpx, so
   ``AsyncOpenAI``; Node's fetch, so the ``openai`` npm package) loses the answer it had not read
   yet: it raises a connection error and retries on its own backoff, not on the ``retry-after-ms``
   it was sent. So once the response is out, the rest of the body is read and discarded (never
   stored: memory stays flat) and the connection is kept for the next request when the body ends.
   uvicorn alone discards such a body too, but with no bound at all; here the drain is bounded as
   nginx bounds it (``lingering_time`` 30 s, ``lingering_timeout`` 5 s): LINGER_TIME in all,
   LINGER_IDLE without a byte (or the body timeout, if shorter), and LINGER_BYTES in all. Past a
   bound the connection is closed.
   When the connection must close anyway while the client may still be sending (the response says
   ``Connection: close``, or the client asked for it), it closes gracefully: the response, a FIN
   (``write_eof``), then discarding what still comes until the client closes, in the same bounds.
2. **The request head is capped while it arrives.** httptools sets no limit on the request line
   and headers, and keeps an unfinished header by concatenation: one connection streaming a header
   that never ends stalled every other client and grew memory by hundreds of MB. A head still
   unfinished after HEAD_LIMIT bytes is answered 431, then closed as above.
3. **Timeouts** (mockfiles/timeouts.py): a head that has not arrived within the header timeout and
   a body with no byte for the body timeout are answered 408, then closed as above; a connection
   that never sent a byte is closed after the header timeout, with no answer (nothing was asked).
4. **A request the parser refuses** (``Content-Length`` with ``Transfer-Encoding``, a bad chunk
   size, a control character in a header, ``get``, a target beyond ASCII) is answered 400 in the
   envelope of the dialect its path names, saying why, not with uvicorn's plain text; an answer
   already under way is never cut by one. uvicorn warns ``Invalid HTTP request received.`` on each;
   with no log handler configured, as under ``--quiet``, Python prints such warnings to stderr. A
   quiet protocol class leaves them out.

The fast path pays nearly nothing: a request whose head and body come in one read (every GET)
sets and tests a few flags; timers exist only while a head or body is unfinished. What the 400,
431 and 408 answers say, and their journal entries, come from ``Answers`` (mockfiles/app.py renders
them in the request's dialect); ``PlainAnswers`` gives the OpenAI envelope and journals nothing.
"""

from __future__ import annotations

import asyncio
import inspect
import socket
import struct
from collections.abc import Callable
from typing import Any, ClassVar

import httptools
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from mockfiles.web.connection_parts import Guarded, without_client_noise
from mockfiles.web.head import HEAD_LIMIT
from mockfiles.web.refusals import (
    HEAD_TOO_LARGE,
    Answers,
    PlainAnswers,
    Refusal,
    RequestSoFar,
    encode_response,
    malformed,
    request_line,
)

LINGER_TIME = 30.0  # seconds, in all, to read and discard a refused request's remaining body
LINGER_IDLE = 5.0  # seconds without a byte, meanwhile
LINGER_BYTES = 1 << 30  # bytes, in all: 1 GiB, twice the largest per-file limit of any profile
TARGET_SHOWN = 1024  # bytes of a request target kept for the journal of a refused head
NO_BODY_METHODS = frozenset({"GET", "HEAD"})


class TargetTooLong(Exception):
    """Raised in httptools' ``on_url`` to stop the parser at a request target of HEAD_LIMIT bytes."""


def protocol_class(answers: Answers | None = None, *, quiet: bool = False) -> type[MockFilesProtocol]:
    """The protocol class for ``uvicorn.Config(http=...)``, answering through ``answers``;
    ``quiet`` keeps uvicorn's warnings about malformed requests (CLIENT_NOISE) out of the log."""
    return type("MockFilesProtocol", (MockFilesProtocol,), {"answers": answers or PlainAnswers(), "quiet": quiet})


class MockFilesProtocol(HttpToolsProtocol):
    answers: ClassVar[Answers] = PlainAnswers()
    quiet: ClassVar[bool] = False

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.quiet:
            self.logger = without_client_noise(self.logger, self.logger.level)
        self._head_open = False  # a request head has begun and not ended
        self._head_fresh = False  # ... and began in the read being parsed, which is not counted
        self._head_bytes = 0
        self._target_too_long = False  # the request target reached HEAD_LIMIT (on_url)
        self._body_open = False  # the head has ended, the body not
        self._draining = False  # answered before the body ended: the rest is read and discarded
        self._discarding = False  # closing gracefully: the FIN is sent, whatever comes is discarded
        self._drained = 0
        self._last_read = 0.0
        self._deadline = 0.0
        self._linger_idle = LINGER_IDLE
        self._timer: asyncio.TimerHandle | None = None  # one at a time: head, body, or drain
        self._guarded: Guarded | None = None
        self._idle_from = 0.0  # when the last response ended on a kept connection (0: busy or new)

    # --- the connection -------------------------------------------------------------

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm(self.answers.timeouts().header, self._head_timed_out)

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        if self._guarded is not None:
            self._guarded.detach()
        super().connection_lost(exc)

    def shutdown(self) -> None:
        """The server is stopping: a connection being closed gracefully is closed now."""
        if self._discarding:
            self.transport.close()
        else:
            HttpToolsProtocol.shutdown(self)

    def data_received(self, data: bytes) -> None:
        if self._discarding:
            self._discard(len(data))
            return
        if self._idle_from:
            if self._idle_too_long():
                return
        self._unset_keepalive_if_required()  # uvicorn's data_received, with the parser's error kept
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            if self._should_upgrade():
                self.handle_websocket_upgrade()
            else:
                self._unsupported_upgrade_warning()
        except httptools.HttpParserError as error:
            self._malformed(error, data)
            return
        if self._discarding:  # the read ended in a refusal: answered
            return
        if self._head_open:
            self._head_arrived(len(data))
        elif self._body_open:
            self._body_arrived(len(data))

    def _head_arrived(self, size: int) -> None:
        if self._head_fresh:
            self._head_fresh = False  # httptools holds at most this one read of the head so far
        else:
            self._head_bytes += size
            if self._head_bytes > HEAD_LIMIT:
                self._refuse(HEAD_TOO_LARGE)
                return
        if self._timer is None:  # a later request on a kept connection: its head has its own time
            self._arm(self.answers.timeouts().header, self._head_timed_out)

    def _body_arrived(self, size: int) -> None:
        self._last_read = self.loop.time()
        if self._draining:
            self._drained += size
            if self._drained > LINGER_BYTES:
                self.transport.close()
        elif self._timer is None:
            self._arm(self.answers.timeouts().body, self._body_idle)

    # --- httptools' callbacks -------------------------------------------------------

    def on_url(self, url: bytes) -> None:
        """The request target, as uvicorn keeps it; one of 64 KiB or more is refused here, whatever
        its arrival: httptools' ``parse_url`` (uvicorn's, once the head ends) takes at most 65,535
        bytes, and a target sent in one piece is never counted by ``_head_arrived``, which
        leaves the read a head begins in to httptools. Raising stops the parser, and
        ``_malformed`` answers 431."""
        self.url += url
        if len(self.url) >= HEAD_LIMIT:
            self._target_too_long = True
            raise TargetTooLong

    def _malformed(self, error: Exception, data: bytes) -> None:
        """The parser refused what ``data`` brought: a 400 in the request's dialect, unless an answer
        is under way (the connection then closes once it is sent) or was sent (a refused body
        being drained: closed now)."""
        if self._target_too_long:
            self._refuse(HEAD_TOO_LARGE)
            return
        self.logger.warning("Invalid HTTP request received.")
        cycle, scope = self.cycle, None
        if self._draining:
            self.transport.close()
            return
        if cycle is not None and not cycle.response_complete:
            if cycle.scope is not self.scope or cycle.response_started:
                cycle.keep_alive = False
                self.flow.pause_reading()
                return
            scope = cycle.scope  # this request's body was refused: its application hears it left
            for task in self.tasks:
                if inspect.getcoroutinestate(task.get_coro()) == inspect.CORO_CREATED:  # type: ignore[arg-type]
                    task.cancel()  # the application has not begun it (the head ended in this read)
            cycle.disconnected = True
            cycle.message_event.set()
        line = request_line(data) if not self.url and self._head_fresh else None
        self._refuse(malformed(error), scope, line)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._head_open = self._head_fresh = True
        self._head_bytes = 0

    def on_headers_complete(self) -> None:
        super().on_headers_complete()
        self._head_open = False
        self._body_open = True
        if self._timer is not None:
            self._disarm()
        if self.timeout_keep_alive_task is not None:  # set when a drained body ended in this read
            self._unset_keepalive_if_required()
        cycle = self.cycle
        if cycle is not None and cycle.scope is self.scope and self.scope["method"] not in NO_BODY_METHODS:
            if self._guarded is None:
                self._guarded = Guarded(self.transport, self._close_after_response)
            cycle.transport = self._guarded

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self._body_open = False
        if self._timer is not None:
            self._disarm()
        if self._draining:  # the refused body ended within the bounds: keep the connection, idle
            self._draining = False
            self.timeout_keep_alive_task = self.loop.call_later(
                self.timeout_keep_alive, self.timeout_keep_alive_handler
            )

    def on_response_complete(self) -> None:
        if self._discarding:
            self.server_state.total_requests += 1
            return
        super().on_response_complete()
        self._idle_from = self.loop.time()
        if self._body_open and self.cycle.response_complete and not self.transport.is_closing():
            self._unset_keepalive_if_required()
            self._disarm()
            self._draining = True
            self._drained = 0
            self._start_lingering()

    def _idle_too_long(self) -> bool:
        """A request on a kept connection idle longer than the scenario's ``idle_reset`` (since its
        last answer, or the emulator's last reset if later): reset it (the server had forgotten
        it; the client had not)."""
        timeouts = self.answers.timeouts()
        idle_reset = timeouts.idle_reset
        idle, self._idle_from = self.loop.time() - max(self._idle_from, timeouts.idle_since), 0.0
        if idle_reset is None or idle <= idle_reset:
            return False
        sock = self.transport.get_extra_info("socket")
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        except (AttributeError, OSError, ValueError):
            pass
        self.transport.abort()
        return True

    # --- closing gracefully ---------------------------------------------------------

    def _close_after_response(self) -> None:
        """The cycle (or a fault) closes the connection once its response is out."""
        if self._body_open:
            self._close_gracefully()
        else:
            self.transport.close()

    def _close_gracefully(self) -> None:
        """Send a FIN after the response, and read and discard until the client closes too."""
        transport = self.transport
        if self._discarding or transport.is_closing():
            return
        self._unset_keepalive_if_required()
        self._disarm()
        if not transport.can_write_eof():
            transport.close()
            return
        self._discarding = True
        self._draining = False
        self._drained = 0
        transport.write_eof()
        self.flow.resume_reading()
        self._start_lingering()

    def _discard(self, size: int) -> None:
        self._last_read = self.loop.time()
        self._drained += size
        if self._drained > LINGER_BYTES:
            self.transport.close()

    def _start_lingering(self) -> None:
        now = self.loop.time()
        self._last_read = now
        self._deadline = now + LINGER_TIME
        self._linger_idle = min(LINGER_IDLE, self.answers.timeouts().body)
        self._arm(self._linger_idle, self._linger_check)

    def _linger_check(self) -> None:
        self._timer = None
        wake = min(self._deadline, self._last_read + self._linger_idle)
        remaining = wake - self.loop.time()
        if remaining > 0:
            self._arm(remaining, self._linger_check)
        elif not self.transport.is_closing():
            self.transport.close()

    # --- the connection's own answers -----------------------------------------------

    def _head_timed_out(self) -> None:
        self._timer = None
        if not self._head_open:  # not a byte of a request: nothing to answer
            self.transport.close()
            return
        timeout = self.answers.timeouts().header
        message = f"Request timed out: the request line and headers did not arrive within {timeout:g}s."
        self._refuse(Refusal(408, message, "header_timeout"))

    def _body_idle(self) -> None:
        self._timer = None
        cycle = self.cycle
        if not self._body_open or cycle is None or cycle.response_started:
            return
        timeout = self.answers.timeouts().body
        now = self.loop.time()
        if self.flow.read_paused:  # the application is not reading: the client is not the one waiting
            self._last_read = now
        remaining = self._last_read + timeout - now
        if remaining > 0:
            self._arm(remaining, self._body_idle)
            return
        message = f"Request timed out: no part of the request body arrived for {timeout:g}s."
        self._refuse(Refusal(408, message, "body_timeout"), cycle.scope)
        cycle.disconnected = True  # the application's receive() now says so; its send() does nothing
        cycle.message_event.set()

    def _refuse(self, refusal: Refusal, scope: Any = None, line: tuple[str, bytes] | None = None) -> None:
        """Answer ``refusal`` and close; ``line``: the request line's method and target as sent,
        when the parser refused them before taking them."""
        if self.transport.is_closing():
            return
        url: bytes = getattr(self, "url", b"")
        method = self.parser.get_method().decode("ascii", "replace") if url else None
        if line is not None:
            method, url = line
        request = RequestSoFar(method, bytes(url[:TARGET_SHOWN]), scope)
        status, headers, body = self.answers.refuse(refusal, request)
        self.transport.write(encode_response(status, self.server_state.default_headers + headers, body))
        self._close_gracefully()

    # --- the one timer ---------------------------------------------------------------

    def _arm(self, delay: float, callback: Callable[[], None]) -> None:
        self._disarm()
        self._timer = self.loop.call_later(delay, callback)

    def _disarm(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
