"""The event loop an in-process request runs on: one of the calling thread's own (a ``Runner``).

A request's first step runs at once on the calling thread, as a step of this loop
(``first_step``): a request that waits for nothing but its caller (every request without a fault's
delay, a hold or work handed to a worker thread) ends there, answered with no task made and no
hand-over between threads. One that waits becomes a task on the loop, and the calling thread runs
what is ready there itself when it needs the next event of its answer (``drain``, a streamed
answer's next piece); what waits for time or another thread (a delay, a hold, a worker thread) is
waited for on the same loop: a sync caller runs it until its answer comes or its read
timeout passes (``run_until``); an async caller, which cannot block its own loop, hands the runner
to a thread of its own (``detach``), as does any caller that stops waiting while its request is
still running (a timeout, a body closed early): the request then ends there, as it would on a
server after its client left. The thread gets a new runner for its next request.

The loop is asyncio's own (its ready queue is what ``drain`` runs), with a clock that freezegun
does not freeze: a fault's delay and a hold keep real time while a test freezes time, as on the
server's loop. Requests' steps hold the emulator's lock (mockfiles/web/serial.py), whichever thread
runs them.
"""

from __future__ import annotations

import asyncio
import threading
from asyncio import events
from collections import deque
from collections.abc import Callable, Coroutine
from typing import Any

from mockfiles.core.clock import real_monotonic_clock
from mockfiles.web.serial import Lock, first_step


class Runner:
    """A calling thread's event loop for its in-process requests."""

    def __init__(self) -> None:
        loop = asyncio.SelectorEventLoop()
        loop.time = real_monotonic_clock()  # type: ignore[method-assign]
        self.loop = loop
        self._ready: deque[asyncio.Handle] = loop._ready  # type: ignore[attr-defined]
        self.owner = threading.get_ident()
        self.busy = threading.Lock()  # held while a thread runs the loop
        self.detached = False  # run by a thread of its own from now on (its callers wait for events from there)

    def first_step(self, coro: Coroutine[Any, Any, None], lock: Lock) -> tuple[bool, Any] | None:
        """Run ``coro``'s first step here and now, as a step of this loop (``serial.first_step``):
        most requests end in it, with no task made. None (not run) if the runner was handed over."""
        with self.busy:
            if self.detached:
                return None
            running = events._get_running_loop()
            events._set_running_loop(self.loop)
            try:
                return first_step(coro, lock)
            finally:
                events._set_running_loop(running)

    def start(self, coro: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        """A task for ``coro``, ready to run at the next ``drain``."""
        return self.loop.create_task(coro)

    def inline(self) -> bool:
        """Whether the current thread runs this loop itself (else: wait for events from it)."""
        return not self.detached and threading.get_ident() == self.owner

    def pending(self) -> bool:
        """Whether something is ready to run."""
        return bool(self._ready)

    def call(self, callback: Callable[[], None]) -> None:
        """Run ``callback`` on the loop: at the next ``drain`` here, or on the runner's own thread."""
        if self.inline():
            self.loop.call_soon(callback)
            return
        try:
            self.loop.call_soon_threadsafe(callback)
        except RuntimeError:  # the loop is closed: every request on it has ended
            pass

    def drain(self) -> None:
        """Run what is ready, here and now (the owner's thread; nothing waits for time)."""
        ready = self._ready
        with self.busy:
            if self.detached:  # handed over meanwhile: its own thread runs it
                return
            running = events._get_running_loop()
            events._set_running_loop(self.loop)
            try:
                while ready:
                    handle = ready.popleft()
                    if not handle._cancelled:
                        handle._run()
            finally:
                events._set_running_loop(running)

    def run_until(self, done: asyncio.Future[None], timeout: float | None) -> bool:
        """Run the loop until ``done`` (True) or ``timeout`` seconds (False): a sync caller's wait."""
        with self.busy:
            if self.detached:
                return True
            running = events._get_running_loop()
            events._set_running_loop(None)  # a sync client called from a coroutine: its loop is not run here
            try:
                finished, _ = self.loop.run_until_complete(asyncio.wait({done}, timeout=timeout))
            finally:
                events._set_running_loop(running)
        return bool(finished)

    def detach(self) -> None:
        """Hand the loop to a thread of its own, which runs it until its requests have ended."""
        with self.busy:
            if self.detached:
                return
            self.detached = True
        threading.Thread(target=self._finish, name="mockfiles-in-process", daemon=True).start()

    def _finish(self) -> None:
        loop = self.loop
        try:
            while tasks := asyncio.all_tasks(loop):
                loop.run_until_complete(asyncio.wait(tasks))
        finally:
            loop.close()

    def __del__(self) -> None:
        """The owner's thread has ended (its runner goes with it): the loop is closed, unless it
        runs on a thread of its own, which closes it."""
        if not self.detached and not self.loop.is_closed():
            self.loop.close()


_local = threading.local()


def current_runner() -> Runner:
    """The calling thread's runner (a new one if its last was handed to a thread of its own)."""
    runner: Runner | None = getattr(_local, "runner", None)
    if runner is None or runner.detached:
        runner = _local.runner = Runner()
    return runner
