"""Retry tests: per-test queues of instructions, one queue per endpoint, keyed by an id that the
client sends as ``x-retry-test-id`` on every attempt (as with Google's storage-testbench).

A request carrying the id takes the next instruction of its endpoint's queue; an empty queue (or
an endpoint the test did not script) means the request is handled normally. A test is
``completed`` once every queue is empty.

The registry is bounded: it keeps at most ``cap`` tests (1,000 by default — a suite that creates
one per test and never deletes keeps its last thousand, while the tests in flight at once are
never more than a handful per worker). Creating one more drops the oldest completed test, or the
oldest test when none is completed.
"""

from __future__ import annotations

import difflib
import random
import threading
from collections import OrderedDict, deque
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypedDict

from mockfiles.core.errors import InvalidRequest, NotFound
from mockfiles.retries.instructions import (
    DOWNLOAD_ENDPOINTS,
    UPLOAD_ENDPOINTS,
    Instruction,
    InstructionError,
    parse_instruction,
)
from mockfiles.scenarios.located import type_name

if TYPE_CHECKING:
    from mockfiles.retries.verdicts import CallDict

DEFAULT_CAP = 1_000
MAX_INSTRUCTIONS = 1_000  # per test: more is a mistake, and would make the test's view large
DOCUMENT_KEYS = ("instructions",)


class RetryTestError(InvalidRequest, ValueError):
    """A retry-test document that cannot be used. ``param`` says where (``instructions.files.create[1]``);
    the words are in the error table (``error_table.py``)."""

    def __init__(self, reason: str, param: str | None = None, **fields: object) -> None:
        super().__init__(reason, param=param)
        self.fields.update(fields)


class UnknownRetryTest(NotFound, KeyError):
    """No retry test has this id (never created, deleted, or dropped to keep the registry bounded)."""

    def __init__(self, test_id: str) -> None:
        super().__init__("no_such_retry_test", test_id=test_id)
        self.test_id = test_id


class RetryTestView(TypedDict):
    id: str
    instructions: dict[str, list[str]]
    remaining: dict[str, list[str]]
    completed: bool
    calls: list[CallDict]  # filled by whoever holds the journal; the registry knows only instructions


@dataclass(frozen=True, slots=True)
class Taken:
    """One instruction taken from a queue: which, its place in the queue (0 first), and how
    many are left in that endpoint's queue after it (the verdict's ``gave_up_retryable`` reads this)."""

    instruction: Instruction
    index: int
    remaining: int


class RetryTestQueues:
    __slots__ = ("id", "scripted", "queues")

    def __init__(self, test_id: str, scripted: dict[str, tuple[Instruction, ...]]) -> None:
        self.id = test_id
        self.scripted = scripted
        self.queues = {endpoint: deque(items) for endpoint, items in scripted.items()}

    @property
    def completed(self) -> bool:
        return not any(self.queues.values())

    def view(self) -> RetryTestView:
        return {
            "id": self.id,
            "instructions": {e: [i.text for i in items] for e, items in self.scripted.items()},
            "remaining": {e: [i.text for i in queue] for e, queue in self.queues.items()},
            "completed": self.completed,
            "calls": [],
        }


