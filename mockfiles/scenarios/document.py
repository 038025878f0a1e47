"""Scenario documents read into plain values, with the line of every key and item.

A scenario comes from a file, a request body (``PUT /_mockfiles/scenario``) or a dict,
so it can be anything: huge, nested thousands of levels deep, or built from aliases that
expand a few lines into billions of values. Reading one therefore

- walks YAML's event stream (libyaml's C parser when PyYAML has it) in one pass with an
  explicit stack: no recursion anywhere, and time linear in the text (50,000 fault rules,
  1.4 MB, are read in about a second, where composing nodes and then loading the text
  again took 21 s);
- refuses more than ``MAX_DEPTH`` levels of lists and mappings, and more than
  ``MAX_VALUES`` values once aliases are expanded, with the line where that happens;
- refuses an alias to a collection that contains it (a document that contains itself);
- refuses a value YAML cannot build (``seed: 2024-13-45``, a date with no month 13; ``!!int abc``;
  an integer too long to write in decimal, 4,300 digits or a hex or binary literal as large)
  with its line and key, never letting PyYAML's own error out.

Dicts given in Python go through ``plain_copy``, which applies the same limits.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import yaml
from yaml.constructor import SafeConstructor
from yaml.resolver import Resolver

from mockfiles.exceptions import ScenarioError
from mockfiles.scenarios.located import SHOWN, Located, Path, describe

MAX_DEPTH = 64  # levels of lists and mappings; a real scenario uses five
MAX_VALUES = 1_000_000  # values, aliases expanded; 50,000 fault rules are about 250,000
INT64_MAX = 2**63 - 1
MAX_DIGITS = 4300  # Python's limit for turning text into an integer (sys.get_int_max_str_digits)
_TOO_LONG = 10**MAX_DIGITS

_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_STR = "tag:yaml.org,2002:str"
_MAP = Resolver.DEFAULT_MAPPING_TAG
_SEQ = Resolver.DEFAULT_SEQUENCE_TAG
_MERGE = "tag:yaml.org,2002:merge"
_INT = "tag:yaml.org,2002:int"
_TIMESTAMP = "tag:yaml.org,2002:timestamp"
# what each of YAML's scalar types is, as a message names it
_NOUNS = {
    _INT: "an integer",
    "tag:yaml.org,2002:float": "a number",
    "tag:yaml.org,2002:bool": "a boolean (true or false)",
    "tag:yaml.org,2002:null": "null",
    _TIMESTAMP: "a date",
    "tag:yaml.org,2002:binary": "base64 data",
}
_TOO_DEEP = f"nested too deeply: at most {MAX_DEPTH} levels of lists and mappings are allowed"


def parse_document(text: str, source: str) -> Located:
    """Parse YAML (JSON is YAML too), remembering the line of every key and item."""
    reader = _Reader(source)
    try:
        value = reader.read(yaml.parse(text, Loader=_Loader))
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        if exc.problem and "maximum nesting depth" in exc.problem:  # libyaml's own limit (1,000) met first
            raise ScenarioError(source, line, _TOO_DEEP) from None
        raise ScenarioError(source, line, f"not valid YAML: {exc.problem or exc.context}") from None
    except yaml.YAMLError as exc:
        raise ScenarioError(source, None, f"not valid YAML: {exc}") from None
    return Located({} if value is None else value, (), source, reader.lines)


def from_mapping(value: Mapping[str, Any], source: str = "<scenario>") -> Located:
    """A dict scenario, copied as JSON would see it (string keys, lists), within the same limits."""
    return Located(plain_copy(value, source), (), source, {})


@dataclass(slots=True)
class _Frame:
    """A list or mapping being read: where it is, what it holds so far, what it weighs."""

    container: Any  # list or dict
    path: Path
    line: int
    anchor: str | None
    size: int = 1  # values inside, itself included, aliases expanded
    key: Any = None  # a mapping's key waiting for its value
    key_line: int = 0
    has_key: bool = False
    merges: list[tuple[dict[Any, Any], int]] = field(default_factory=list)  # `<<: *base`, with its line


class _Reader:
    def __init__(self, source: str) -> None:
        self.source = source
        self.lines: dict[Path, int] = {}
        self.anchors: dict[str, tuple[Any, int, int]] = {}  # anchor -> (value, size, line)
        self.open_anchors: set[str] = set()
        self.resolver: Any = Resolver()  # PyYAML's own parts, untyped
        self.constructor: Any = SafeConstructor()
        self.stack: list[_Frame] = []
        self.documents = 0

    def fail(self, line: int | None, message: str) -> ScenarioError:
        return ScenarioError(self.source, line, message)

    def read(self, events: Iterator[yaml.Event]) -> Any:
        result: Any = None
        for event in events:
            mark: Any = event.start_mark
            line: int = mark.line + 1
            if isinstance(event, yaml.ScalarEvent):
                done = self.scalar(event, line)
            elif isinstance(event, yaml.AliasEvent):
                done = self.alias(event, line)
            elif isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
                self.open(event, line)
                continue
            elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
                done = self.close()
            elif isinstance(event, yaml.DocumentStartEvent):
                self.documents += 1
                if self.documents > 1:
                    raise self.fail(line, "not valid YAML: expected a single document, but found another one")
                continue
            else:
                continue
            if self.stack:
                self.add(*done)
            else:
                result = done[0]
        return result

    # --- one event each -------------------------------------------------------------

    def scalar(self, event: yaml.ScalarEvent, line: int) -> tuple[Any, int, int]:
        tag = event.tag
        if tag is None or tag == "!":
            tag = self.resolver.resolve(yaml.ScalarNode, event.value, event.implicit)
        if tag == _STR:
            value: Any = event.value
        elif tag == _MERGE:  # `<<`: an instruction where a mapping's key goes, else the text
            value = _MergeKey() if self.stack and self.awaits_key(self.stack[-1]) else event.value
        else:
            value = self.build(event, tag, line)
        if event.anchor is not None:
            self.define(event.anchor, value, 1, line)
        return value, 1, line

    def build(self, event: yaml.ScalarEvent, tag: str, line: int) -> Any:
        """A scalar of a type other than text, built by PyYAML; a text that is not one (a 13th
        month, ``!!int abc``) or an integer beyond 4,300 digits is refused with its line and key."""
        text = event.value
        if tag == _INT and sum(c.isdigit() for c in text) > MAX_DIGITS:  # int() would refuse it anyway
            raise self.fail(line, self.too_long(text))
        marks: tuple[Any, Any] = (event.start_mark, event.end_mark)
        node = yaml.ScalarNode(tag, text, *marks, style=event.style)
        construct = self.constructor.yaml_constructors.get(tag, self.constructor.yaml_constructors[None])
        try:
            value = construct(self.constructor, node)
        except (ValueError, KeyError, AttributeError, TypeError, OverflowError, yaml.YAMLError) as exc:
            raise self.fail(line, self.not_built(event, tag, exc)) from None
        if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= _TOO_LONG:
            raise self.fail(line, self.too_long(text))  # a hex or binary literal as large
        return value

    def too_long(self, text: str) -> str:
        return (
            f"{self.where()}: the integer {_shorten(text)} is too long; "
            f"a scenario's integers have at most {MAX_DIGITS:,} digits"
        )

    def not_built(self, event: yaml.ScalarEvent, tag: str, exc: Exception) -> str:
        noun = _NOUNS.get(tag, f"a value of the type {tag}")
        reason = ""
        if tag == _TIMESTAMP and isinstance(exc, ValueError):
            reason = f" ({exc})"  # month must be in 1..12
        elif isinstance(exc, yaml.MarkedYAMLError) and exc.problem:
            reason = f" ({exc.problem})"  # failed to decode base64 data: Incorrect padding
        shown = _shorten(event.value)
        if event.implicit[0]:  # plain text that YAML reads as a date, not written with a tag
            return f"{self.where()}: {shown} reads as {noun}, but is not one{reason}; quote it if it is meant as text"
        written = (event.tag or "").replace("tag:yaml.org,2002:", "!!")
        return f"{self.where()}: {written} {shown!r} is not {noun}{reason}"

    def where(self) -> str:
        """The name of the value being read: ``seed``, ``faults[0].status``, or a key of one."""
        if not self.stack:
            return "the scenario"
        frame = self.stack[-1]
        if isinstance(frame.container, list):
            return describe((*frame.path, len(frame.container)))
        if frame.has_key and not isinstance(frame.key, _MergeKey):
            return describe((*frame.path, frame.key))
        return f"a key in {describe(frame.path)}"

    def alias(self, event: yaml.AliasEvent, line: int) -> tuple[Any, int, int]:
        anchor = event.anchor
        if anchor in self.open_anchors:
            raise self.fail(line, f"the alias *{anchor} is inside the value it names: a document cannot contain itself")
        if anchor not in self.anchors:
            raise self.fail(line, f"not valid YAML: found undefined alias *{anchor}")
        value, size, _ = self.anchors[anchor]
        return value, size, line

    def open(self, event: yaml.CollectionStartEvent, line: int) -> None:
        mapping = isinstance(event, yaml.MappingStartEvent)
        tag = event.tag
        if tag is not None and tag != "!" and tag != (_MAP if mapping else _SEQ):
            raise self.fail(line, f"the tag {tag} is not supported in a scenario; use plain lists and mappings")
        if len(self.stack) >= MAX_DEPTH:
            raise self.fail(line, _TOO_DEEP)
        path = self.child_path(line)
        if event.anchor is not None:
            self.open_anchors.add(event.anchor)
        self.stack.append(_Frame({} if mapping else [], path, line, event.anchor))

    @staticmethod
    def awaits_key(frame: _Frame) -> bool:
        return isinstance(frame.container, dict) and not frame.has_key

    def close(self) -> tuple[Any, int, int]:
        frame = self.stack.pop()
        value = frame.container
        if frame.merges:
            value = self.merge(frame)
        if frame.anchor is not None:
            self.open_anchors.discard(frame.anchor)
            self.define(frame.anchor, value, frame.size, frame.line)
        return value, frame.size, frame.line

    # --- building ---------------------------------------------------------------------

    def child_path(self, line: int) -> Path:
        """The path of the value that starts now, and its line recorded."""
        if not self.stack:
            path: Path = ()
        else:
            frame = self.stack[-1]
            if isinstance(frame.container, list):
                path = (*frame.path, len(frame.container))
            elif frame.has_key:
                path = (*frame.path, frame.key if not isinstance(frame.key, _MergeKey) else "<<")
                self.lines[path] = frame.key_line
                return path
            else:
                raise self.fail(line, "a mapping key must be a plain value (a string), not a list or a mapping")
        self.lines[path] = line
        return path

    def add(self, value: Any, size: int, line: int) -> None:
        """A finished value into the list or mapping being read."""
        frame = self.stack[-1]
        frame.size += size
        if frame.size > MAX_VALUES:
            raise self.fail(line, f"too large: more than {MAX_VALUES:,} values once aliases are expanded")
        container = frame.container
        if isinstance(container, list):
            self.lines.setdefault((*frame.path, len(container)), line)
            container.append(value)
        elif not frame.has_key:
            if isinstance(value, (list, dict)):
                raise self.fail(line, "a mapping key must be a plain value (a string), not a list or a mapping")
            if not isinstance(value, _MergeKey) and value in container:
                raise self.fail(line, f"duplicate key '{value}' in {describe(frame.path)}")
            frame.key, frame.key_line, frame.has_key = value, line, True
            path = (*frame.path, value if not isinstance(value, _MergeKey) else "<<")
            self.lines[path] = line
        else:
            frame.has_key = False
            if isinstance(frame.key, _MergeKey):
                self.collect_merge(frame, value, line)
            else:
                container[frame.key] = value

    def collect_merge(self, frame: _Frame, value: Any, line: int) -> None:
        """``<<: *base`` or ``<<: [*a, *b]``: mappings whose keys this one takes unless it has them."""
        sources = value if isinstance(value, list) else [value]
        for source in sources:
            if not isinstance(source, dict):
                raise self.fail(line, "<< (merge) needs a mapping or a list of mappings")
            frame.merges.append((source, frame.key_line))

    def merge(self, frame: _Frame) -> dict[Any, Any]:
        """The explicit keys win, then the merged mappings in the order given (YAML's merge key)."""
        merged: dict[Any, Any] = {}
        for source, line in reversed(frame.merges):
            merged.update(source)
            for key in source:
                if key not in frame.container:
                    path = (*frame.path, key)
                    self.lines[path] = line
        merged.update(frame.container)
        return merged

    def define(self, anchor: str, value: Any, size: int, line: int) -> None:
        if anchor in self.anchors:
            first = self.anchors[anchor][2]
            raise self.fail(line, f"not valid YAML: duplicate anchor &{anchor} (first defined on line {first})")
        self.anchors[anchor] = (value, size, line)


class _MergeKey:
    """The ``<<`` key of a mapping: not a key, an instruction to merge."""

    __slots__ = ()


# --- dicts given in Python ---------------------------------------------------------------


def plain_copy(value: Any, source: str = "<scenario>", *, for_json: bool = False) -> Any:
    """A copy made of dicts with string keys, lists and scalars, as a JSON round trip would
    make it, without recursion: deeper than ``MAX_DEPTH``, larger than ``MAX_VALUES``, or
    containing itself is a ScenarioError. ``for_json`` also turns what JSON cannot carry
    exactly (integers beyond 64 bits, NaN, infinities) into strings."""
    if not isinstance(value, (Mapping, list, tuple)):
        return _scalar(value, for_json)
    root: Any = {} if isinstance(value, Mapping) else []
    # Each level: the items still to copy, the copy being filled, its path, and the ids of
    # the containers it is inside (to find one that contains itself).
    stack: list[tuple[Iterator[tuple[Any, Any]], Any, Path, frozenset[int]]] = [
        (_items(value), root, (), frozenset({id(value)}))
    ]
    count = 1
    while stack:
        items, copy, path, inside = stack[-1]
        for key, item in items:
            count += 1
            if count > MAX_VALUES:
                raise ScenarioError(source, None, f"too large: more than {MAX_VALUES:,} values")
            if isinstance(item, (Mapping, list, tuple)):
                if id(item) in inside:
                    raise ScenarioError(source, None, f"{describe((*path, key))} contains itself")
                if len(stack) >= MAX_DEPTH:
                    raise ScenarioError(source, None, _TOO_DEEP)
                child: Any = {} if isinstance(item, Mapping) else []
                _put(copy, key, child)
                stack.append((_items(item), child, (*path, key), inside | {id(item)}))
                break
            _put(copy, key, _scalar(item, for_json))
        else:
            stack.pop()
    return root


def _items(container: Any) -> Iterator[tuple[Any, Any]]:
    if isinstance(container, Mapping):
        return ((_json_key(k), v) for k, v in container.items())
    return enumerate(container)


def _put(copy: Any, key: Any, value: Any) -> None:
    if isinstance(copy, list):
        copy.append(value)
    else:
        copy[key] = value


def _json_key(key: Any) -> str:
    if isinstance(key, str):
        return key
    if key is None or isinstance(key, bool):
        return {None: "null", True: "true", False: "false"}[key]
    return str(key)


def _shorten(text: str) -> str:
    return text if len(text) <= SHOWN else text[:SHOWN] + "…"


def _scalar(value: Any, for_json: bool) -> Any:
    if value is None or isinstance(value, (str, bool)):
        return value
    if isinstance(value, int):
        return str(value) if for_json and not -INT64_MAX - 1 <= value <= INT64_MAX else value
    if isinstance(value, float):
        return str(value) if for_json and not math.isfinite(value) else value
    return str(value)
