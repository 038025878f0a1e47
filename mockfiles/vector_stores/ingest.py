"""A file's ingestion into a vector store, decided when it is attached: how long it takes and how it
ends. Reading a file's text and cutting it into chunks is the slow part (bench/README.md has the
figures); it needs no lock, and the edge runs it in a worker thread.

How it ends, first that applies:

1. a scenario rule's ``fail`` (``vector_stores.files``): that code and message;
2. bytes that are not of the file's type: ``unsupported_file`` / ``The file type is not supported.``;
3. no text at all (an empty or blank file, a PDF with no text): ``invalid_file`` / ``The file could
   not be parsed because it is empty.`` (a choice: OpenAI's words for this are not known);
4. more than 5,000,000 tokens (estimated: chunks.py): ``invalid_file`` / ``The file could not be
   parsed because it is too large.``;
5. else ``completed``, its ``usage_bytes`` the UTF-8 bytes of its text.

It takes the rule's ``delay``, else the scenario's ``ingestion`` for its size (``base + per_mib x
MiB``), on the emulator clock.
"""

from __future__ import annotations

from mockfiles.files.store import StoredFile
from mockfiles.inference.text import tokens
from mockfiles.scenarios.vector_stores import FAILURES, Failure, FileRule, VectorStoreSettings
from mockfiles.vector_stores.chunks import MAX_FILE_TOKENS, Chunking, Spans, spans
from mockfiles.vector_stores.model import Ingestion
from mockfiles.vector_stores.text import Unreadable, extract

EMPTY = Failure("invalid_file", "The file could not be parsed because it is empty.")
UNSUPPORTED = Failure("unsupported_file", FAILURES["unsupported_file"])
TOO_LARGE = Failure("invalid_file", FAILURES["invalid_file"])


def text_of(stored: StoredFile) -> str:
    """The file's text as ingestion reads it ("" when it has none it can read)."""
    try:
        return extract(stored.filename, stored.content())
    except Unreadable:
        return ""


def ingest(stored: StoredFile, chunking: Chunking, rule: FileRule | None) -> Ingestion:
    """How the file's ingestion ends (the slow part: run it without any lock)."""
    if rule is not None and rule.fail is not None:
        return Ingestion(rule.fail, 0, Spans())
    try:
        text = extract(stored.filename, stored.content())
    except Unreadable:
        return Ingestion(UNSUPPORTED, 0, Spans())
    if not text.strip():
        return Ingestion(EMPTY, 0, Spans())
    if tokens(text) > MAX_FILE_TOKENS:
        return Ingestion(TOO_LARGE, 0, Spans())
    cut = spans(text, chunking)
    return Ingestion(None, len(text.encode("utf-8")), cut)


def duration(settings: VectorStoreSettings, stored: StoredFile, rule: FileRule | None) -> float:
    """Seconds the file's ingestion takes on the emulator clock."""
    if rule is not None and rule.delay is not None:
        return rule.delay
    return settings.ingestion(stored.size)
