"""Answers sent as server-sent events (a model request with ``stream: true``): each event is one
piece of the body, so that a fault can cut the stream after so many events (effects.py)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import orjson
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

DONE = b"data: [DONE]\n\n"


def data_events(events: Iterable[Mapping[str, Any]], done: bool = True) -> list[bytes]:
    """``data: {…}`` events (Chat Completions' chunks), ending with ``data: [DONE]``."""
    encoded = [b"data: " + orjson.dumps(event) + b"\n\n" for event in events]
    return [*encoded, DONE] if done else encoded


def typed_events(events: Iterable[Mapping[str, Any]]) -> list[bytes]:
    """``event: <type>`` and ``data: {…}`` events (Responses'), with no ``[DONE]``."""
    return [b"event: " + str(e["type"]).encode() + b"\ndata: " + orjson.dumps(e) + b"\n\n" for e in events]


class EventStream(Response):
    """A ``text/event-stream`` answer, one ASGI body message per event (chunked on the wire)."""

    media_type = "text/event-stream"

    def __init__(self, events: list[bytes]) -> None:
        self.status_code = 200
        self.background = None
        self.events = events
        self.body = b"".join(events)  # what a fault that mangles the whole answer (malformed_json) cuts
        self.raw_headers = [(b"content-type", b"text/event-stream; charset=utf-8"), (b"cache-control", b"no-cache")]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers})
        for event in self.events:
            await send({"type": "http.response.body", "body": event, "more_body": True})
        await send({"type": "http.response.body", "body": b""})
