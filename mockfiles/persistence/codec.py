"""Records as pickles whose large byte sequences live apart, in blobs.

A record is pickled as the object its store keeps (its kind's ``dump`` of it). Any tuple or list
of ``bytes`` of at least ``BLOB_MIN`` bytes in all (a file's chunks, an Upload Part's, a batch's
input) is not pickled: ``persistent_id`` puts it aside, the pickle keeps its place (``(n,
is_list)``), and the flush writes it to a content-addressed blob, outside the stores' lock. On
load the blob comes back as one piece in the same kind of sequence. Pickling needs no serialiser
per class, so a store joins with its classes as they are; the price is that a class's fields are
the format, which the fingerprint (``fingerprint``) guards: a directory whose classes had other
fields is refused, never misread. Loading admits only the declared classes (``find_class``).
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import pickle
from collections.abc import Iterable, Sequence
from enum import Enum
from typing import Any

BLOB_MIN = 4096  # smaller sequences stay in the record's row (docs/persistence.md)
PROTOCOL = 5
Sequences = list[Sequence[bytes]]

# Classes outside the declared kinds that records may hold: plain containers only.
SAFE = {("builtins", n) for n in ("set", "frozenset", "bytearray", "complex", "slice", "range")} | {
    ("collections", "OrderedDict"),
    ("collections", "deque"),
    ("array", "array"),
    ("array", "_array_reconstructor"),
}


class _Pickler(pickle.Pickler):
    def __init__(self, file: io.BytesIO, sequences: Sequences) -> None:
        super().__init__(file, protocol=PROTOCOL)
        self.sequences = sequences

    def persistent_id(self, obj: Any) -> tuple[int, bool] | None:
        kind = type(obj)
        if (kind is tuple or kind is list) and obj and type(obj[0]) is bytes:
            if all(type(piece) is bytes for piece in obj) and sum(map(len, obj)) >= BLOB_MIN:
                self.sequences.append(obj)
                return (len(self.sequences) - 1, kind is list)
        return None


def dump(obj: Any) -> tuple[bytes, Sequences]:
    """The pickle of ``obj`` and the byte sequences it refers to (to be written as blobs)."""
    sequences: Sequences = []
    out = io.BytesIO()
    _Pickler(out, sequences).dump(obj)
    return out.getvalue(), sequences


class _Unpickler(pickle.Unpickler):
    def __init__(self, data: bytes, blobs: Sequence[bytes], allowed: set[tuple[str, str]]) -> None:
        super().__init__(io.BytesIO(data))
        self.blobs = blobs
        self.allowed = allowed

    def persistent_load(self, pid: Any) -> Any:
        n, is_list = pid
        return [self.blobs[n]] if is_list else (self.blobs[n],)

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) not in self.allowed and (module, name) not in SAFE:
            raise pickle.UnpicklingError(f"a record holds {module}.{name}, which no store declares")
        return super().find_class(module, name)


def load(data: bytes, blobs: Sequence[bytes], allowed: set[tuple[str, str]]) -> Any:
    return _Unpickler(data, blobs, allowed).load()


def class_names(classes: Iterable[type]) -> set[tuple[str, str]]:
    return {(c.__module__, c.__qualname__) for c in classes}


def fields_of(cls: type) -> list[str]:
    if dataclasses.is_dataclass(cls):
        return [f.name for f in dataclasses.fields(cls)]
    if hasattr(cls, "_fields"):  # a named tuple
        return list(cls._fields)
    if issubclass(cls, Enum):
        return [m.name for m in cls]
    init = cls.__dict__.get("__init__")
    if init is not None and hasattr(init, "__code__"):  # a plain class: the names its __init__ uses
        return sorted(set(init.__code__.co_names))
    return sorted(getattr(cls, "__slots__", ()))


def fingerprint(classes: Iterable[type], kinds: Iterable[str]) -> str:
    """A digest of the kinds of record and every declared class's name and fields: what the
    pickles' meaning rests on."""
    described = sorted(f"{c.__module__}.{c.__qualname__}({','.join(fields_of(c))})" for c in classes)
    described += sorted(f"kind {kind}" for kind in kinds)
    return hashlib.sha256("\n".join(described).encode()).hexdigest()[:16]
