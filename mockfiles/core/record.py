"""What the emulator knows of one request: what was known when it arrived (``Arrival``), and what
is recorded while it is answered (``Record``). The journal keeps records and makes each entry only
when it is read, so that recording costs next to nothing.

What the journal keeps of a request is always something it can write as JSON, of a bounded size
(``Record.keep``): a text the client sent is kept to its first ``KEPT_CHARS`` characters and
``…``, as error messages echo values (to 64), any lone surrogate written as its escape
(``\\ud800``), and an integer beyond 64 bits as its digits (to the same length).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from mockfiles.admission.ratelimit import RateDecision, TokenDecision
from mockfiles.core.accounts import account_id, key_hint
from mockfiles.core.echoes import digits
from mockfiles.core.registry import UPLOADS
from mockfiles.files.digest import KeptDigest

KEPT_CHARS = 512  # characters of a value the journal keeps: the longest a request can carry (a filename)
ENTRY_BYTES = 1536  # what one record takes besides the texts it keeps (its objects), measured: bench/README.md
INT64 = 2**63
KEPT_BODY_BYTES = 2048  # a JSON body the journal keeps as sent (a batch create is about 150 bytes)


class Arrival(NamedTuple):
    """The request as it arrived (a named tuple: made once per request, cheaply)."""

    request_id: str
    dialect: str
    method: str
    path: str
    query: bytes = b""
    retry_count: int | None = None  # the SDK's x-stainless-retry-count
    generation: int = 0  # the emulator's generation when the request began (see Emulator.is_current)
    journaled: bool = True  # the control routes (/_mockfiles) are not journaled
    received_at: float | None = None  # emulator time when it arrived
    received_wall: float | None = None  # the same, on the wall clock
    started: float = 0.0  # time.perf_counter() when it arrived


@dataclass(eq=False, slots=True)
class UploadedFile:
    """One uploaded file as the journal shows it: never its bytes."""

    filename: str
    size: int | None  # None when the file was not read to its end (refused while it streamed)
    sha256: str | KeptDigest | None  # of the bytes received (digest.py: of kept bytes, computed when read)
    file_id: str | None = None  # once stored

    def fields(self) -> dict[str, Any]:
        sha256 = self.sha256.value() if isinstance(self.sha256, KeptDigest) else self.sha256
        return {"filename": self.filename, "size": self.size, "sha256": sha256, "file_id": self.file_id}

    def finish(self) -> None:
        """The request is over: bytes no stored file keeps are about to go, so their digest is made now."""
        if isinstance(self.sha256, KeptDigest) and not self.sha256.adopted:
            self.sha256.make_now()


@dataclass(eq=False, slots=True)
class UploadRecord:
    purpose: str | None
    files: list[UploadedFile]
    documented: bool = False  # DashScope native: the /api/v1/files document's form (its answers' envelope)


NO_FILE = {"filename": None, "size": None, "sha256": None, "file_id": None}


@dataclass(eq=False, slots=True)
class Record:
    """How the request was answered, and why."""

    arrival: Arrival
    endpoint: str | None = None
    key: str | None = None
    status: int | None = None
    fault: int | None = None  # index of the scenario fault rule that fired
    action: str | None = None  # what happened besides answering (a fault's action, rate_limited…)
    rate: RateDecision | None = None  # the rate limiter's decision, for dialects that send x-ratelimit-*
    tokens: TokenDecision | None = None  # a model request's tokens against its budget (x-ratelimit-*-tokens)
    details: dict[str, Any] = field(default_factory=dict)  # what the journal adds: rule, delay, error…
    advice: dict[str, str] | None = None  # the retry advice the response carried (retry-after…)
    upload: UploadRecord | None = None  # for uploads: what the form carried
    recorded_at: float | None = None  # emulator time when it was journaled (as it was answered)
    recorded_wall: float | None = None  # the same, on the wall clock
    ended: float | None = None  # time.perf_counter() when it ended
    seq: int = 0  # its place in the journal
    size: int = 0  # what the journal counts it for (``keep``)
    shown_key: tuple[str, str] | None = None  # (account, masked key) of a long key the record let go (``finish``)

    @property
    def request_id(self) -> str:
        return self.arrival.request_id

    def elapsed_ms(self) -> float:
        return ((self.ended or time.perf_counter()) - self.arrival.started) * 1000

    def entry(self) -> dict[str, Any]:
        """The journal entry: what the request was, how it was answered, and why."""
        arrival = self.arrival
        # The console reads entries on another thread while requests finish: the key is read once,
        # and before shown_key, which finish() sets before it lets the key go.
        key = self.key
        account, hint = self.shown_key or ((account_id(key), key_hint(key)) if key is not None else (None, None))
        entry = {
            "seq": self.seq,
            "time": self.recorded_at,
            "wall_time": self.recorded_wall,
            "received_at": arrival.received_at,
            "received_wall_time": arrival.received_wall,
            "request_id": arrival.request_id,
            "dialect": arrival.dialect,
            "method": arrival.method,
            "path": arrival.path,
            "query": arrival.query.decode("latin-1"),
            "endpoint": self.endpoint,
            "account": account,
            "key": hint,
            "status": self.status,
            "fault": self.fault,
            "rule": None,
            "action": self.action,
            "advice": self.advice,
            "retry_count": arrival.retry_count,
            "duration_ms": self.elapsed_ms(),
            "monotonic_arrived": arrival.started,  # time.perf_counter(): retry verdicts measure waits on it
            "monotonic_ended": self.ended,
        }
        if self.endpoint in UPLOADS:
            entry.update(self.upload_fields())
        if self.details:
            entry.update(self.details)
        return entry

    def keep(self) -> int:
        """Make what the journal keeps of this request safe and bounded (see the module); returns
        its size in bytes, roughly (``ENTRY_BYTES`` plus its texts)."""
        arrival = self.arrival
        path, query = arrival.path, arrival.query
        if len(path) > KEPT_CHARS or len(query) > KEPT_CHARS or not path.isascii():
            self.arrival = arrival._replace(path=kept_text(path), query=query[:KEPT_CHARS])
            path, query = self.arrival.path, self.arrival.query
        size = ENTRY_BYTES + len(path) + len(query)
        details = self.details
        if details:
            for name, value in details.items():
                if name == "body":  # a JSON body as sent: at most KEPT_BODY_BYTES of UTF-8 (keep_body)
                    size += len(value) if type(value) is str else 0
                    continue
                if type(value) is not str or len(value) > KEPT_CHARS or not value.isascii():
                    details[name] = value = kept_value(value)
                size += len(value) if type(value) is str else _size(value)
        upload = self.upload
        if upload is not None:
            for uploaded in upload.files:
                name = uploaded.filename
                if len(name) > KEPT_CHARS or not name.isascii():
                    uploaded.filename = name = kept_text(name)
                size += len(name)
            purpose = upload.purpose
            if purpose is not None and (len(purpose) > KEPT_CHARS or not purpose.isascii()):
                upload.purpose = kept_text(purpose)
        self.size = size
        return size

    def keep_body(self, raw: bytes) -> None:
        """A JSON body as sent, for the journal's ``body`` (and the console's "copy as curl"): its
        text when it is UTF-8 and at most ``KEPT_BODY_BYTES``, else null (it is never parsed again)."""
        text = None
        if len(raw) <= KEPT_BODY_BYTES:
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError:
                pass
        self.details["body"] = text

    def finish(self) -> None:
        """The request is over: the digests of uploaded bytes no stored file keeps are made now, and a
        key longer than any real one is let go (its account and masked form kept: the journal would
        otherwise hold a 16 KB key for every entry)."""
        key = self.key
        if key is not None and len(key) > KEPT_CHARS:
            self.shown_key = (account_id(key), key_hint(key))
            self.key = None  # after shown_key: entry() may be reading on another thread
        if self.upload is not None:
            for uploaded in self.upload.files:
                uploaded.finish()

    def upload_fields(self) -> dict[str, Any]:
        """``purpose`` and the file's ``filename``, ``size``, ``sha256``, ``file_id`` (null
        when not known: an upload refused before its body was read); a request that carried
        several files (DashScope's native form) shows the first, and all of them in ``files``."""
        upload = self.upload
        if upload is None:
            return {"purpose": None, **NO_FILE}
        fields = {"purpose": upload.purpose, **(upload.files[0].fields() if upload.files else NO_FILE)}
        if len(upload.files) > 1:
            fields["files"] = [f.fields() for f in upload.files]
        return fields


def kept_text(text: str) -> str:
    """A text as the journal keeps it: its first ``KEPT_CHARS`` characters (then ``…``), with any
    lone surrogate as its escape, so that it can always be written as UTF-8 JSON."""
    if len(text) > KEPT_CHARS:
        text = text[:KEPT_CHARS] + "…"
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            text = text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text


def kept_value(value: Any, depth: int = 0) -> Any:
    """A value as the journal keeps it (JSON's kinds only): texts as ``kept_text``, integers beyond
    64 bits as their digits (kept as texts are), containers item by item (nested at most 8 deep)."""
    if isinstance(value, str):
        return kept_text(value)
    if isinstance(value, bool) or value is None or isinstance(value, float):
        return value
    if isinstance(value, int):
        return value if -INT64 <= value < INT64 else kept_text(digits(value))
    if depth >= 8:
        return kept_text(repr(value))
    if isinstance(value, dict):
        return {kept_text(str(k)): kept_value(v, depth + 1) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [kept_value(v, depth + 1) for v in value]
    return kept_text(str(value))


def _size(value: Any) -> int:
    """The texts' length in a kept value (a few bytes for anything else)."""
    if isinstance(value, str):
        return len(value)
    if isinstance(value, dict):
        return sum(len(k) + _size(v) for k, v in value.items())
    if isinstance(value, list):
        return sum(_size(v) for v in value)
    return 8
