"""Shared fixtures (what tests share is in tests/support/). The ``mockfiles`` fixture itself comes
from the installed plugin, exactly as a downstream suite gets it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import httpx
import openai
import pytest

from mockfiles import MockFilesServer
from tests.support.skips import skip_line


@pytest.fixture
def client(mockfiles: MockFilesServer) -> Iterator[openai.OpenAI]:
    with mockfiles.client(max_retries=0) as c:
        yield c


@pytest.fixture
async def aclient(mockfiles: MockFilesServer) -> AsyncIterator[openai.AsyncOpenAI]:
    async with mockfiles.async_client(max_retries=0) as c:
        yield c


@pytest.fixture
def http(mockfiles: MockFilesServer) -> Iterator[httpx.Client]:
    """Raw HTTP with the server's key, for asserting exact wire shapes."""
    with httpx.Client(base_url=mockfiles.url, headers={"Authorization": f"Bearer {mockfiles.api_key}"}) as c:
        yield c


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """One line at the end of the run: what was skipped, why, and the command that brings it."""
    line = skip_line(terminalreporter.stats.get("skipped", []))
    if line is not None:
        terminalreporter.write_sep("=", "what this run did not test", yellow=True)
        terminalreporter.write_line(line, yellow=True, bold=True)
