"""Two parts of the HTTP connection (protocol.py) that stand on their own: the transport as a
request's cycle sees it (``Guarded``), and uvicorn's logger without its warnings about what
clients send (``without_client_noise``, for ``--quiet``)."""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Callable
from typing import Any

# uvicorn's warnings about what a client sent (each answered 400 or ignored): noise under --quiet
CLIENT_NOISE = ("Invalid HTTP request received.", "Unsupported upgrade request.", "No supported WebSocket library")


def _not_client_noise(record: logging.LogRecord) -> bool:
    return not (isinstance(record.msg, str) and record.msg.startswith(CLIENT_NOISE))


@functools.lru_cache(maxsize=8)
def without_client_noise(logger: logging.Logger, level: int) -> logging.Logger:
    """``logger`` (uvicorn's ``uvicorn.error``) less the warnings in CLIENT_NOISE: a logger of the
    same name and level that hands everything else to it. uvicorn warns on every malformed request
    (a port scanner, a TLS handshake sent to plain HTTP), and with no handler configured, as under
    --quiet, Python prints warnings to stderr."""
    quiet = logging.Logger(logger.name, level)
    quiet.parent = logger
    quiet.addFilter(_not_client_noise)
    return quiet


class Guarded(asyncio.Transport):
    """The transport as a request's cycle (and mockfiles' faults) see it: closing it closes
    gracefully when the client may still be sending the body. Everything else goes through."""

    def __init__(self, transport: asyncio.Transport, close: Callable[[], None]) -> None:
        super().__init__()
        self._transport = transport
        self._close = close

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self._transport.write(data)

    def is_closing(self) -> bool:
        return self._transport.is_closing()

    def close(self) -> None:
        self._close()

    def abort(self) -> None:
        self._transport.abort()

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return self._transport.get_extra_info(name, default)

    def detach(self) -> None:
        """Forget the protocol once the connection is gone (no reference cycle left behind)."""
        self._close = self._transport.close
