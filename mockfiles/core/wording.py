"""How the error table's rows are written: a row's words in every dialect (``Row``, ``Say``), and the
conversions its format strings may use. The rows themselves are in ``core/error_table.py`` (those of
any request) and in each API's ``words.py``; the table is assembled in ``core/error_table.py``."""

from __future__ import annotations

import string
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from mockfiles.core.ids import mask_key
from mockfiles.core.units import format_duration

Fields = Mapping[str, object]
Text = str | Callable[[Fields], str]
OPENAI, COMPATIBLE, NATIVE = "openai", "dashscope-compatible", "dashscope-native"


@dataclass(frozen=True)
class Category:
    status: int
    type: str  # OpenAI's error type
    native: str  # DashScope native's code


@dataclass(frozen=True)
class Say:
    """How one dialect says an error where it differs from the row's own words."""

    message: Text | None = None
    code: str | None = None
    type: str | None = None


@dataclass(frozen=True)
class Row:
    message: Text  # the error's own words: OpenAI's, and every dialect's unless it says otherwise
    code: str | None = None  # OpenAI's code
    openai: Say | None = None
    compatible: Say | None = None  # over OpenAI's
    native: Say | None = None
    azure: Say | None = None  # over OpenAI's


# --- words that compute something -----------------------------------------------------------------


def quote_list(values: Sequence[object]) -> str:
    """``'a', 'b', and 'c'`` as in OpenAI's validation messages."""
    quoted = [f"'{v}'" for v in values]
    if len(quoted) <= 2:
        return " and ".join(quoted)
    return ", ".join(quoted[:-1]) + ", and " + quoted[-1]


def size_text(n: int) -> str:
    """``8 GiB``, ``200 MiB``, ``1.5 KiB``: a limit as people read it beside its exact bytes."""
    for unit, scale in (("GiB", 1024**3), ("MiB", 1024**2), ("KiB", 1024)):
        if n >= scale:
            return f"{n / scale:.1f}".removesuffix(".0") + " " + unit
    return f"{n} bytes"


def _seq(value: object) -> Sequence[object]:
    return value if isinstance(value, (list, tuple)) else ()


def _int(value: object) -> int:
    return value if isinstance(value, int) else 0


class _Formatter(string.Formatter):
    """``str.format`` with conversions for the values messages show: ``!q`` a list quoted as OpenAI
    does (``'a', 'b', and 'c'``), ``!j`` joined by commas, ``!l`` their reprs joined by commas, ``!z``
    a size as people read it, ``!k`` bytes as whole KiB, ``!m`` an API key masked, ``!d`` seconds as
    a duration (``1.5s``), ``!h`` a guess offered (``did you mean 'x'? ``) or nothing."""

    CONVERSIONS: dict[str, Callable[[object], str]] = {
        "q": lambda v: quote_list(_seq(v)),
        "j": lambda v: ", ".join(str(x) for x in _seq(v)),
        "l": lambda v: ", ".join(repr(x) for x in _seq(v)),
        "z": lambda v: size_text(_int(v)),
        "k": lambda v: str(_int(v) // 1024),
        "m": lambda v: mask_key(str(v)),
        "d": lambda v: format_duration(v if isinstance(v, (int, float)) else 0),
        "h": lambda v: f"did you mean '{v}'? " if v else "",
    }

    def convert_field(self, value: object, conversion: str | None) -> object:
        convert = self.CONVERSIONS.get(conversion or "")
        return convert(value) if convert is not None else super().convert_field(value, conversion)


_FORMATTER = _Formatter()


def words(text: Text, fields: Fields) -> str:
    """A row's text with the error's fields."""
    return text(fields) if callable(text) else _FORMATTER.vformat(text, (), fields)


# Words more than one API's rows use.
NATIVE_TOO_LARGE = Say("Out of space, <{used}> B of <{limit}> B storage space has been used.", "BadRequest.TooLarge")
