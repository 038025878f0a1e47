"""Shaping an answer or a request body for a fault: a proxy's HTML error page, a JSON answer cut
in half, a body counted up to the byte where a fault acts, a body dribbled at a bandwidth. The
transport (transport.py) applies them to the exchange."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from http import HTTPStatus

from starlette.responses import Response
from starlette.types import Message, Send

from mockfiles.admission.decision import Decision
from mockfiles.core.errors import MockFilesError
from mockfiles.core.record import Record


async def within(coro: Awaitable[None], seconds: float) -> None:
    """``asyncio.wait_for`` that needs no current task (Python 3.12's does): an in-process
    request's first step runs outside one (mockfiles/inprocess/runner.py). Raises TimeoutError."""
    waited = asyncio.ensure_future(coro)
    try:
        done, _ = await asyncio.wait({waited}, timeout=seconds)
    finally:
        if not waited.done():
            waited.cancel()
    if not done:
        raise asyncio.TimeoutError
    waited.result()


__all__ = ["ProxyPage", "BodyCut", "cut_sender", "dribbled", "malformed", "events_cut"]


class ProxyPage(Exception):
    """An error answered as a proxy in front of the service would: an HTML page, not JSON."""

    def __init__(self, status: int) -> None:
        super().__init__(status)
        self.status = status

    def response(self) -> Response:
        reason = HTTPStatus(self.status).phrase if self.status in HTTPStatus._value2member_map_ else "Error"
        title = f"{self.status} {reason}"
        page = f"<html>\r\n<head><title>{title}</title></head>\r\n<body>\r\n<center><h1>{title}</h1></center>\r\n"
        page += "<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
        return Response(page, self.status, media_type="text/html")


@dataclass(slots=True)
class BodyCut:
    """A decision that acts once ``at`` bytes of a body went through (decisions.Decision.at_bytes):
    an error or a reset part-way through an upload, a broken or stalled download."""

    decision: Decision
    error: MockFilesError | None  # the error to answer with (the decision's, as the front layer dressed it)
    at: int
    seen: int = 0
    done: bool = False

    def take(self, size: int, more: bool) -> int | None:
        """How many bytes of a piece of ``size`` bytes go out before the fault acts (None: all of
        them, the fault comes later); a body shorter than ``at`` loses its last byte, so that the
        fault always happens."""
        left = self.at - self.seen
        if size < left and more:
            self.seen += size
            return None
        take = left if size > left or (size == left and more) else max(size - 1, 0)
        self.done = True
        self.seen += take
        return take


DRIBBLE_STEPS = 10  # pieces per second of a dribbled body


def dribbled(send: Send, rate: float) -> Send:
    """``send`` with each body cut in pieces of a tenth of ``rate`` bytes, a tenth of a second apart."""
    piece = max(1, int(rate / DRIBBLE_STEPS))

    async def send_slowly(message: Message) -> None:
        if message["type"] != "http.response.body":
            await send(message)
            return
        body: bytes = message.get("body", b"")
        more = message.get("more_body", False)
        for start in range(0, max(len(body), 1), piece):
            last = start + piece >= len(body)
            await send(
                {"type": "http.response.body", "body": body[start : start + piece], "more_body": more or not last}
            )
            if not last or more:
                await asyncio.sleep(len(body[start : start + piece]) / rate)

    return send_slowly


def malformed(response: Response) -> Response:
    """The answer with its JSON cut in half: a 200 a client cannot decode (the operation was done)."""
    body = bytes(response.body)
    return Response(body[: len(body) // 2], response.status_code, media_type="application/json")


def cut_sender(
    cut: BodyCut, send: Send, record: Record, reset: Callable[[], None], closed: Callable[[], Awaitable[None]]
) -> Send:
    """``send`` for a download with a fault counted in its bytes: the head and ``cut.at`` bytes of the
    body (all but the last byte, when it is shorter), then a stall of the decision's seconds before
    the rest (unless the client gives up meanwhile: it is journaled as gone), or a reset."""
    dropped = False

    async def send_cut(message: Message) -> None:
        nonlocal dropped
        if dropped:
            return
        body: bytes = message.get("body", b"")
        more = message.get("more_body", False)
        take = None if message["type"] != "http.response.body" or cut.done else cut.take(len(body), more)
        if take is None:
            await send(message)
            return
        record.details["cut_at_bytes"] = cut.seen
        await send({"type": "http.response.body", "body": body[:take], "more_body": True})
        if cut.decision.stall:
            try:  # nothing moves for the stall's seconds, unless the client gives up meanwhile
                await within(closed(), cut.decision.stall)
            except asyncio.TimeoutError:
                await send({"type": "http.response.body", "body": body[take:], "more_body": more})
                return
            record.details["unsent_status"] = record.status
            record.action = "client_disconnected"
        else:
            reset()
            await closed()
        dropped = True

    return send_cut


def events_cut(
    events: int, send: Send, record: Record, reset: Callable[[], None], closed: Callable[[], Awaitable[None]]
) -> Send:
    """``send`` for a streamed answer cut after ``events`` server-sent events (each one piece of the
    body): the head and that many events, then a reset, as a stream dropped mid-way looks to a client."""
    sent = 0
    dropped = False

    async def send_cut(message: Message) -> None:
        nonlocal sent, dropped
        if dropped:
            return
        if message["type"] != "http.response.body" or sent < events:
            if message["type"] == "http.response.body":
                sent += 1
            await send(message)
            return
        dropped = True
        record.details["cut_after_events"] = sent
        reset()
        await closed()

    return send_cut
