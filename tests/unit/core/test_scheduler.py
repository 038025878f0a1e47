"""The emulator's scheduler on its own: jobs run in each account's turns, due work comes due at its
instant and is waited for (never done) by whoever asks, a reset drops everything."""

from __future__ import annotations

import threading
import time
from collections.abc import Generator

import pytest

from mockfiles.core.clock import Clock
from mockfiles.core.scheduler import ALL, Scheduler, Superseded


def steps(log: list[str], name: str, count: int, pause: float = 0.0) -> Generator[None, None, str]:
    for _ in range(count):
        log.append(name)
        if pause:
            time.sleep(pause)  # a slice ends at the first yield after SLICE
        yield
    return f"{name} done"


def test_accounts_take_turns_a_slice_at_a_time() -> None:
    scheduler, log = Scheduler(Clock().now), []
    gate = threading.Event()

    def held() -> Generator[None, None, None]:
        gate.wait()
        yield

    scheduler.submit("first", held())  # keeps the thread until both lanes are filled
    big = scheduler.submit("a", steps(log, "a", 40, pause=0.003))
    small = scheduler.submit("b", steps(log, "b", 3, pause=0.003))
    gate.set()
    assert small.result(timeout=30) == "b done" and big.result(timeout=30) == "a done"
    assert log.index("b") < 5 and log[-1] == "a"  # b ran between a's first slices, not after all of them
    scheduler.close()


def test_due_work_comes_due_at_its_instant_and_is_waited_for() -> None:
    clock = Clock()
    scheduler, log = Scheduler(clock.now), []
    clock.on_advance(scheduler.kick)
    now = clock.now()
    scheduler.at(now + 100, "a", lambda: steps(log, "due", 1))
    assert not scheduler.behind("a", now) and not scheduler.behind(ALL, now)
    time.sleep(0.05)
    assert log == []  # not before its instant
    clock.advance(100)
    assert scheduler.settle("a", timeout=30) and log == ["due"]
    assert not scheduler.behind("a", clock.now())


def test_a_waiter_waits_for_the_work_due_when_it_came_not_later_work() -> None:
    clock = Clock()
    scheduler = Scheduler(clock.now)
    gate, seen = threading.Event(), []

    def gated() -> Generator[None, None, None]:
        gate.wait()
        yield

    now = clock.now()
    scheduler.at(now - 1, "a", gated)
    assert scheduler.behind("a", now) and scheduler.behind(ALL, now) and not scheduler.behind("b", now)
    scheduler.when_current("b", lambda: seen.append("b"))  # another account: at once
    scheduler.when_current("a", lambda: seen.append("a"))
    scheduler.when_current(ALL, lambda: seen.append("all"))
    scheduler.at(now - 1, "c", lambda: steps([], "later", 1))  # comes due after the waiters began
    assert seen == ["b"]
    gate.set()
    assert scheduler.settle(ALL, timeout=30)
    assert sorted(seen) == ["a", "all", "b"]


def test_a_reset_drops_every_job_and_lets_waiters_go() -> None:
    scheduler = Scheduler(Clock().now)
    gate = threading.Event()

    def held() -> Generator[None, None, None]:
        gate.wait()
        yield

    running = scheduler.submit("a", held())
    queued = scheduler.submit("b", steps([], "b", 1))
    scheduler.at(0, "c", lambda: steps([], "c", 1))
    released = threading.Event()
    scheduler.when_current(ALL, released.set)
    scheduler.clear()
    assert released.is_set()
    with pytest.raises(Superseded):
        queued.result(timeout=5)
    gate.set()
    with pytest.raises(Superseded):
        running.result(timeout=5)
    assert not scheduler.busy and not scheduler.behind(ALL, 10**12)


def test_a_failing_job_fails_its_future_and_the_thread_goes_on() -> None:
    scheduler = Scheduler(Clock().now)

    def broken() -> Generator[None, None, None]:
        yield
        raise ValueError("boom")

    with pytest.raises(ValueError, match="boom"):
        scheduler.submit("a", broken()).result(timeout=30)
    assert scheduler.submit("a", steps([], "a", 2)).result(timeout=30) == "a done"
