"""One request's step at a time, whichever thread runs it.

A request's coroutine runs in steps: from one ``await`` that suspends it to the next. The server's
loop runs the requests that come over sockets; an in-process request runs on its caller's thread
(mockfiles/inprocess/runner.py). ``Serialized`` holds the emulator's lock for each step, so that two
requests never change the emulator's state at once, and a reset or a scenario change (which take
the same lock) never lands in the middle of a step. Between steps (a fault's delay, a held
request, a body still arriving) the lock is free. An in-process request takes its first step
at once, with no task (``first_step``), and becomes a task only if it has to wait (``resumed``).
"""

from __future__ import annotations

import types
from collections.abc import Coroutine, Generator
from contextlib import AbstractContextManager
from typing import Any, TypeVar

from starlette.types import ASGIApp, Receive, Scope, Send

T = TypeVar("T")
Lock = AbstractContextManager[Any]


def first_step(coro: Coroutine[Any, Any, Any], lock: Lock) -> tuple[bool, Any]:
    """Run ``coro`` until it first waits, ``lock`` held: (False, what it waits for), or (True,
    its result) if it ended."""
    with lock:
        try:
            return False, coro.send(None)
        except StopIteration as stop:
            return True, stop.value


@types.coroutine
def resumed(coro: Coroutine[Any, Any, T], waited: Any, lock: Lock) -> Generator[Any, Any, T]:
    """The rest of ``coro``, whose last step ended waiting for ``waited``, each step under ``lock``."""
    while True:
        value: Any = None
        error: BaseException | None = None
        try:
            value = yield waited
        except GeneratorExit:
            with lock:
                coro.close()
            raise
        except BaseException as exc:  # a cancellation, or what the awaited future raised
            error = exc
        with lock:
            try:
                waited = coro.send(value) if error is None else coro.throw(error)
            except StopIteration as stop:
                result: T = stop.value
                return result


class Serialized:
    """An ASGI application whose requests run a step at a time under ``lock``: the first step
    (``first_step``), then, if it waited, the rest (``resumed``)."""

    def __init__(self, app: ASGIApp, lock: Lock) -> None:
        self.app = app
        self.lock = lock

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        coro: Coroutine[Any, Any, None] = self.app(scope, receive, send)  # type: ignore[assignment]
        ended, waited = first_step(coro, self.lock)
        if not ended:
            await resumed(coro, waited, self.lock)
