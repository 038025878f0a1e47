"""YAML/JSON documents whose every value knows the file and line it came from, so
a bad scenario is reported as ``flaky.yaml:5: unknown key 'statuz' in faults[1]``."""

from __future__ import annotations

import difflib
import json
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any, NoReturn

from mockfiles.core.units import parse_duration, parse_size
from mockfiles.exceptions import ScenarioError

Path = tuple[str | int, ...]

# Upper bounds, so that no number in a scenario can overflow what it feeds (a C integer,
# a timer, a JSON answer): each is far beyond any real use and well inside 64 bits.
MAX_COUNT = 1_000_000_000  # times, after, max_files, requests per window
MAX_SEED = 2**63 - 1
MAX_SIZE = 2**50  # 1 PiB: sizes of files and of an account's storage
MAX_DURATION = 365 * 86400.0  # 365d: delays, holds, processing delays, rate windows
SHOWN = 64  # characters of a value that a message repeats


def describe(path: Path) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text or "the scenario"


class Located:
    """A value inside a document, with its path and a way to complain about it.

    A document is checked whole: a reader fails at the first thing wrong with a value
    (``fail`` raises), and the places that read a document's parts one by one catch that
    failure with ``noting()``, which notes it in the document's ``problems`` and lets the
    reading go on with the next part. ``raise_problems()`` at the end raises them all at once
    (the first by line as the error, every one in ``ScenarioError.problems``)."""

    def __init__(
        self,
        value: Any,
        path: Path,
        source: str,
        lines: Mapping[Path, int],
        problems: list[ScenarioError] | None = None,
    ) -> None:
        self.value = value
        self.path = path
        self.source = source
        self.lines = lines
        self.problems: list[ScenarioError] = [] if problems is None else problems  # the document's, shared

    @property
    def line(self) -> int | None:
        path = self.path
        while path not in self.lines and path:
            path = path[:-1]
        return self.lines.get(path)

    @property
    def name(self) -> str:
        return describe(self.path)

    @property
    def index(self) -> int:
        """Its place in the list that holds it (0 when it is no list's item)."""
        last = self.path[-1] if self.path else 0
        return last if isinstance(last, int) else 0

    @property
    def identity(self) -> str:
        """Its value as written, in one canonical text: what seeds a rule's probability, wherever
        the rule stands."""
        return json.dumps(self.value, sort_keys=True, default=str)

    def fail(self, message: str) -> NoReturn:
        raise ScenarioError(self.source, self.line, message)

    @contextmanager
    def noting(self) -> Iterator[None]:
        """Within, a failure is noted among the document's problems instead of ending the check."""
        try:
            yield
        except ScenarioError as exc:
            self.problems.append(exc)

    def raise_problems(self) -> None:
        """Raise the document's problems, if it has any: each once, ordered by line."""
        unique = {str(p): p for p in self.problems}
        if unique:
            ordered = tuple(sorted(unique.values(), key=lambda p: p.line or 0))
            first = ordered[0]
            raise ScenarioError(first.source, first.line, first.message, ordered)

    def child(self, key: str | int) -> Located:
        return Located(self.value[key], (*self.path, key), self.source, self.lines, self.problems)

    def mapping(self, allowed: tuple[str, ...]) -> dict[str, Located]:
        """The entries of a mapping whose keys are in ``allowed``; every other key is a problem
        noted (with the allowed key it most likely meant), and left out."""
        if not isinstance(self.value, dict):
            self.fail(f"{self.name} must be a mapping, got {type_name(self.value)}")
        known = {}
        for key in self.value:
            if not isinstance(key, str):
                with self.noting():
                    self.fail(f"key {key!r} in {self.name} must be a string")
            elif key not in allowed:
                where = f" in {self.name}" if self.path else ""
                hint = difflib.get_close_matches(key, allowed, n=1)
                suggestion = f"; did you mean '{hint[0]}'?" if hint else f"; expected one of {', '.join(allowed)}"
                line = Located(None, (*self.path, key), self.source, self.lines).line
                self.problems.append(ScenarioError(self.source, line, f"unknown key '{key}'{where}{suggestion}"))
            else:
                known[key] = self.child(key)
        return known

    def items(self) -> Iterator[Located]:
        if not isinstance(self.value, list):
            self.fail(f"{self.name} must be a list, got {type_name(self.value)}")
        return (self.child(i) for i in range(len(self.value)))


