"""The exceptions mockfiles raises to the code that uses it, as one family:

    MockFilesException
    ├── ScenarioError          a scenario that cannot be used (also a ValueError)
    ├── StartupError           a server that could not start (also a RuntimeError)
    ├── DataDirError           a data directory that cannot be read as this version's (a RuntimeError)
    └── RetryConformanceError  calls whose retries misbehaved (also an AssertionError, so pytest
                               shows it as a failed assertion)

``except mockfiles.MockFilesException`` catches any of them. Errors a client meets on the wire
are not exceptions here: they are answers (``core/errors.py`` and the error table).
"""

from __future__ import annotations


class MockFilesException(Exception):
    """Base of every exception mockfiles raises to its users."""


class ScenarioError(MockFilesException, ValueError):
    """A scenario that cannot be used; ``str()`` is the whole ``file:line: message`` of its first
    error (by line), and ``problems`` lists every error found in the document, by line."""

    def __init__(self, source: str, line: int | None, message: str, problems: tuple[ScenarioError, ...] = ()) -> None:
        self.source = source
        self.line = line
        self.message = message
        self.problems: tuple[ScenarioError, ...] = problems or (self,)
        super().__init__(f"{source}:{line}: {message}" if line else f"{source}: {message}")


class StartupError(MockFilesException, RuntimeError):
    """The server could not start (the port is taken, the address is wrong…)."""


class RetryConformanceError(MockFilesException, AssertionError):
    """Calls with retry problems (the message lists each call, its timeline and its problems)."""


class DataDirError(MockFilesException, RuntimeError):
    """A data directory that cannot be used: written by another format, not mockfiles' own,
    unreadable. Its contents are left as they are."""
