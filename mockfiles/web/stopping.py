"""A graceful stop, as nginx's graceful quit does it: on SIGTERM, SIGINT or ``stop()`` the server
stops accepting connections, closes the idle ones, lets go of requests held by a ``timeout`` fault
at once (their connection is closed, as the rule says), and lets every other request in flight
finish — an upload is read and answered, a download sent whole — for at most the grace period.
Past it, what is still unanswered is answered 503, and an answer still being sent is cut (app.py,
``stopped``). Then the loop is closed with no task left pending, so nothing is logged but the
requests' own lines.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable

import uvicorn

LAST_WORDS = 2.0  # seconds, past the grace period, for the 503s and the closing connections to go out


class GracefulServer(uvicorn.Server):
    """uvicorn's server, whose stop begins with ``on_stop`` (the emulator lets go of held requests),
    waits ``config.timeout_graceful_shutdown`` for requests in flight, and ends once the requests
    it then cancelled have answered; ``announce`` is called once it accepts connections."""

    def __init__(
        self, config: uvicorn.Config, *, on_stop: Callable[[], None], announce: Callable[[], None] | None = None
    ) -> None:
        super().__init__(config)
        self._on_stop = on_stop
        self._announce = announce

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if self.started and self._announce is not None:
            self._announce()

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        self._on_stop()
        await super().shutdown(sockets)
        await self._last_words()

    async def _last_words(self) -> None:
        """Let the requests cancelled at the end of the grace period answer, and their connections
        send what they were given, for at most LAST_WORDS."""
        state = self.server_state
        loop = asyncio.get_running_loop()
        deadline = loop.time() + LAST_WORDS
        while (state.tasks or state.connections) and loop.time() < deadline and not self.force_exit:
            await asyncio.sleep(0.01)


def close_loop(loop: asyncio.AbstractEventLoop) -> None:
    """Cancel what is still pending on ``loop`` and let it end (as ``asyncio.run`` does), then close
    it: a task destroyed while pending would be reported on stderr."""
    try:
        pending = [task for task in asyncio.all_tasks(loop) if not task.done()]
        for task in pending:
            task.cancel()
        if pending:
            loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        loop.run_until_complete(loop.shutdown_asyncgens())
    finally:
        loop.close()
