"""When a batch does what, computed from its timestamps whenever it is read.

Nothing runs in the background: a batch is its creation time, its phase durations, its
number of requests and, once cancelled, the time of the cancel. Its status, its ``*_at``
timestamps and its request counts at any instant follow from those, like a file's
``status(now)``. Moving the emulator clock (``advance()``, the admin clock, freezegun) moves
every batch along.

The phases::

    validating -> in_progress -> finalizing -> completed
    validating -> failed                        (the input file has errors)
    validating | in_progress -> expired         (the work would end after created_at + its window)
    validating | in_progress -> cancelling -> cancelled

Request i of n (from 0) is done at ``in_progress_at + in_progress * (i + 1) / n``: the
requests finish one after another over the in_progress phase, so a batch polled halfway
through shows half its requests counted.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import dataclass

from mockfiles.scenarios.batches import Timing

WINDOW = 86_400.0  # the completion window, 24 h: the only one OpenAI accepts (DashScope: 24 h to 336 h)
FINAL = ("completed", "failed", "expired", "cancelled")
STATUSES = ("validating", "failed", "in_progress", "finalizing", "completed", "expired", "cancelling", "cancelled")
CANCELLABLE = ("validating", "in_progress")


@dataclass(frozen=True, slots=True)
class Counts:
    total: int = 0
    completed: int = 0
    failed: int = 0

    def as_dict(self) -> dict[str, int]:
        return {"total": self.total, "completed": self.completed, "failed": self.failed}


@dataclass(frozen=True, slots=True)
class Timeline:
    created: float
    timing: Timing
    total: int  # requests in the input file (those that ran, or would have)
    valid: bool  # False: validation found errors, the batch fails
    cancel_at: float | None = None
    window: float = WINDOW

    @property
    def deadline(self) -> float:
        return self.created + self.window

    @property
    def started(self) -> float:
        """When in_progress begins (or would begin)."""
        return self.created + self.timing.validating

    def events(self, until: str | None = None) -> list[tuple[str, float]]:
        """(status, time) of every transition, in order; with ``until``, up to and including
        the first one with that status (for the answer of create and cancel, which show
        ``validating`` and ``cancelling`` whatever the durations)."""
        out = [("validating", self.created)]
        started, deadline = self.started, self.deadline
        if started >= deadline:
            out.append(("expired", deadline))
        elif not self.valid:
            out.append(("failed", started))
        else:
            out.append(("in_progress", started))
            finished = started + self.timing.in_progress
            if finished > deadline:
                out.append(("expired", deadline))
            else:
                out += [("finalizing", finished), ("completed", finished + self.timing.finalizing)]
        if self.cancel_at is not None:
            out = [e for e in out if e[1] <= self.cancel_at and e[0] not in FINAL]
            out += [("cancelling", self.cancel_at), ("cancelled", self.cancel_at + self.timing.cancelling)]
        if until is not None:
            names = [name for name, _ in out]
            out = out[: names.index(until) + 1]
        return out

    def passed(self, now: float, until: str | None = None) -> list[tuple[str, float]]:
        """The transitions that have happened by ``now``."""
        return [(name, at) for name, at in self.events(until) if at <= now]

    def status(self, now: float, until: str | None = None) -> str:
        return self.passed(now, until)[-1][0]

    @property
    def final(self) -> tuple[str, float]:
        """The final status and when it comes (every path ends in one)."""
        return self.events()[-1]

    def stop(self) -> float:
        """When work on the requests stops: the deadline, or the cancel."""
        return self.deadline if self.cancel_at is None else min(self.deadline, self.cancel_at)

    def done(self, now: float) -> int:
        """Requests finished by ``now`` (none before in_progress, and none after work stops)."""
        if not self.valid or self.started >= self.deadline:
            return 0
        at = min(now, self.stop())
        if at < self.started:
            return 0
        if at >= self.started + self.timing.in_progress:
            return self.total
        return min(self.total, int((at - self.started) * self.total / self.timing.in_progress))

    def line_time(self, index: int) -> float:
        """When request ``index`` (from 0) is done."""
        return self.started + self.timing.in_progress * (index + 1) / self.total

    def counts(self, now: float, failing: Sequence[int], until: str | None = None) -> Counts:
        """``request_counts`` at ``now``; ``failing`` is the sorted indexes of the requests
        that fail when they run. Once the batch is cancelled or expired, the requests that
        never ran count as failed: they are the ``batch_cancelled``/``batch_expired`` lines
        of the error file (a choice)."""
        passed = self.passed(now, until)
        if all(name != "in_progress" for name, _ in passed):
            return Counts()
        done = self.done(now)
        failed = bisect_left(failing, done)
        if passed[-1][0] in ("cancelled", "expired"):
            return Counts(self.total, done - failed, failed + self.total - done)
        return Counts(self.total, done - failed, failed)
