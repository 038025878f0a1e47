"""YAML/JSON documents whose every value knows the file and line it came from, so
a bad scenario is reported as ``flaky.yaml:5: unknown key 'statuz' in faults[1]``."""

from __future__ import annotations

import difflib
from collections.abc import Iterator, Mapping
from typing import Any, NoReturn

import yaml

from .units import parse_duration, parse_size

Path = tuple[str | int, ...]


class ScenarioError(ValueError):
    """A scenario that cannot be used; ``str()`` is the whole ``file:line: message``."""

    def __init__(self, source: str, line: int | None, message: str) -> None:
        self.source = source
        self.line = line
        self.message = message
        super().__init__(f"{source}:{line}: {message}" if line else f"{source}: {message}")


def describe(path: Path) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text or "the scenario"


class Located:
    """A value inside a document, with its path and a way to complain about it."""

    def __init__(self, value: Any, path: Path, source: str, lines: Mapping[Path, int]) -> None:
        self.value = value
        self.path = path
        self.source = source
        self.lines = lines

    @property
    def line(self) -> int | None:
        path = self.path
        while path not in self.lines and path:
            path = path[:-1]
        return self.lines.get(path)

    @property
    def name(self) -> str:
        return describe(self.path)

    def fail(self, message: str) -> NoReturn:
        raise ScenarioError(self.source, self.line, message)

    def child(self, key: str | int) -> Located:
        return Located(self.value[key], (*self.path, key), self.source, self.lines)

    def mapping(self, allowed: tuple[str, ...]) -> dict[str, Located]:
        """The entries of a mapping whose keys must all be in ``allowed``."""
        if not isinstance(self.value, dict):
            self.fail(f"{self.name} must be a mapping, got {type_name(self.value)}")
        for key in self.value:
            if not isinstance(key, str):
                self.fail(f"key {key!r} in {self.name} must be a string")
            if key not in allowed:
                where = f" in {self.name}" if self.path else ""
                hint = difflib.get_close_matches(key, allowed, n=1)
                suggestion = f"; did you mean '{hint[0]}'?" if hint else f"; expected one of {', '.join(allowed)}"
                Located(None, (*self.path, key), self.source, self.lines).fail(
                    f"unknown key '{key}'{where}{suggestion}"
                )
        return {key: self.child(key) for key in self.value}

    def items(self) -> Iterator[Located]:
        if not isinstance(self.value, list):
            self.fail(f"{self.name} must be a list, got {type_name(self.value)}")
        return (self.child(i) for i in range(len(self.value)))


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


def parse_document(text: str, source: str) -> Located:
    """Parse YAML (JSON is YAML too), remembering the line of every key and item."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        value = yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        raise ScenarioError(source, line, f"not valid YAML: {exc.problem or exc.context}") from None
    except yaml.YAMLError as exc:
        raise ScenarioError(source, None, f"not valid YAML: {exc}") from None
    lines: dict[Path, int] = {}
    if node is not None:
        _record_lines(node, (), lines, source)
    return Located({} if value is None else value, (), source, lines)


def from_mapping(value: Mapping[str, Any], source: str = "<scenario>") -> Located:
    return Located(dict(value), (), source, {})


def _record_lines(node: yaml.Node, path: Path, lines: dict[Path, int], source: str) -> None:
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        seen: set[Any] = set()
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else str(key_node.start_mark)
            if key in seen:
                raise ScenarioError(source, key_node.start_mark.line + 1, f"duplicate key '{key}' in {describe(path)}")
            seen.add(key)
            lines[(*path, key)] = key_node.start_mark.line + 1
            _record_lines(value_node, (*path, key), lines, source)
            lines[(*path, key)] = key_node.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _record_lines(item, (*path, i), lines, source)


# --- scalar readers ------------------------------------------------------------------


def integer(node: Located, minimum: int | None = None, maximum: int | None = None) -> int:
    if isinstance(node.value, bool) or not isinstance(node.value, int):
        node.fail(f"{node.name} must be an integer, got {_show(node.value)}")
    if minimum is not None and node.value < minimum:
        node.fail(f"{node.name} must be at least {minimum}, got {node.value}")
    if maximum is not None and node.value > maximum:
        node.fail(f"{node.name} must be at most {maximum}, got {node.value}")
    return node.value


def number(node: Located, minimum: float, maximum: float) -> float:
    if isinstance(node.value, bool) or not isinstance(node.value, (int, float)):
        node.fail(f"{node.name} must be a number, got {_show(node.value)}")
    if not minimum <= node.value <= maximum:
        node.fail(f"{node.name} must be between {minimum} and {maximum}, got {node.value}")
    return float(node.value)


def string(node: Located) -> str:
    if not isinstance(node.value, str) or not node.value:
        node.fail(f"{node.name} must be a non-empty string, got {_show(node.value)}")
    return node.value


def size(node: Located) -> int:
    try:
        return parse_size(node.value)
    except ValueError as exc:
        node.fail(f"{node.name}: {exc}")


def duration(node: Located, positive: bool = False) -> float:
    try:
        seconds = parse_duration(node.value)
    except ValueError as exc:
        node.fail(f"{node.name}: {exc}")
    if positive and seconds <= 0:
        node.fail(f"{node.name} must be longer than 0")
    return seconds


def _show(value: Any) -> str:
    return repr(value) if isinstance(value, (str, int, float, bool)) else type(value).__name__
