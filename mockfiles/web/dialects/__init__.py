"""Wire dialects: how one API family looks on the wire. A dialect is a pure translator: it makes
request ids, stamps its response headers, shapes objects and renders errors (from the one error
table, ``errors.say``); it decides nothing and handles no request (mockfiles/handlers does).

- ``openai``: OpenAI's ``/v1`` (``openai.py``);
- ``dashscope-compatible``: DashScope's OpenAI-compatible mode (``dashscope_compatible.py``);
- ``dashscope-native``: DashScope's own file API (``dashscope_native.py``);
- ``dashscope.py``: what the two DashScope dialects share;
- ``azure`` and ``azure-v1``: Azure OpenAI's ``/openai`` and ``/openai/v1`` routes (``azure.py``).
"""

from __future__ import annotations

from typing import Any, Protocol

from mockfiles.core.errors import MockFilesError
from mockfiles.core.record import Record


class Dialect(Protocol):
    name: str
    prefix: str  # where its routes are mounted (``/v1``)

    def new_request_id(self) -> str: ...

    def check_request(self, query_string: bytes) -> None:
        """Refuse (raise) a request this dialect never serves whatever its route (Azure's api-version)."""
        ...

    def headers(self, record: Record) -> list[tuple[bytes, bytes]]:
        """The headers every answer carries in this dialect (request id, timing, rate limits)."""
        ...

    def error(self, err: MockFilesError, record: Record) -> tuple[int, dict[str, Any], dict[str, str]]:
        """Status, body and extra headers of an error answer."""
        ...
