"""A job's events (``fine_tuning.job.event``), computed from its timeline, never stored.

The sequence and the words are the ones real jobs were seen logging::

    Created fine-tuning job: ftjob-…
    Validating training file: file-A[ and validation file: file-B]
    Files validated, moving job to queued state
    Fine-tuning job started
    Step 1/N: training loss=…[, validation loss=…][, full validation loss=…]   (one per step, type metrics)
    Checkpoint created at step k with Snapshot ID: ft:…:ckpt-step-k           (each epoch but the last)
    New fine-tuned model created: ft:…
    The job has successfully completed

A job whose files fail validation logs the error (level ``error``) after the second; one failed
by a rule while running logs it where it stops. Pauses, resumes and a cancel are logged when they
happen (``Fine-tuning job paused``, ``…resumed``, ``…cancelled``: choices, docs/fine_tuning.md).

A job of 100,000 steps has 100,000 metrics events: each one is made when it is asked for, by its
position. An event's id encodes that position (``ftevent-`` and 24 characters), so ``after``
finds its place without a search and an id from another job is refused.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from mockfiles.core.errors import InvalidRequest
from mockfiles.fine_tuning.job import StoredJob, token
from mockfiles.fine_tuning.metrics import step_message, step_metrics
from mockfiles.fine_tuning.models import BASE62

CODE_CHARS = 8
SPACE = 62**CODE_CHARS
SPREAD = 3_141_592_653  # odd and not a multiple of 31: a bijection of the codes onto the space
UNSPREAD = pow(SPREAD, -1, SPACE)


@dataclass(frozen=True, slots=True)
class Event:
    at: float
    message: str
    level: str = "info"
    kind: str = "message"
    data: dict[str, Any] | None = None


class EventLog:
    """A job's events that have happened by ``now``, in the order they happened.

    Base events (everything the timeline implies) are numbered 0, 1, 2…; the pauses, resumes and
    the cancel ("extras") are placed among them by time: extra k comes before base event ``pos``."""

    def __init__(self, job: StoredJob, now: float) -> None:
        self.job = job
        timeline = job.timeline
        self.cut = now if timeline.cancel_at is None else min(now, timeline.cancel_at)
        self.head = self._head()
        ran = timeline.steps_done(self.cut) if self._runs else 0
        self.steps = ran
        ended = self._runs and ran == timeline.last_step
        self.tail = [e for e in self._tail() if e.at <= self.cut] if ended else []
        self.extras = self._extras(now)
        self.base = len(self.head) + self.steps + len(self.tail)

    @property
    def _runs(self) -> bool:
        return len(self.head) == 4

    def _head(self) -> list[Event]:
        job, timeline = self.job, self.job.timeline
        files = f"Validating training file: {job.training_file}"
        if job.validation_file is not None:
            files += f" and validation file: {job.validation_file}"
        events = [Event(timeline.created, f"Created fine-tuning job: {job.id}", data={})]
        events.append(Event(timeline.created, files, data={}))
        if timeline.fails == "validating_files" or not timeline.steps:
            assert job.error is not None
            events.append(Event(timeline.validated, job.error[1], "error", data={}))
        else:
            events.append(Event(timeline.validated, "Files validated, moving job to queued state", data={}))
            events.append(Event(timeline.started, "Fine-tuning job started"))
        return [e for e in events if e.at <= self.cut]

    def _tail(self) -> list[Event]:
        job, timeline = self.job, self.job.timeline
        status, end = timeline.ended()
        if status == "failed":
            assert job.error is not None
            return [Event(end, job.error[1], "error", data={})]
        events = [
            Event(end, f"Checkpoint created at step {step} with Snapshot ID: {job.checkpoint_model(step)}", data={})
            for step in job.checkpoint_steps(end)
            if step != timeline.steps
        ]
        events.append(Event(end, f"New fine-tuned model created: {job.fine_tuned_model}", data={}))
        events.append(Event(end, "The job has successfully completed", data={}))
        return events

    def _extras(self, now: float) -> list[tuple[int, Event]]:
        """(base position, event) of each pause, resume and cancel that has happened, in order."""
        timeline = self.job.timeline
        out: list[tuple[int, Event]] = []
        before = len(self.head)
        for paused, resumed in timeline.pauses:
            for at, word in ((paused, "paused"), (resumed, "resumed")):
                if at is not None and at <= self.cut:
                    out.append((before + timeline.steps_done(at), Event(at, f"Fine-tuning job {word}", data={})))
        if timeline.cancel_at is not None and timeline.cancel_at <= now:
            out.append((self.base_count(), Event(timeline.cancel_at, "Fine-tuning job cancelled", data={})))
        return out

    def base_count(self) -> int:
        return len(self.head) + self.steps + len(self.tail)

    def __len__(self) -> int:
        return self.base + len(self.extras)

    # --- positions and ids ----------------------------------------------------------------

    def code_at(self, index: int) -> int:
        """The stable code of the event at ``index``: 2b for base event b, 2k+1 for extra k."""
        skipped = 0
        for k, (pos, _) in enumerate(self.extras):
            if index == pos + k:
                return 2 * k + 1
            if pos + k < index:
                skipped += 1
        return 2 * (index - skipped)

    def index_of(self, code: int) -> int | None:
        """The position of the event with this code (None when there is none yet)."""
        if code % 2:
            k = code // 2
            return self.extras[k][0] + k if k < len(self.extras) else None
        b = code // 2
        if b >= self.base:
            return None
        return b + sum(1 for pos, _ in self.extras if pos <= b)

    def event(self, index: int) -> Event:
        code = self.code_at(index)
        if code % 2:
            return self.extras[code // 2][1]
        b = code // 2
        if b < len(self.head):
            return self.head[b]
        b -= len(self.head)
        if b < self.steps:
            job = self.job
            data = step_metrics(
                job.seed, b + 1, job.timeline.steps, job.steps_per_epoch, job.validation_file is not None
            )
            return Event(job.timeline.step_time(b + 1), step_message(data), kind="metrics", data=data)
        return self.tail[b - self.steps]

    def as_object(self, index: int) -> dict[str, Any]:
        event = self.event(index)
        return {
            "id": event_id(self.job.id, self.code_at(index)),
            "object": "fine_tuning.job.event",
            "created_at": int(event.at),
            "level": event.level,
            "message": event.message,
            "data": event.data,
            "type": event.kind,
        }

    def newest_first(self, after: str | None) -> Iterator[int]:
        """Positions, newest first, from just before the event ``after`` names."""
        start = len(self)
        if after is not None:
            code = decode_event_id(self.job.id, after)
            found = None if code is None else self.index_of(code)
            if found is None:
                raise InvalidRequest("unknown_event_cursor", param="after", after=after)
            start = found
        return iter(range(start - 1, -1, -1))


def _offset(job_id: str) -> int:
    offset: int = int.from_bytes(token(f"offset:{job_id}", 8).encode(), "big") % SPACE
    return offset


def _encode(value: int) -> str:
    chars = []
    for _ in range(CODE_CHARS):
        value, digit = divmod(value, 62)
        chars.append(BASE62[digit])
    return "".join(reversed(chars))


def event_id(job_id: str, code: int) -> str:
    return "ftevent-" + token(f"event:{job_id}:{code}", 16) + _encode((code * SPREAD + _offset(job_id)) % SPACE)


def decode_event_id(job_id: str, event: str) -> int | None:
    """The code an event id of this job encodes (None for any other string)."""
    body = event.removeprefix("ftevent-")
    if len(body) != 16 + CODE_CHARS or body == event or not all(c in BASE62 for c in body):
        return None
    value = 0
    for char in body[16:]:
        value = value * 62 + BASE62.index(char)
    code: int = (value - _offset(job_id)) * UNSPREAD % SPACE
    return code if event_id(job_id, code) == event else None
