"""A small multipart body, whole, split in one pass.

python-multipart's push parser is a state machine in Python: for a one-line JSONL upload
(a few hundred bytes, two parts) that is most of the upload's time in the application, spent
in callbacks and bookkeeping for bytes that are all there already (bench/README.md). A body whose
declared length is at most ``SMALL_FORM_BYTES`` is read whole and split here with a few
``bytes.find``; its parts then go through the very callbacks the push parser would call
(form_reader.py), so every limit and refusal is the same code. Only the canonical shape is
split here — what every client sends: the first boundary at the start, headers ``Name: value``
on CRLF lines, each part ended by CRLF ``--boundary`` and CRLF, the last by ``--``. Anything
else (a preamble, boundary padding, a header the parser would refuse, a missing closing
boundary…) returns None, and the push parser reads the same bytes: it says what is wrong, or
accepts the unusual shapes it accepts, exactly as before.
"""

from __future__ import annotations

from python_multipart.multipart import DEFAULT_MAX_HEADER_COUNT, DEFAULT_MAX_HEADER_SIZE, TOKEN_CHARS

SMALL_FORM_BYTES = 64 * 1024

Header = tuple[int, int, int, int]  # the name's start and end, the value's start and end, in the body
Part = tuple[list[Header], int, int]  # its headers, its data's start and end


def split(body: bytes, boundary: bytes) -> list[Part] | None:
    """The parts of a complete body in the canonical shape, or None (the push parser decides)."""
    delimiter = b"\r\n--" + boundary
    if not body.startswith(delimiter[2:] + b"\r\n"):
        return None
    parts: list[Part] = []
    at = len(delimiter)  # after the first boundary line's CRLF
    while True:
        headers_end = body.find(b"\r\n\r\n", at)
        if headers_end <= at:  # none, or a part without headers
            return None
        headers = _headers(body, at, headers_end)
        if headers is None:
            return None
        start = headers_end + 4
        end = body.find(delimiter, start)
        if end < 0:
            return None
        parts.append((headers, start, end))
        after = end + len(delimiter)
        follows = body[after : after + 2]
        if follows == b"--":
            return parts  # the epilogue, if any, is ignored (as the push parser does)
        if follows != b"\r\n":
            return None
        at = after + 2


def _headers(body: bytes, start: int, end: int) -> list[Header] | None:
    """A part's header lines, each ``Name: value``; None for anything the push parser might
    read differently or refuse (a non-token name, a stray CR or LF, a line over its limits)."""
    headers: list[Header] = []
    line = start
    while line < end:
        eol = body.find(b"\r\n", line, end)
        if eol < 0:
            eol = end
        colon = body.find(b":", line, eol)
        if colon <= line or eol - line > DEFAULT_MAX_HEADER_SIZE or len(headers) == DEFAULT_MAX_HEADER_COUNT:
            return None
        if body[line:colon].translate(None, TOKEN_CHARS):
            return None
        value = colon + 1
        while value < eol and body[value] == 0x20:  # leading spaces are skipped, as the push parser does
            value += 1
        if body.find(b"\r", value, eol) >= 0 or body.find(b"\n", value, eol) >= 0:
            return None
        headers.append((line, colon, value, eol))
        line = eol + 2
    return headers
