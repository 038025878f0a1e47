"""The emulator's own work: what runs outside any request, on one thread of the emulator's own.

Two kinds of job, each a generator that does a little and yields (``Job``), each in the lane of
the account it is for:

- **due work** (``at``): work that becomes due at an instant of the emulator clock — an ended
  batch's output and error files. It is nobody's request: it is due when the clock has passed
  that instant, whoever asks. A request of the account waits for the account's work due by its
  arrival (``behind``, ``when_current``); no request ever does it.
- **work now** (``submit``): heavy work a request hands over and waits for — a batch's
  validation, which reads its whole input file. The request's future gets the job's result.

The thread runs the lanes in turn, a slice of about ``SLICE`` seconds each (a job yields every
few hundred lines, and the slice ends at the first yield after it), so that one account's
50,000-line batch never holds up another account's small one for more than a slice; between
slices it lets go of the GIL, so that the event loop answering requests waits at most one slice
for it. Jobs change the emulator's state only under the Files service's lock, like requests.

The clock can jump (``advance()``, freezegun): the thread sleeps until the next due instant and
is woken by ``kick()`` (the clock's advances, and a request of an account that has work due).
A reset drops every job (``clear``); the futures of dropped work-now jobs get ``Superseded``.
"""

from __future__ import annotations

import concurrent.futures
import heapq
import logging
import threading
import time
import weakref
from collections import deque
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from typing import Any, TypeVar

log = logging.getLogger("mockfiles")
T = TypeVar("T")
Job = Generator[None, None, T]
Make = Callable[[], "Job[Any]"]  # due work is made when it comes due (its state is read then)
SLICE = 0.002  # seconds of one lane's turn
POLL = 1.0  # seconds between looks at the clock while work is due later (freezegun moves time unannounced)
ALL = None  # ``when_current``/``behind`` of every account


class Superseded(Exception):
    """The job was dropped by a reset before it ran to its end."""


@dataclass(eq=False)
class _Task:
    account: str
    job: Job[Any] | None
    make: Make | None
    ticket: int | None  # due work's place in the order it came due (None: work now)
    future: concurrent.futures.Future[Any] = field(default_factory=concurrent.futures.Future)


@dataclass(eq=False)
class _Waiter:
    account: str | None
    ticket: int  # the newest due ticket when it began to wait: later work is not waited for
    callback: Callable[[], None]


