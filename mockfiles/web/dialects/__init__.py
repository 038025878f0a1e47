"""Wire dialects: how one API family looks on the wire. A dialect is a pure translator: it makes
request ids, stamps its response headers, shapes objects and renders errors (from the one error
table, ``errors.say``); it decides nothing and handles no request (mockfiles/handlers does).

- ``openai``: OpenAI's ``/v1`` (``openai.py``);
- ``dashscope-compatible``: DashScope's OpenAI-compatible mode (``dashscope_compatible.py``);
- ``dashscope-native``: DashScope's own file API (``dashscope_native.py``);
- ``dashscope.py``: what the two DashScope dialects share.
"""

from __future__ import annotations

from typing import Any, Protocol

from mockfiles.core.errors import MockFilesError
from mockfiles.core.record import Record


class Dialect(Protocol):
    name: str
    prefix: str  # where its routes are mounted (``/v1``)

    def new_request_id(self) -> str: ...

    def headers(self, record: Record) -> list[tuple[bytes, bytes]]:
        """The headers every answer carries in this dialect (request id, timing, rate limits)."""
        ...

    def error(self, err: MockFilesError, record: Record) -> tuple[int, dict[str, Any], dict[str, str]]:
        """Status, body and extra headers of an error answer."""
        ...
