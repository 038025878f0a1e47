"""A vector store file's ``attributes`` and the ``filters`` a search matches them with.

Attributes (OpenAPI ``VectorStoreFileAttributes``): at most 16 pairs; keys up to 64 characters;
values strings up to 512 characters, numbers or booleans. Filters: a comparison ``{type, key, value}``
(``eq``, ``ne``, ``gt``, ``gte``, ``lt``, ``lte``, ``in``, ``nin``) or a compound ``{type: and|or,
filters: [...]}``, nested at most ``MAX_DEPTH`` levels. How they compare (docs/vector_stores.md):
``eq``/``ne`` compare values of the same JSON type (``1`` and ``1.0`` are equal, ``"1"`` is not);
``gt``…``lte`` compare two numbers or two strings (strings in code-point order, so ISO dates work);
``in``/``nin`` look the value up in the list; a file without the key matches only ``ne`` and ``nin``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TypeVar

from mockfiles.core.errors import (
    InvalidRequest,
    InvalidType,
    InvalidValue,
    MissingParameter,
    OutOfRange,
    UnknownParameter,
)
from mockfiles.core.validation import json_type

T = TypeVar("T")
Value = str | int | float | bool
Attributes = dict[str, Value]
MAX_PAIRS, MAX_KEY, MAX_VALUE = 16, 64, 512
MAX_DEPTH = 16
INT_MIN, INT_MAX = -(2**63), 2**63 - 1  # a number held as a JSON integer must fit 64 bits
COMPARISONS = ("eq", "ne", "gt", "gte", "lt", "lte", "in", "nin")
COMPOUNDS = ("and", "or")


def check_attributes(value: object, param: str = "attributes") -> Attributes:
    """The attributes given, checked (null is none)."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise InvalidType(param, expected="an object", got=json_type(value))
    if len(value) > MAX_PAIRS:
        raise InvalidRequest("attributes_pairs", param=param, limit=MAX_PAIRS, count=len(value))
    out: Attributes = {}
    for key, item in value.items():
        if len(key) > MAX_KEY:
            raise InvalidRequest("attributes_key", param=param, property=key, limit=MAX_KEY, length=len(key))
        where = f"{param}.{key}"
        if not isinstance(item, (str, int, float, bool)):
            raise InvalidType(where, expected="a string, a number or a boolean", got=json_type(item))
        if isinstance(item, str) and len(item) > MAX_VALUE:
            raise InvalidRequest("attributes_value", param=where, limit=MAX_VALUE, length=len(item))
        out[key] = fitting(item, where)
    return out


@dataclass(frozen=True)
class Comparison:
    type: str
    key: str
    value: Value | tuple[str | int | float, ...]

    def matches(self, attributes: Mapping[str, Value]) -> bool:
        if self.key not in attributes:
            return self.type in ("ne", "nin")
        have = attributes[self.key]
        if self.type in ("in", "nin"):
            assert isinstance(self.value, tuple)
            found = any(_same(have, v) for v in self.value)
            return found if self.type == "in" else not found
        assert not isinstance(self.value, tuple)
        if self.type in ("eq", "ne"):
            return _same(have, self.value) == (self.type == "eq")
        return _ordered(have, self.value, self.type)


@dataclass(frozen=True)
class Compound:
    type: str
    filters: tuple[Filter, ...]

    def matches(self, attributes: Mapping[str, Value]) -> bool:
        if self.type == "and":
            return all(f.matches(attributes) for f in self.filters)
        return any(f.matches(attributes) for f in self.filters)


Filter = Comparison | Compound


def parse_filter(value: object, param: str = "filters", depth: int = 1) -> Filter:
    """A filter as the search's ``filters`` gives it, checked."""
    if depth > MAX_DEPTH:
        raise InvalidRequest("filters_too_deep", param="filters", limit=MAX_DEPTH)
    if not isinstance(value, dict):
        raise InvalidType(param, expected="an object", got=json_type(value))
    kind = value.get("type")
    if kind is None:
        raise MissingParameter(f"{param}.type")
    if kind in COMPOUNDS:
        members = value.get("filters")
        if members is None:
            raise MissingParameter(f"{param}.filters")
        if not isinstance(members, list):
            raise InvalidType(f"{param}.filters", expected="an array", got=json_type(members))
        unknown = next((name for name in value if name not in ("type", "filters")), None)
        if unknown is not None:
            raise UnknownParameter(f"{param}.{unknown}")
        parts = tuple(parse_filter(m, f"{param}.filters[{i}]", depth + 1) for i, m in enumerate(members))
        return Compound(kind, parts)
    if not isinstance(kind, str) or kind not in COMPARISONS:
        raise InvalidValue(f"{param}.type", str(kind), (*COMPARISONS, *COMPOUNDS))
    unknown = next((name for name in value if name not in ("type", "key", "value")), None)
    if unknown is not None:
        raise UnknownParameter(f"{param}.{unknown}")
    key = value.get("key")
    if key is None:
        raise MissingParameter(f"{param}.key")
    if not isinstance(key, str):
        raise InvalidType(f"{param}.key", expected="a string", got=json_type(key))
    if "value" not in value:
        raise MissingParameter(f"{param}.value")
    return Comparison(kind, key, _comparand(value["value"], kind, f"{param}.value"))


def _comparand(value: object, kind: str, param: str) -> Value | tuple[str | int | float, ...]:
    if kind in ("in", "nin"):
        if not isinstance(value, list):
            raise InvalidType(param, expected="an array", got=json_type(value))
        for i, item in enumerate(value):
            if isinstance(item, bool) or not isinstance(item, (str, int, float)):
                raise InvalidType(f"{param}[{i}]", expected="a string or a number", got=json_type(item))
            fitting(item, f"{param}[{i}]")
        return tuple(value)
    if not isinstance(value, (str, int, float, bool)):
        raise InvalidType(param, expected="a string, a number or a boolean", got=json_type(value))
    return fitting(value, param)


def fitting(value: T, param: str) -> T:
    """A JSON integer that fits 64 bits (what the API answers is JSON its clients can read)."""
    if isinstance(value, int) and not isinstance(value, bool) and not INT_MIN <= value <= INT_MAX:
        raise OutOfRange(param, low=INT_MIN, high=INT_MAX, value=value)
    return value


def _kind(value: Value) -> str:
    return "bool" if isinstance(value, bool) else "number" if isinstance(value, (int, float)) else "str"


def _same(a: Value | str | int | float, b: Value | str | int | float) -> bool:
    return _kind(a) == _kind(b) and a == b


def _ordered(have: Value, want: Value, op: str) -> bool:
    kind = _kind(have)
    if kind != _kind(want) or kind == "bool":
        return False
    a, b = have, want
    if op == "gt":
        return a > b  # type: ignore[operator]
    if op == "gte":
        return a >= b  # type: ignore[operator]
    if op == "lt":
        return a < b  # type: ignore[operator]
    return a <= b  # type: ignore[operator]
