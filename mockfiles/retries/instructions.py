"""Retry-test instructions: the exact strings a retry test queues per endpoint, parsed into
frozen values that say WHAT happens to one request (never how a transport does it).

The grammar follows Google's storage-testbench (``return-503``, ``return-503-after-256K``,
``stall-for-2s-after-4K``, ``broken-stream-after-4K``), with the OpenAI SDK's retry advice added::

    return-<status>[-retry-after-<n>(s|ms)][-should-retry-(true|false)][-after-<N>K]
    return-html-<status>        return-malformed-json
    reset    reset-after-<N>K   reset-after-commit
    broken-stream-after-<N>K    stall-for-<dur>-after-<N>K
    timeout  delay-<dur>

``<status>`` is 400 to 599; ``<N>K`` is N KiB (N x 1024 bytes) of a body; ``<dur>`` is a number
of seconds or milliseconds (``2s``, ``1.5s``, ``300ms``), at most 600 s — the longest the emulator
holds a request. ``-retry-after-1s`` sends ``retry-after: 1``; ``-retry-after-300ms`` sends
``retry-after-ms: 300`` (the SDK reads both; ``retry-after-ms`` wins). Retry-After takes whole
numbers, as HTTP defines it, of at most a day. A number of any length is read without converting
more than 18 of its digits: ``return-<4,400 digits>`` is refused like ``return-600``.

A fault counted in KiB of a body always happens: when the body is shorter, it happens at the
body's end (an upload: once its last byte was read, before answering; a download: the last byte
is withheld), so that an instruction is never spent without effect.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Collection
from dataclasses import dataclass, replace
from typing import Literal

from mockfiles.admission.decision import Direction
from mockfiles.core.errors import InvalidRequest
from mockfiles.scenarios.fault_rules import DEFAULT_HOLD

Kind = Literal[
    "error",  # a JSON error answer in the dialect's envelope (status, headers)
    "html_error",  # a proxy's HTML error page with that status (not JSON)
    "malformed_json",  # a 200 whose body is not valid JSON; the operation was done
    "reset",  # the connection is reset with no answer; nothing was done
    "reset_after_commit",  # the operation is done, then the connection reset: the answer is lost
    "broken_stream",  # the download's head and after_bytes of its body are sent, then a reset
    "stall",  # after after_bytes of the body, nothing moves for `seconds`; then as normal
    "timeout",  # no answer: held until the client gives up (at most `seconds`)
    "delay",  # answered normally after `seconds`
]

# Endpoints whose request body is a file worth cutting, and whose response body is a file worth
# breaking. The set of valid endpoint names is the caller's; these only say what bodies they carry.
UPLOAD_ENDPOINTS = frozenset({"files.create", "uploads.parts.create"})
DOWNLOAD_ENDPOINTS = frozenset({"files.content"})

MAX_SECONDS = DEFAULT_HOLD  # 600 s: no instruction holds a request longer than a scenario can
MAX_KIB = 1024 * 1024  # 1 GiB: beyond any file the emulator accepts
MAX_RETRY_AFTER = 86400  # a day, in seconds: far beyond the 60 s the SDK waits at most
_MAX_DIGITS = 18  # a number written longer than this is beyond every limit above

FORMS = (
    "return-<status>",
    "return-<status>-retry-after-<n>s",
    "return-<status>-retry-after-<n>ms",
    "return-<status>-should-retry-true|false",
    "return-<status>-after-<N>K",
    "return-html-<status>",
    "return-malformed-json",
    "reset",
    "reset-after-<N>K",
    "reset-after-commit",
    "broken-stream-after-<N>K",
    "stall-for-<dur>-after-<N>K",
    "timeout",
    "delay-<dur>",
)
_EXAMPLES = (
    "return-503",
    "return-429-retry-after-1s",
    "return-429-retry-after-300ms",
    "return-503-should-retry-false",
    "return-400-should-retry-true",
    "return-503-after-256K",
    "return-html-502",
    "return-malformed-json",
    "reset",
    "reset-after-64K",
    "reset-after-commit",
    "broken-stream-after-4K",
    "stall-for-2s-after-4K",
    "timeout",
    "delay-300ms",
)

_DUR = r"(?P<dur>[0-9]+(?:\.[0-9]+)?)(?P<unit>ms|s)"
_RETURN = re.compile(
    r"return-(?P<status>[0-9]+)"
    r"(?:-retry-after-(?P<ra>[0-9]+(?:\.[0-9]+)?)(?P<ra_unit>ms|s))?"
    r"(?:-should-retry-(?P<sr>true|false))?"
    r"(?:-after-(?P<after>[0-9]+)K)?"
)
_HTML = re.compile(r"return-html-(?P<status>[0-9]+)")
_RESET_AFTER = re.compile(r"reset-after-(?P<after>[0-9]+)K")
_BROKEN = re.compile(r"broken-stream-after-(?P<after>[0-9]+)K")
_STALL = re.compile(r"stall-for-" + _DUR + r"-after-(?P<after>[0-9]+)K")
_DELAY = re.compile(r"delay-" + _DUR)


class InstructionError(InvalidRequest, ValueError):
    """An instruction that cannot be used; the message names it and says what would do (the words
    are in the error table, ``error_table.py``)."""

    def __init__(self, reason: str, instruction: str, **fields: object) -> None:
        super().__init__(reason, text=instruction)
        self.fields.update(fields)
        self.instruction = instruction


@dataclass(frozen=True, slots=True)
class Instruction:
    """What to do to one request. ``after_bytes`` counts bytes of ``body`` (the request's
    upload or the response's download) before acting; ``seconds`` is the stall, the delay, or
    the longest a ``timeout`` holds."""

    text: str
    kind: Kind
    status: int | None = None
    headers: tuple[tuple[str, str], ...] = ()
    after_bytes: int | None = None
    body: Direction | None = None
    seconds: float | None = None

    @property
    def performs_operation(self) -> bool:
        """Whether the operation itself happens (an upload is stored, a file deleted)."""
        return self.kind in ("malformed_json", "reset_after_commit", "broken_stream", "stall", "delay")

    def to_dict(self) -> dict[str, object]:
        out: dict[str, object] = {"instruction": self.text, "kind": self.kind}
        for name in ("status", "after_bytes", "body", "seconds"):
            value = getattr(self, name)
            if value is not None:
                out[name] = value
        if self.headers:
            out["headers"] = dict(self.headers)
        return out


def parse_instruction(
    text: object,
    endpoint: str,
    *,
    uploads: Collection[str] = UPLOAD_ENDPOINTS,
    downloads: Collection[str] = DOWNLOAD_ENDPOINTS,
) -> Instruction:
    """The instruction ``text`` for a request to ``endpoint``; InstructionError when it is not
    one, or makes no sense there (``broken-stream-after-4K`` on an upload)."""
    if not isinstance(text, str):
        raise InstructionError("instruction_not_text", repr(text), value=text)
    instruction = _parse(text)
    _check_fits(instruction, endpoint, uploads, downloads)
    if instruction.after_bytes is not None:
        body: Direction = "request" if endpoint in uploads else "response"
        return replace(instruction, body=body)
    return instruction


def _parse(text: str) -> Instruction:
    if text in ("reset", "timeout", "reset-after-commit", "return-malformed-json"):
        return _SIMPLE[text](text)
    if m := _HTML.fullmatch(text):
        return Instruction(text, "html_error", status=_status(text, m.group("status")))
    if m := _RETURN.fullmatch(text):
        return _return(text, m)
    if m := _RESET_AFTER.fullmatch(text):
        return Instruction(text, "reset", after_bytes=_kib(text, m.group("after")))
    if m := _BROKEN.fullmatch(text):
        return Instruction(text, "broken_stream", after_bytes=_kib(text, m.group("after")))
    if m := _STALL.fullmatch(text):
        seconds = _seconds(text, m.group("dur"), m.group("unit"))
        return Instruction(text, "stall", after_bytes=_kib(text, m.group("after")), seconds=seconds)
    if m := _DELAY.fullmatch(text):
        return Instruction(text, "delay", seconds=_seconds(text, m.group("dur"), m.group("unit")))
    hint = difflib.get_close_matches(text, _EXAMPLES, n=1, cutoff=0.6)
    if hint:
        raise InstructionError("instruction_unknown_near", text, hint=hint[0], forms=", ".join(FORMS))
    raise InstructionError("instruction_unknown", text, forms=", ".join(FORMS))


_SIMPLE = {
    "reset": lambda t: Instruction(t, "reset"),
    "timeout": lambda t: Instruction(t, "timeout", seconds=MAX_SECONDS),
    "reset-after-commit": lambda t: Instruction(t, "reset_after_commit"),
    "return-malformed-json": lambda t: Instruction(t, "malformed_json", status=200),
}


def _return(text: str, m: re.Match[str]) -> Instruction:
    status = _status(text, m.group("status"))
    headers: list[tuple[str, str]] = []
    if m.group("ra") is not None:
        value = m.group("ra")
        if "." in value:
            raise InstructionError("instruction_retry_after", text)
        unit = m.group("ra_unit")
        limit = MAX_RETRY_AFTER * 1000 if unit == "ms" else MAX_RETRY_AFTER
        if _whole(value) > limit:
            raise InstructionError("instruction_retry_after", text)
        headers.append(("retry-after-ms" if unit == "ms" else "retry-after", str(_whole(value))))
    if m.group("sr") is not None:
        headers.append(("x-should-retry", m.group("sr")))
    after = _kib(text, m.group("after")) if m.group("after") is not None else None
    return Instruction(text, "error", status=status, headers=tuple(headers), after_bytes=after)


def _status(text: str, digits: str) -> int:
    status = _whole(digits)
    if not 400 <= status <= 599:
        raise InstructionError("instruction_status", text, digits=digits)
    return status


def _kib(text: str, digits: str) -> int:
    kib = _whole(digits)
    if kib > MAX_KIB:
        raise InstructionError("instruction_kib", text, kib=digits, limit=MAX_KIB)
    return kib * 1024


def _whole(digits: str) -> int:
    """The number ``digits`` write; one of more than 18 digits (beyond every limit here, and
    perhaps beyond what ``int()`` converts: 4,300 digits) as 10**18."""
    digits = digits.lstrip("0") or "0"
    return int(digits) if len(digits) <= _MAX_DIGITS else 10**_MAX_DIGITS


def _seconds(text: str, number: str, unit: str) -> float:
    seconds = float(number) / 1000 if unit == "ms" else float(number)
    if seconds > MAX_SECONDS:
        raise InstructionError("instruction_seconds", text, number=number, unit=unit, limit=MAX_SECONDS)
    return seconds


def _check_fits(instruction: Instruction, endpoint: str, uploads: Collection[str], downloads: Collection[str]) -> None:
    text, kind = instruction.text, instruction.kind
    upload, download = endpoint in uploads, endpoint in downloads
    names = {"endpoint": endpoint, "uploads": _names(uploads), "downloads": _names(downloads)}
    if kind == "broken_stream" and not download:
        raise InstructionError("instruction_not_download", text, **names)
    if kind == "stall" and not (upload or download):
        raise InstructionError("instruction_no_body", text, **names)
    if kind in ("error", "reset") and instruction.after_bytes is not None and not upload:
        raise InstructionError("instruction_not_upload", text, **names)
    if kind == "malformed_json" and download:
        raise InstructionError("instruction_not_json", text, **names)


def _names(endpoints: Collection[str]) -> str:
    return ", ".join(sorted(endpoints)) or "no endpoint here"
