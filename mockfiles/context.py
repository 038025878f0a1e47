"""What the emulator knows about one request while it answers it; the journal keeps
it afterwards and shows it as an entry."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from .accounts import account_id, key_hint


@dataclass(eq=False, slots=True)
class UploadedFile:
    """One uploaded file as the journal shows it: never its bytes."""

    filename: str
    size: int | None  # None when the file was not read to its end (refused while it streamed)
    sha256: str | None  # of the bytes received, computed while they streamed in
    file_id: str | None = None  # once stored

    def fields(self) -> dict[str, Any]:
        return {"filename": self.filename, "size": self.size, "sha256": self.sha256, "file_id": self.file_id}


@dataclass(eq=False, slots=True)
class Upload:
    purpose: str | None
    files: list[UploadedFile]


NO_FILE = {"filename": None, "size": None, "sha256": None, "file_id": None}


@dataclass(eq=False, slots=True)
class RequestContext:
    request_id: str
    dialect: str
    method: str
    path: str
    query: bytes = b""
    retry_count: int | None = None  # the SDK's x-stainless-retry-count
    started: float = field(default_factory=time.perf_counter)
    ended: float | None = None
    endpoint: str | None = None
    key: str | None = None
    status: int | None = None
    fault: int | None = None  # index of the scenario fault rule that fired
    action: str | None = None  # what that rule did
    journaled: bool = True
    rate: Any = None  # the rate limiter's Decision, for dialects that send x-ratelimit-* headers
    details: dict[str, Any] = field(default_factory=dict)  # what the journal adds: rule, delay, error…
    connection: Any = None  # chaos.Connection, for faults that drop the connection
    generation: int = 0  # the emulator's generation when the request began
    received_at: float | None = None  # emulator time when it arrived
    received_wall: float | None = None  # the same, on the wall clock
    recorded_at: float | None = None  # emulator time when it was journaled (as it was answered)
    recorded_wall: float | None = None  # the same, on the wall clock
    advice: dict[str, str] | None = None  # the retry advice the response carried (retry-after…)
    upload: Upload | None = None  # for uploads: what the form carried
    seq: int = 0  # its place in the journal

    def elapsed_ms(self) -> float:
        return ((self.ended or time.perf_counter()) - self.started) * 1000

    def entry(self) -> dict[str, Any]:
        """The journal entry: what the request was, how it was answered, and why."""
        entry = {
            "seq": self.seq,
            "time": self.recorded_at,
            "wall_time": self.recorded_wall,
            "received_at": self.received_at,
            "received_wall_time": self.received_wall,
            "request_id": self.request_id,
            "dialect": self.dialect,
            "method": self.method,
            "path": self.path,
            "query": self.query.decode("latin-1"),
            "endpoint": self.endpoint,
            "account": account_id(self.key) if self.key is not None else None,
            "key": key_hint(self.key) if self.key is not None else None,
            "status": self.status,
            "fault": self.fault,
            "rule": None,
            "action": self.action,
            "advice": self.advice,
            "retry_count": self.retry_count,
            "duration_ms": self.elapsed_ms(),
        }
        if self.endpoint == "files.create":
            entry.update(self.upload_fields())
        if self.details:
            entry.update(self.details)
        return entry

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