class RetryTests:
    """The retry tests of one emulator; every method is safe from any thread."""

    def __init__(
        self,
        endpoints: Iterable[str],
        *,
        uploads: Collection[str] = UPLOAD_ENDPOINTS,
        downloads: Collection[str] = DOWNLOAD_ENDPOINTS,
        cap: int = DEFAULT_CAP,
        new_id: Callable[[], str] | None = None,
    ) -> None:
        if cap < 1:
            raise ValueError("a retry-test registry keeps at least one test")
        self.endpoints = tuple(endpoints)
        self.uploads = uploads
        self.downloads = downloads
        self.cap = cap
        self._new_id = new_id or _random_ids()
        self._tests: OrderedDict[str, RetryTestQueues] = OrderedDict()
        self._lock = threading.Lock()

    def create(self, document: object) -> RetryTestView:
        """A new test from ``{"instructions": {endpoint: [instruction, ...]}}``; RetryTestError
        names the first thing wrong (nothing is created then)."""
        scripted = self.parse(document)
        with self._lock:
            test_id = self._new_id()
            while test_id in self._tests:
                test_id = self._new_id()
            if len(self._tests) >= self.cap:
                self._evict()
            test = self._tests[test_id] = RetryTestQueues(test_id, scripted)
            return test.view()

    def parse(self, document: object) -> dict[str, tuple[Instruction, ...]]:
        if not isinstance(document, Mapping):
            raise RetryTestError("retry_test_not_object", got=type_name(document))
        for key in document:
            if key not in DOCUMENT_KEYS:
                raise RetryTestError("retry_test_unknown_key", param=str(key), key=key)
        if "instructions" not in document:
            raise RetryTestError("retry_test_no_instructions", param="instructions")
        instructions = document["instructions"]
        if not isinstance(instructions, Mapping):
            raise RetryTestError("retry_test_instructions_type", param="instructions", got=type_name(instructions))
        scripted = {str(e): self._queue(e, items) for e, items in instructions.items()}
        total = sum(len(items) for items in scripted.values())
        if total > MAX_INSTRUCTIONS:
            raise RetryTestError("retry_test_too_many", param="instructions", limit=MAX_INSTRUCTIONS, total=total)
        return scripted

    def _queue(self, endpoint: object, items: object) -> tuple[Instruction, ...]:
        param = f"instructions.{endpoint}"
        if endpoint not in self.endpoints:
            hint = difflib.get_close_matches(str(endpoint), self.endpoints, n=1, cutoff=0.8)
            raise RetryTestError(
                "retry_test_unknown_endpoint",
                param=param,
                endpoint=endpoint,
                hint=hint[0] if hint else None,
                endpoints=", ".join(self.endpoints),
            )
        if not isinstance(items, list):
            raise RetryTestError("retry_test_queue_type", param=param, got=type_name(items))
        queue = []
        for i, text in enumerate(items):
            try:
                queue.append(parse_instruction(text, str(endpoint), uploads=self.uploads, downloads=self.downloads))
            except InstructionError as exc:
                raise RetryTestError("retry_test_bad_instruction", param=f"{param}[{i}]", detail=exc.message) from None
        return tuple(queue)

    def get(self, test_id: str) -> RetryTestView:
        with self._lock:
            return self._find(test_id).view()

    def delete(self, test_id: str) -> RetryTestView:
        """Forget a test; returns its last view."""
        with self._lock:
            view = self._find(test_id).view()
            del self._tests[test_id]
            return view

    def list(self) -> list[RetryTestView]:
        """Every test, oldest first."""
        with self._lock:
            return [test.view() for test in self._tests.values()]

    def take(self, test_id: str, endpoint: str | None) -> Taken | None:
        """The next instruction for a request to ``endpoint`` carrying ``test_id``, or None
        when that endpoint's queue is empty or was never scripted (handled normally)."""
        with self._lock:
            test = self._find(test_id)
            if endpoint is None or not test.queues.get(endpoint):
                return None
            queue = test.queues[endpoint]
            index = len(test.scripted[endpoint]) - len(queue)
            instruction = queue.popleft()
            return Taken(instruction, index, len(queue))

    def remaining(self, test_id: str, endpoint: str) -> int:
        """How many instructions are left for ``endpoint`` (0 for an endpoint not scripted)."""
        with self._lock:
            return len(self._find(test_id).queues.get(endpoint, ()))

    def clear(self) -> None:
        with self._lock:
            self._tests.clear()

    def __len__(self) -> int:
        with self._lock:
            return len(self._tests)

    def _find(self, test_id: str) -> RetryTestQueues:
        test = self._tests.get(test_id)
        if test is None:
            raise UnknownRetryTest(test_id)
        return test

    def _evict(self) -> None:
        for test_id, test in self._tests.items():
            if test.completed:
                del self._tests[test_id]
                return
        self._tests.popitem(last=False)


def _random_ids() -> Callable[[], str]:
    """32 lowercase hex digits, as storage-testbench's ids (a uuid4's hex)."""
    rng = random.Random()
    return lambda: rng.randbytes(16).hex()