class Scheduler:
    """One emulator's background work: due work on the emulator clock and work handed over now,
    run in slices, round-robin across accounts, on one thread (started when there is work)."""

    def __init__(self, now: Callable[[], float]) -> None:
        self._now = now
        self._cond = threading.Condition()
        self._timed: list[tuple[float, int, str, Make]] = []  # heap: (when, seq, account, make)
        self._lanes: dict[str, deque[_Task]] = {}  # ready tasks per account; dict order is the turn order
        self._unfinished: dict[int, str] = {}  # due tickets not yet done, oldest first -> account
        self._owed: dict[str, dict[int, None]] = {}  # per account: its unfinished due tickets, oldest first
        self._waiters: list[_Waiter] = []
        self._seq = 0
        self._ticket = 0
        self._thread: threading.Thread | None = None
        self._era = 0  # grows at every close: a thread of an earlier era ends
        self.running: str | None = None  # the account whose job is running a slice (for tests and the console)

    # --- what the services hand over -----------------------------------------------------

    def at(self, when: float, account: str, make: Make) -> None:
        """Work for ``account`` that comes due at ``when`` on the emulator clock."""
        with self._cond:
            self._seq += 1
            heapq.heappush(self._timed, (when, self._seq, account, make))
            self._wake()

    def submit(self, account: str, job: Job[T]) -> concurrent.futures.Future[T]:
        """Work for ``account`` to run now; its future gets the job's result (or exception)."""
        task = _Task(account, job, None, None)
        with self._cond:
            self._enqueue(task)
            self._wake()
        return task.future

    @staticmethod
    def run(job: Job[T]) -> T:
        """Run a job to its end in the calling thread (the domain used directly, with no server)."""
        while True:
            try:
                next(job)
            except StopIteration as end:
                result: T = end.value
                return result

    # --- what requests ask ----------------------------------------------------------------

    def behind(self, account: str | None, now: float) -> bool:
        """Whether ``account`` (``ALL``: any) has work due by ``now`` that is not done. Quick when
        nothing is due (every request asks): two reads, no lock."""
        try:
            due = self._timed[0][0] <= now  # the scheduler's thread may pop the last entry meanwhile
        except IndexError:
            due = False
        if not due:
            owed = self._owed
            return bool(owed) if account is None else account in owed
        with self._cond:
            self._promote(now)
            return bool(self._owed) if account is None else account in self._owed

    def when_current(self, account: str | None, callback: Callable[[], None]) -> None:
        """Call ``callback`` (from any thread) once the work of ``account`` (``ALL``: of every
        account) that is due now is done: at once when there is none."""
        with self._cond:
            self._promote(self._now())
            waiter = _Waiter(account, self._ticket, callback)
            if not self._satisfied(waiter):
                self._waiters.append(waiter)
                self._wake()
                return
        callback()

    def settle(self, account: str | None = ALL, timeout: float | None = None) -> bool:
        """Wait in the calling thread until the work due now is done (the domain used directly);
        False when ``timeout`` passed first."""
        done = threading.Event()
        self.when_current(account, done.set)
        return done.wait(timeout)

    def kick(self) -> None:
        """Look at the clock again (it was moved)."""
        with self._cond:
            if self._timed:
                self._wake()

    @property
    def busy(self) -> bool:
        """Whether a job is under way or waiting for its turn."""
        return bool(self._lanes)

    # --- reset and shutdown ---------------------------------------------------------------

    def clear(self) -> None:
        """Drop every job (a reset): the futures of work handed over get ``Superseded``; waiters are let go."""
        with self._cond:
            dropped = [task for lane in self._lanes.values() for task in lane]
            self._timed.clear()
            self._lanes.clear()
            self._unfinished.clear()
            self._owed.clear()
            waiters, self._waiters = self._waiters, []
        for task in dropped:  # a job running a slice ends at the slice's end (its future is done)
            if not task.future.done():
                task.future.set_exception(Superseded())
        for waiter in waiters:
            waiter.callback()

    def close(self) -> None:
        """The emulator shuts down: drop every job and end the thread (work handed over later
        starts another)."""
        with self._cond:
            self._era += 1
            self._thread = None
            self._cond.notify_all()
        self.clear()

    # --- inside the lock --------------------------------------------------------------------

    def _wake(self) -> None:
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(
                target=_serve, args=(weakref.ref(self), self._cond, self._era), name="mockfiles-work", daemon=True
            )
            self._thread.start()
        self._cond.notify_all()

    def _enqueue(self, task: _Task) -> None:
        self._lanes.setdefault(task.account, deque()).append(task)

    def _promote(self, now: float) -> None:
        """Due work whose instant has come goes into its account's lane."""
        timed = self._timed
        while timed and timed[0][0] <= now:
            _, _, account, make = heapq.heappop(timed)
            self._ticket += 1
            self._unfinished[self._ticket] = account
            self._owed.setdefault(account, {})[self._ticket] = None
            self._enqueue(_Task(account, None, make, self._ticket))

    def _satisfied(self, waiter: _Waiter) -> bool:
        if waiter.account is None:
            oldest = next(iter(self._unfinished), None)
        else:
            tickets = self._owed.get(waiter.account)
            oldest = next(iter(tickets), None) if tickets else None
        return oldest is None or oldest > waiter.ticket

    def _finish(self, task: _Task) -> list[_Waiter]:
        """A task has ended: off its lane, its ticket done; the waiters it satisfies."""
        lane = self._lanes.get(task.account)
        if lane and lane[0] is task:
            lane.popleft()
            if not lane:
                del self._lanes[task.account]
        if task.ticket is not None and self._unfinished.pop(task.ticket, None) is not None:
            tickets = self._owed.get(task.account)
            if tickets is not None:
                tickets.pop(task.ticket, None)
                if not tickets:
                    del self._owed[task.account]
        ready = [w for w in self._waiters if self._satisfied(w)]
        if ready:
            self._waiters = [w for w in self._waiters if w not in ready]
        return ready

    def _next(self) -> _Task | float | None:
        """The task whose turn it is (its lane moved to the back), else how long to sleep (None: idle)."""
        now = self._now()
        self._promote(now)
        if self._lanes:
            account = next(iter(self._lanes))
            lane = self._lanes.pop(account)
            self._lanes[account] = lane  # the back of the turn order
            return lane[0]
        if self._timed:
            return max(0.0, min(self._timed[0][0] - now, POLL))
        return None

    def _slice(self, task: _Task) -> bool:
        """Run ``task`` for a slice outside the lock; True when it has ended."""
        if task.future.done():  # dropped by a reset meanwhile
            return True
        try:
            if task.job is None:
                assert task.make is not None
                task.job = task.make()
            job, end = task.job, time.perf_counter() + SLICE
            while time.perf_counter() < end:
                next(job)
        except StopIteration as finished:
            if not task.future.done():
                task.future.set_result(finished.value)
            return True
        except Exception as exc:  # the job's failure is its future's (due work has no one to tell: logged)
            if not task.future.done():
                task.future.set_exception(exc)
            if task.ticket is not None:
                log.error("mockfiles: background work for an account failed", exc_info=exc)
            return True
        return False


def _serve(ref: weakref.ref[Scheduler], cond: threading.Condition, era: int) -> None:
    """The thread: lanes in turn, a slice each; asleep until the next due instant when there is
    none; gone when idle, when its emulator is shut down or garbage."""
    while True:
        with cond:
            scheduler = ref()
            if scheduler is None or scheduler._era != era:
                return
            step = scheduler._next()
            if step is None:
                if scheduler._thread is threading.current_thread():
                    scheduler._thread = None
                return
            if not isinstance(step, _Task):
                del scheduler
                cond.wait(step)
                continue
            task = step
            scheduler.running = task.account
        ended = scheduler._slice(task)
        with cond:
            scheduler.running = None
            ready = scheduler._finish(task) if ended else []
        for waiter in ready:
            waiter.callback()
        del scheduler, task
        time.sleep(0)  # let the event loop have the GIL between slices (a wait of 2 ms at most, not 5)