def read_each(entries: Mapping[str, Located], readers: Mapping[str, Callable[[Located], Any]]) -> dict[str, Any]:
    """Each entry read by its key's reader, a failure noted and the others read on; the keys of
    ``entries`` that failed are missing from what is returned."""
    values: dict[str, Any] = {}
    for key, node in entries.items():
        read = readers.get(key)
        if read is not None:
            with node.noting():
                values[key] = read(node)
    return values


def type_name(value: Any) -> str:
    if value is None:
        return "nothing (null)"
    return {
        bool: "a boolean",
        int: "an integer",
        float: "a number",
        str: "a string",
        list: "a list",
        dict: "a mapping",
    }.get(type(value), type(value).__name__)


# --- scalar readers ------------------------------------------------------------------


def integer(node: Located, minimum: int | None = None, maximum: int = MAX_COUNT) -> int:
    if isinstance(node.value, bool) or not isinstance(node.value, int):
        node.fail(f"{node.name} must be an integer, got {_show(node.value)}")
    if minimum is not None and node.value < minimum:
        node.fail(f"{node.name} must be at least {minimum}, got {_show(node.value)}")
    if node.value > maximum:
        node.fail(f"{node.name} must be at most {maximum}, got {_show(node.value)}")
    return node.value


def number(node: Located, minimum: float, maximum: float) -> float:
    if isinstance(node.value, bool) or not isinstance(node.value, (int, float)):
        node.fail(f"{node.name} must be a number, got {_show(node.value)}")
    if not minimum <= node.value <= maximum:
        node.fail(f"{node.name} must be between {minimum} and {maximum}, got {_show(node.value)}")
    return float(node.value)


def string(node: Located) -> str:
    if not isinstance(node.value, str) or not node.value:
        node.fail(f"{node.name} must be a non-empty string, got {_show(node.value)}")
    return node.value


def boolean(node: Located) -> bool:
    if not isinstance(node.value, bool):
        node.fail(f"{node.name} must be true or false")
    return node.value


def one_of(node: Located, choices: tuple[str, ...]) -> str:
    if node.value not in choices:
        node.fail(f"{node.name} must be one of {', '.join(choices)}, got {node.value!r}")
    return str(node.value)


def size(node: Located, maximum: int = MAX_SIZE) -> int:
    try:
        value = parse_size(node.value)
    except ValueError as exc:
        node.fail(f"{node.name}: {exc}")
    if value > maximum:
        node.fail(f"{node.name} must be at most {_size_text(maximum)} ({maximum} bytes), got {node.value}")
    return value


def duration(node: Located, positive: bool = False, maximum: float = MAX_DURATION) -> float:
    try:
        seconds = parse_duration(node.value)
    except ValueError as exc:
        node.fail(f"{node.name}: {exc}")
    if positive and seconds <= 0:
        node.fail(f"{node.name} must be longer than 0")
    if seconds > maximum:
        node.fail(f"{node.name} must be at most {_duration_text(maximum)} ({maximum:.0f} seconds), got {node.value}")
    return seconds


def _size_text(size: int) -> str:
    """``1PiB``, ``512MiB``, or bytes: how a bound reads in a message."""
    for unit, factor in (("PiB", 2**50), ("TiB", 2**40), ("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if size >= factor and size % factor == 0:
            return f"{size // factor}{unit}"
    return f"{size} bytes"


def _duration_text(seconds: float) -> str:
    """``365d``, ``2h``, or seconds: how a bound reads in a message."""
    for unit, factor in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= factor and seconds % factor == 0:
            return f"{seconds / factor:g}{unit}"
    return f"{seconds:g}s"


def _show(value: Any) -> str:
    """A value as a message repeats it: its first 64 characters, then ``…``."""
    if value is None:
        return "nothing (null)"
    if isinstance(value, int) and not isinstance(value, bool):
        text = str(value)  # the reader refuses integers too long to write (4,300 digits)
        return text if len(text) <= SHOWN else text[:SHOWN] + "…"
    if isinstance(value, str) and len(value) > SHOWN:
        return repr(value[:SHOWN] + "…")
    return repr(value) if isinstance(value, (str, float, bool)) else type(value).__name__
