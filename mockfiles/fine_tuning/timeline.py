"""When a fine-tuning job does what, computed from its timestamps whenever it is read.

Nothing runs in the background: a job is its creation time, its phase durations, its number of
training steps, whether it fails (and where), and the times of the pauses, resumes and cancel it
was asked for. Its status, its step and its events at any instant follow from those, like a
file's ``status(now)``; moving the emulator clock (``advance()``, freezegun) moves every job.

The phases::

    validating_files -> queued -> running -> succeeded
    validating_files -> failed                (the file's content, or a scenario rule)
    running -> failed                         (a scenario rule failing the job halfway through)
    running -> paused -> queued -> running    (pause, then resume: queued again before it runs)
    any status but succeeded/failed -> cancelled, at once

Training is ``running`` seconds of work spread evenly over the steps: step i of n is done when
``running * i / n`` seconds have been spent running. A pause stops the work; after a resume the
job waits ``queued`` seconds again and carries on from where it stopped.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from mockfiles.scenarios.fine_tuning import Timing

FINAL = ("succeeded", "failed", "cancelled")


@dataclass(frozen=True, slots=True)
class Timeline:
    created: float
    timing: Timing
    steps: int  # training steps (0 when the files are not valid)
    fails: str | None = None  # None, "validating_files" or "running": where the job fails
    pauses: tuple[tuple[float, float | None], ...] = ()  # (paused at, resumed at or None)
    cancel_at: float | None = None

    @property
    def validated(self) -> float:
        return self.created + self.timing.validating_files

    @property
    def started(self) -> float:
        return self.validated + self.timing.queued

    def segments(self) -> list[tuple[float, float | None]]:
        """The running intervals (start, end or None: open), before any cancel."""
        out: list[tuple[float, float | None]] = []
        start = self.started
        for paused, resumed in self.pauses:
            out.append((start, paused))
            if resumed is None:
                return out
            start = resumed + self.timing.queued
        out.append((start, None))
        return out

    def at_work(self, work: float) -> float:
        """When ``work`` seconds of training have been done (infinite while paused for good)."""
        remaining = work
        for start, end in self.segments():
            length = float("inf") if end is None else end - start
            if remaining <= length:
                return start + remaining
            remaining -= length
        return float("inf")

    def step_time(self, step: int) -> float:
        """When step ``step`` (1..steps) is done."""
        return self.at_work(self.timing.running * step / self.steps)

    @property
    def last_step(self) -> int:
        """The last step the job reaches: all of them, or half when a rule fails it while running."""
        return self.steps if self.fails != "running" else (self.steps + 1) // 2

    def ended(self) -> tuple[str, float]:
        """How the job ends without a cancel, and when (infinite while paused for good)."""
        if self.fails == "validating_files" or not self.steps:
            return "failed", self.validated
        return ("failed" if self.fails == "running" else "succeeded"), self.step_time(self.last_step)

    def transitions(self) -> list[tuple[str, float]]:
        """(status, time) of every transition, in order."""
        out = [("validating_files", self.created)]
        status, end = self.ended()
        if status == "failed" and end == self.validated:
            out.append(("failed", end))
        else:
            out += [("queued", self.validated), ("running", self.started)]
            for paused, resumed in self.pauses:
                out.append(("paused", paused))
                if resumed is not None:
                    out += [("queued", resumed), ("running", resumed + self.timing.queued)]
            out.append((status, end))
        if self.cancel_at is not None:
            out = [t for t in out if t[1] <= self.cancel_at and t[0] not in FINAL] + [("cancelled", self.cancel_at)]
        return out

    def status(self, now: float) -> str:
        current = "validating_files"
        for name, at in self.transitions():
            if at > now:
                break
            current = name
        return current

    def final(self) -> tuple[str, float]:
        """The final status and when it comes (infinite while paused for good)."""
        return self.transitions()[-1]

    def steps_done(self, now: float) -> int:
        """Steps done by ``now`` (none while validating or queued; none after a cancel)."""
        if not self.steps or self.fails == "validating_files":
            return 0
        at = now if self.cancel_at is None else min(now, self.cancel_at)
        last = self.last_step
        if at >= self.step_time(last):
            return last
        low, high = 0, last  # the largest step done by `at`, found by bisection
        while low < high:
            middle = (low + high + 1) // 2
            if self.step_time(middle) <= at:
                low = middle
            else:
                high = middle - 1
        return low

    def paused(self, now: float) -> Timeline:
        return replace(self, pauses=(*self.pauses, (now, None)))

    def resumed(self, now: float) -> Timeline:
        paused_at, _ = self.pauses[-1]
        return replace(self, pauses=(*self.pauses[:-1], (paused_at, max(now, paused_at))))

    def cancelled(self, now: float) -> Timeline:
        return replace(self, cancel_at=now)
