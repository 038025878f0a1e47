"""The one check every consumer of a file makes: may this account use file X for this purpose now?

Batches (input files), Chat Completions and Responses (file inputs), Qwen-Long (``fileid://``),
vector stores and fine-tuning all ask ``check_use`` before they read a file. It checks, in this
order: the file exists in the caller's account (another account's id is a missing one), is not
deleted or expired, has a purpose the consumer accepts, has finished processing (still
``uploaded`` or ended in ``error`` is refused), has a type the consumer reads, is not too large,
and is not empty where the consumer needs content. Each refusal is a domain error whose reason the
consumer names (``Use.reasons``), so each consumer keeps its own words in the error table; the
fields every row may use are ``id``/``file_id``, ``purpose``, ``purposes``, ``filename``,
``extension``, ``extensions``, ``status``, ``status_details``, ``size`` and ``limit``.

A file the account had and deleted (or that expired) is ``missing`` too, unless the consumer words
it apart (``reasons["deleted"]``: DashScope says "cannot be found" for a deleted file and "Invalid
file" for an id it never had). "Empty" is a size of 0, or content the consumer's ``blank`` finds
empty (a document with no text).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Literal

from mockfiles.core.errors import InvalidRequest, MockFilesError, NotFound
from mockfiles.files.service import Files
from mockfiles.files.store import StoredFile

Problem = Literal["missing", "deleted", "purpose", "processing", "failed", "type", "too_large", "empty"]

# The words a consumer uses unless it names its own (rows of core/error_table.py).
DEFAULT_REASONS: Mapping[Problem, str] = {
    "missing": "no_such_file",
    "deleted": "no_such_file",
    "purpose": "file_use_purpose",
    "processing": "file_use_processing",
    "failed": "file_use_failed",
    "type": "file_use_type",
    "too_large": "file_use_too_large",
    "empty": "file_use_empty",
}


@dataclass(frozen=True)
class Use:
    """What a consumer accepts of a file."""

    param: str | None  # the request's parameter that named the file (``input_file_id``…); None: none named
    purposes: frozenset[str] | None = None  # None: any purpose
    extensions: frozenset[str] | None = None  # lower-case, with the dot; None: any type
    max_bytes: int | None = None
    needs_content: bool = False
    reasons: Mapping[Problem, str] = field(default_factory=dict)  # over DEFAULT_REASONS
    missing_status: Literal[400, 404] = 404  # some consumers refuse an unknown id with a 400
    blank: Callable[[StoredFile], bool] | None = None  # with needs_content: content that counts as none
    listed: tuple[str, ...] = ()  # the extensions a refusal of type lists (``extensions``), in the consumer's order

    def refusal(self, problem: Problem, f: StoredFile | None, file_id: str, **extra: object) -> MockFilesError:
        """The consumer's refusal of a file for ``problem`` (also for problems it finds itself: a
        scenario's parse failure is ``failed``)."""
        reason = self.reasons.get(problem, DEFAULT_REASONS[problem])
        fields: dict[str, object] = {"id": file_id, "file_id": file_id, **extra}
        if f is not None:
            fields |= {"purpose": f.purpose, "filename": f.filename, "size": f.size}
            fields |= {"extension": extension_of(f.filename)}
        fields["purposes"] = sorted(self.purposes or ())
        fields["extensions"] = self.listed or tuple(sorted(self.extensions or ()))
        missing = problem in ("missing", "deleted")
        cls = NotFound if missing and self.missing_status == 404 else InvalidRequest
        error = cls(reason, param=self.param)
        error.fields = fields
        return error


def extension_of(filename: str) -> str:
    """``.pdf`` for ``Report.PDF``; empty when the name has none."""
    dot = filename.rfind(".")
    return filename[dot:].lower() if dot > 0 else ""


def check_use(files: Files, account: str, file_id: str, use: Use) -> StoredFile:
    """The file, if ``account`` may use it for ``use`` now; else the consumer's refusal."""
    try:
        f, now = files.get_at(account, file_id)
    except NotFound:
        gone = "deleted" in use.reasons and files.removed(account, file_id)
        raise use.refusal("deleted" if gone else "missing", None, file_id) from None
    if use.purposes is not None and f.purpose not in use.purposes:
        raise use.refusal("purpose", f, file_id)
    status = f.status(now)
    if status != "processed":
        details = f.status_details(now)
        problem: Problem = "processing" if status == "uploaded" else "failed"
        raise use.refusal(problem, f, file_id, status=status, status_details=details, phase=f.phase(now))
    if use.extensions is not None and extension_of(f.filename) not in use.extensions:
        raise use.refusal("type", f, file_id)
    if use.max_bytes is not None and f.size > use.max_bytes:
        raise use.refusal("too_large", f, file_id, limit=use.max_bytes)
    if use.needs_content and (f.size == 0 or (use.blank is not None and use.blank(f))):
        raise use.refusal("empty", f, file_id)
    return f
