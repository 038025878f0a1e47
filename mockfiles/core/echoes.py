"""What a message or the journal repeats of a value the client sent: bounded, and text that UTF-8 (so
JSON) can always carry."""

from __future__ import annotations

ECHO_LIMIT = 64  # characters of a value the client sent that a message repeats


def echoed(value: object, limit: int = ECHO_LIMIT) -> object:
    """A value the client sent, as a message repeats it: its first 64 characters and ``…``, so that
    a 30,000-character ``after`` is refused in a line, not in 30 KB, in every dialect; a lone
    surrogate (``"\\ud800"``, which no answer could carry as UTF-8) as its escape."""
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 10**limit:
        value = digits(value)  # an integer of 4,000 digits, say, from ?limit=
    if isinstance(value, str):
        if len(value) > limit:
            value = value[:limit] + "…"
        return writable(value)
    return value


def digits(value: int) -> str:
    """An integer's digits (those of one too long to convert: its sign and the count, as Python
    refuses to write more than 4,300)."""
    try:
        return str(value)
    except ValueError:
        return f"{'-' if value < 0 else ''}<an integer of more than 4300 digits>"


def writable(text: str) -> str:
    """``text`` with any lone surrogate written as its escape: text UTF-8 can carry."""
    if text.isascii():
        return text
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text


def shown_param(param: str | None) -> str | None:
    """A parameter's name as an error shows it: a client's key in it (``metadata.<key>``) is echoed."""
    return None if param is None else str(echoed(param, 2 * ECHO_LIMIT))
