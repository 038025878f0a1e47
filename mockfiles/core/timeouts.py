"""How long the server waits for a client that has stopped sending.

Two waits, as a real front end has them (nginx: ``client_header_timeout`` and
``client_body_timeout``, both 60 s by default):

- ``header``: from the connection's opening (or a later request's first byte) until the request
  head (request line and headers) has fully arrived. A head is a few hundred bytes; a live client
  sends it in milliseconds, so 30 s only ever ends a connection that sends nothing, or a head one
  byte at a time (the slow-headers attack that otherwise keeps a connection forever).
- ``body``: how long the body may go with no byte at all while the server is reading it. It is an
  idle timeout, not a total: an upload that trickles in at one byte every few seconds is live and
  is never cut, however long it takes; one that declared more than it sends is.

Between requests on a kept-alive connection, uvicorn's keep-alive timeout (5 s) applies: the
connection is closed. A scenario's ``idle_reset`` (below that) makes the server forget a
connection idle that long without telling the client: the client's next request on it is answered
with a TCP reset, as when a load balancer dropped an idle connection the client still pools. A
connection's idle time counts from its last answer, or from the emulator's last reset if that came
later (``idle_since``): a test starts with every kept connection as fresh as a new one, so a client
kept from an earlier test is not reset for the time it spent idle between the two.

When the server stops (SIGTERM, Ctrl-C), requests in flight have ``SHUTDOWN_GRACE`` to finish
(mockfiles/stopping.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field

DEFAULT_HEADER_TIMEOUT = 30.0
DEFAULT_BODY_TIMEOUT = 60.0
KEEP_ALIVE = 5.0  # uvicorn's keep-alive timeout: an idle connection is closed after it
SHUTDOWN_GRACE = 5.0  # seconds for requests in flight to finish on a stop (below docker's 10 s before SIGKILL)
MAX_TIMEOUT = 86_400.0  # one day: longer is no timeout at all, and event loops refuse absurd delays


@dataclass(frozen=True)
class Timeouts:
    header: float = DEFAULT_HEADER_TIMEOUT
    body: float = DEFAULT_BODY_TIMEOUT
    idle_reset: float | None = None  # a kept-alive connection idle this long is reset on its next request
    # the real monotonic time of the emulator's last reset: idle time counts from there at most (not a setting)
    idle_since: float = field(default=0.0, compare=False)
