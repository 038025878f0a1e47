"""What a vector store holds, and how each thing looks at a moment of the emulator clock.

A store file's status is computed from the clock whenever it is read: ``in_progress`` until its
ingestion ends (``ready_at``), then ``completed`` or ``failed`` as its ingestion was decided when it
was attached; ``cancelled`` if its batch was cancelled before that. A store's ``status`` and
``file_counts`` and a batch's follow their files. Nothing runs in the background. The objects are
OpenAI's shapes (the SDK's ``VectorStore``, ``VectorStoreFile``, ``VectorStoreFileBatch``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from mockfiles.files.store import StoredFile
from mockfiles.scenarios.vector_stores import Failure
from mockfiles.vector_stores.attributes import Attributes
from mockfiles.vector_stores.chunks import Chunking, Spans

DAY = 86400
STORE_KIND, FILE_KIND, BATCH_KIND = "vector_store", "vector_store_file", "vector_store_file_batch"  # saved.py
STATUSES = ("in_progress", "completed", "failed", "cancelled")


@dataclass(frozen=True)
class Ingestion:
    """How a file's ingestion ends, decided when it is attached (from its content and the scenario)."""

    failure: Failure | None
    usage_bytes: int  # the parsed text's UTF-8 bytes, counted once the file is completed
    spans: Spans  # its chunks, as offsets into its text


@dataclass(slots=True, eq=False)
class StoreFile:
    file_id: str
    vector_store_id: str
    created_at: int
    seq: int  # attach order across the emulator: orders a store's files and the search's ties
    stored: StoredFile  # the File, kept until the file leaves the store (its text is read from it)
    attributes: Attributes
    chunking: Chunking
    ingestion: Ingestion
    ready_at: float
    batch_id: str | None = None
    cancelled_at: float | None = None
    leaves_at: float | None = None  # its File was deleted: it leaves the store then (the cascade)
    indexed: bool = False  # its chunks are in the store's search index

    def status(self, now: float) -> str:
        if self.cancelled_at is not None and self.cancelled_at < self.ready_at and now >= self.cancelled_at:
            return "cancelled"
        if now < self.ready_at:
            return "in_progress"
        return "failed" if self.ingestion.failure is not None else "completed"

    def as_dict(self, now: float) -> dict[str, Any]:
        status = self.status(now)
        failure = self.ingestion.failure if status == "failed" else None
        return {
            "id": self.file_id,
            "object": "vector_store.file",
            "usage_bytes": self.ingestion.usage_bytes if status == "completed" else 0,
            "created_at": self.created_at,
            "vector_store_id": self.vector_store_id,
            "status": status,
            "last_error": {"code": failure.code, "message": failure.message} if failure is not None else None,
            "chunking_strategy": self.chunking.as_dict(),
            "attributes": dict(self.attributes),
        }


def counts(files: list[StoreFile], now: float) -> dict[str, int]:
    """``file_counts``: how many files are in each status, and the total."""
    tally = dict.fromkeys(STATUSES, 0)
    for f in files:
        tally[f.status(now)] += 1
    return {**tally, "total": len(files)}


@dataclass(slots=True, eq=False)
class FileBatch:
    id: str
    vector_store_id: str
    created_at: int
    file_ids: list[str]
    cancelled_at: float | None = None

    def as_dict(self, members: list[StoreFile], now: float) -> dict[str, Any]:
        """Its files are those of ``members`` it attached that are still in the store."""
        tally = counts(members, now)
        if tally["in_progress"]:
            status = "in_progress"
        elif self.cancelled_at is not None and now >= self.cancelled_at:
            status = "cancelled"
        elif tally["total"] and tally["failed"] == tally["total"]:
            status = "failed"
        else:
            status = "completed"
        return {
            "id": self.id,
            "object": "vector_store.files_batch",
            "created_at": self.created_at,
            "vector_store_id": self.vector_store_id,
            "status": status,
            "file_counts": tally,
        }


@dataclass(slots=True, eq=False)
class VectorStore:
    id: str
    account: str
    seq: int
    created_at: int
    name: str
    description: str | None
    metadata: dict[str, str]
    expires_days: int | None
    last_active_at: float
    files: dict[str, StoreFile] = field(default_factory=dict)  # by file id, in attach order
    batches: dict[str, FileBatch] = field(default_factory=dict)
    writes: list[float] = field(default_factory=list)  # recent write times (the optional write limit)

    def expires_at(self) -> int | None:
        return None if self.expires_days is None else int(self.last_active_at) + self.expires_days * DAY

    def expired(self, now: float) -> bool:
        at = self.expires_at()
        return at is not None and now >= at

    def touch(self, now: float) -> None:
        """It was used: its idle time (``expires_after``) starts again."""
        if not self.expired(now):
            self.last_active_at = max(self.last_active_at, now)

    def usage_bytes(self, now: float) -> int:
        return sum(f.ingestion.usage_bytes for f in self.files.values() if f.status(now) == "completed")

    def as_dict(self, now: float) -> dict[str, Any]:
        files = list(self.files.values())
        tally = counts(files, now)
        status = "expired" if self.expired(now) else "in_progress" if tally["in_progress"] else "completed"
        days = self.expires_days
        return {
            "id": self.id,
            "object": "vector_store",
            "created_at": self.created_at,
            "name": self.name,
            "usage_bytes": self.usage_bytes(now),
            "file_counts": tally,
            "status": status,
            "expires_after": None if days is None else {"anchor": "last_active_at", "days": days},
            "expires_at": self.expires_at(),
            "last_active_at": int(self.last_active_at),
            "metadata": dict(self.metadata),
        }
