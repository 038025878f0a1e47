"""A retry test as Python code holds it (``MockFilesServer.retry_test``): the headers to send, and
live views of its queues and of the calls its requests made, judged."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from mockfiles.exceptions import RetryConformanceError
from mockfiles.retries.decider import HEADER
from mockfiles.retries.queues import RetryTestView
from mockfiles.retries.report import problems_message
from mockfiles.retries.verdicts import CallDict

if TYPE_CHECKING:
    from mockfiles.emulator import Emulator


class RetryTest:
    """One retry test of a server. Pass ``headers`` to the client (the openai SDK's
    ``default_headers``): every request then takes the next instruction of its endpoint's queue."""

    def __init__(self, emulator: Emulator, view: RetryTestView) -> None:
        self._emulator = emulator
        self.id: str = view["id"]
        self.instructions: dict[str, list[str]] = view["instructions"]

    @property
    def headers(self) -> dict[str, str]:
        return {HEADER: self.id}

    def view(self) -> RetryTestView:
        """What ``GET /_mockfiles/retry-tests/{id}`` answers: instructions, what remains, calls."""
        return self._emulator.retry_test_view(self._emulator.retry_tests.get(self.id))

    @property
    def remaining(self) -> dict[str, list[str]]:
        return self._emulator.retry_tests.get(self.id)["remaining"]

    @property
    def completed(self) -> bool:
        """Every queue is empty: each instruction was taken by a request."""
        return self._emulator.retry_tests.get(self.id)["completed"]

    @property
    def calls(self) -> list[CallDict]:
        """The logical calls of this test's requests, each with its verdict."""
        return self._emulator.calls(self.id)

    def assert_conforms(self) -> None:
        """Raise RetryConformanceError when any call of this test has a retry problem."""
        message = problems_message(self.calls)
        if message is not None:
            raise RetryConformanceError(f"retry test {self.id}: {message}")

    def __repr__(self) -> str:
        return f"<RetryTest {self.id} instructions={self.instructions}>"


def retry_document(instructions: Mapping[str, object]) -> dict[str, object]:
    """``{"files.create": [...]}`` or the whole ``{"instructions": {...}}`` document."""
    if set(instructions) == {"instructions"}:
        return dict(instructions)
    return {"instructions": dict(instructions)}
