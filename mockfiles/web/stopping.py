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
import logging
import socket
from collections.abc import Callable

import uvicorn

LAST_WORDS = 2.0  # seconds, past the grace period, for the 503s and the closing connections to go out
log = logging.getLogger("uvicorn.error")  # uvicorn's lines, as its own stop writes them
TICK = 0.1  # seconds between the main loop's looks at ``should_exit`` (uvicorn's), unless woken
POLL = 0.005  # seconds between looks at the connections and tasks still open while stopping


class GracefulServer(uvicorn.Server):
    """uvicorn's server, whose stop begins with ``on_stop`` (the emulator lets go of held requests),
    waits ``config.timeout_graceful_shutdown`` for requests in flight, and ends once the requests
    it then cancelled have answered; ``announce`` is called once it accepts connections.

    A stop asked for by ``exit_soon()`` (from any thread) begins at once, and ends as soon as the
    last connection has closed: uvicorn's own loop looks at ``should_exit`` every 0.1 s and its
    stop waits 0.1 s more before it looks at the connections, which made every stop of a server
    with nothing in flight take 0.2 s."""

    def __init__(
        self, config: uvicorn.Config, *, on_stop: Callable[[], None], announce: Callable[[], None] | None = None
    ) -> None:
        super().__init__(config)
        self._on_stop = on_stop
        self._announce = announce
        self._loop: asyncio.AbstractEventLoop | None = None
        self._tick: asyncio.Future[None] | None = None  # what the main loop waits for between ticks

    def exit_soon(self) -> None:
        """Stop (from any thread): the main loop is woken rather than left to its next tick."""
        self.should_exit = True
        loop, tick = self._loop, self._tick
        if loop is not None and tick is not None and not loop.is_closed():
            try:
                loop.call_soon_threadsafe(_settle, tick)
            except RuntimeError:  # the loop closed meanwhile: it has stopped already
                pass

    async def main_loop(self) -> None:
        """uvicorn's main loop (``on_tick`` every TICK), which ``exit_soon`` wakes."""
        loop = self._loop = asyncio.get_running_loop()
        counter = 0
        should_exit = await self.on_tick(counter)
        while not should_exit:
            counter = (counter + 1) % 864000
            tick = self._tick = loop.create_future()
            timer = loop.call_later(TICK, _settle, tick)
            if not self.should_exit:
                await tick
            timer.cancel()
            should_exit = await self.on_tick(counter)

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if self.started and self._announce is not None:
            self._announce()

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        """uvicorn's stop, in its order: no new connections, the open ones told to close once their
        answer is sent, the requests in flight given the grace period (then cancelled), the
        lifespan's end; but each wait looks every POLL seconds rather than every 0.1 s."""
        self._on_stop()
        log.info("Shutting down")
        for server in self.servers:
            server.close()
        for sock in sockets or []:
            sock.close()
        for connection in list(self.server_state.connections):
            connection.shutdown()
        try:
            await asyncio.wait_for(self._drained(), self.config.timeout_graceful_shutdown)
        except asyncio.TimeoutError:
            tasks = self.server_state.tasks
            log.error("Cancel %s running task(s), timeout graceful shutdown exceeded", len(tasks))
            for task in tasks:
                task.cancel(msg="Task cancelled, timeout graceful shutdown exceeded")
        if not self.force_exit:
            await self.lifespan.shutdown()
        await self._last_words()

    async def _drained(self) -> None:
        state = self.server_state
        if state.connections and not self.force_exit:
            log.info("Waiting for connections to close. (CTRL+C to force quit)")
        while (state.connections or state.tasks) and not self.force_exit:
            await asyncio.sleep(POLL)
        for server in self.servers:
            await server.wait_closed()

    async def _last_words(self) -> None:
        """Let the requests cancelled at the end of the grace period answer, and their connections
        send what they were given, for at most LAST_WORDS."""
        state = self.server_state
        loop = asyncio.get_running_loop()
        deadline = loop.time() + LAST_WORDS
        while (state.tasks or state.connections) and loop.time() < deadline and not self.force_exit:
            await asyncio.sleep(0.01)


def _settle(tick: asyncio.Future[None]) -> None:
    if not tick.done():
        tick.set_result(None)


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
