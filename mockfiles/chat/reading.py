"""Reading the files a model request names, through the one check every consumer makes
(``files/use.py``): what each API accepts of a file, and the ``Document`` a stand-in model reads.

- OpenAI's Chat file parts and Responses ``input_file``: purpose ``user_data`` or ``assistants``,
  processed, of a type the service puts in a model's context (the list its refusal names);
  ``input_image`` with a ``file_id``: an image (``vision`` too). An unknown id is a 404, like the
  Files API's own.
- DashScope's ``fileid://`` (Qwen-Long): purpose ``file-extract``, parsed, a document (not an
  image), at most 150 MB, with text; each refusal in DashScope's words, a 400.
- Inline ``file_data``: a base64 data URL of a PDF; ``file_url``: an http(s) URL of a supported
  type, named in the answer but not fetched.

A batch line whose body names files (``refs_in``) goes through the same check (``LineFiles``).
"""

from __future__ import annotations

import base64
import binascii
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import replace
from typing import Any
from urllib.parse import unquote, urlsplit

from mockfiles.chat.prompt import FileRef, fileid_refs
from mockfiles.core.errors import InvalidRequest, MockFilesError, say
from mockfiles.core.profiles import MiB
from mockfiles.files.service import Files
from mockfiles.files.store import StoredFile
from mockfiles.files.use import Use, check_use
from mockfiles.inference.documents import Document, Summary, extension, summarize
from mockfiles.inference.text import Answer

# The types OpenAI puts in a model's context, as its refusal lists them ("Expected context stuffing
# file type to be a supported format: .art, .bat, … but got .csv.", quoted in client code).
CONTEXT_TYPES = (
    ".art", ".bat", ".brf", ".c", ".cls", ".css", ".diff", ".eml", ".es", ".h", ".hs", ".htm", ".html", ".ics",
    ".ifb", ".java", ".js", ".json", ".ksh", ".ltx", ".mail", ".markdown", ".md", ".mht", ".mhtml", ".mjs",
    ".nws", ".patch", ".pdf", ".pl", ".pm", ".pot", ".py", ".rst", ".scala", ".sh", ".shtml", ".srt", ".sty",
    ".tex", ".text", ".txt", ".vcf", ".vtt", ".xml", ".yaml", ".yml",
)  # fmt: skip
IMAGE_TYPES = (".png", ".jpeg", ".jpg", ".webp", ".gif")
OPENAI_PURPOSES = frozenset({"user_data", "assistants"})
IMAGE_PURPOSES = frozenset({"vision", "user_data", "assistants"})
QWEN_LONG_TYPES = (".txt", ".docx", ".pdf", ".xlsx", ".epub", ".mobi", ".md", ".csv", ".json")
QWEN_LONG_MAX_BYTES = 150 * MiB
FILE_DATA_MAX = 73_400_320  # characters of inline file data (the API reference's limit)

OPENAI_FILE = Use(
    "file_id",
    purposes=OPENAI_PURPOSES,
    extensions=frozenset(CONTEXT_TYPES),
    listed=CONTEXT_TYPES,
    reasons={"type": "input_file_type"},
)
OPENAI_IMAGE = Use(
    "file_id",
    purposes=IMAGE_PURPOSES,
    extensions=frozenset(IMAGE_TYPES),
    listed=IMAGE_TYPES,
    reasons={"type": "input_image_type"},
)


def summary_of(f: StoredFile) -> Summary:
    """What a model reads of a stored file, made once (a stored file never changes)."""
    made = f.summary
    if not isinstance(made, Summary):
        made = f.summary = summarize(f.filename, f.chunks)
    return made


QWEN_LONG = Use(
    None,
    purposes=frozenset({"file-extract"}),
    extensions=frozenset(QWEN_LONG_TYPES),
    max_bytes=QWEN_LONG_MAX_BYTES,
    needs_content=True,
    blank=lambda f: summary_of(f).blank,
    missing_status=400,
    reasons={
        "missing": "ds_file_invalid",
        "deleted": "ds_file_gone",
        "purpose": "ds_file_invalid",
        "processing": "ds_file_processing",
        "failed": "ds_file_parse_error",
        "type": "ds_file_format",
        "too_large": "ds_file_size",
        "empty": "ds_file_blank",
    },
)

ParseFails = Callable[[StoredFile], bool]  # a scenario's parse failure for this file


class Reader:
    """Reads the files one request names, for one account, in one API family."""

    def __init__(self, files: Files, account: str, family: str, parse_fails: ParseFails | None = None) -> None:
        self.files = files
        self.account = account
        self.family = family
        self.parse_fails = parse_fails

    def use_for(self, ref: FileRef) -> Use:
        if self.family == "dashscope":
            return QWEN_LONG
        return replace(OPENAI_IMAGE if ref.image else OPENAI_FILE, param=ref.param)

    def stored(self, ref: FileRef) -> StoredFile | None:
        """The stored file a reference names, if the account has it (for matching only: no check)."""
        if ref.source != "file_id":
            return None
        try:
            return self.files.get(self.account, ref.value)
        except MockFilesError:
            return None

    def read(self, ref: FileRef, api: str = "chat") -> Document:
        if ref.source == "file_id":
            use = self.use_for(ref)
            f = check_use(self.files, self.account, ref.value, use)
            if self.parse_fails is not None and self.parse_fails(f):
                raise use.refusal("failed", f, f.id, status="error")
            if ref.image:
                return Document("file_id", f.id, f.filename, f.size, None, image=True)
            return Document("file_id", f.id, f.filename, f.size, summary_of(f))
        if ref.source == "file_data":
            data = inline_pdf(ref, api)
            name = ref.filename or "file.pdf"
            return Document("file_data", "", name, len(data), summarize("inline.pdf", (data,)))
        return url_document(ref)


def inline_pdf(ref: FileRef, api: str) -> bytes:
    """The bytes of inline ``file_data``: a base64 data URL of a PDF, as the API checks it."""
    value = ref.value
    if len(value) > FILE_DATA_MAX:
        raise InvalidRequest("string_too_long", param=ref.param, limit=FILE_DATA_MAX, length=len(value))
    head, comma, data = value.partition(",")
    if not (value.startswith("data:") and comma and head.endswith(";base64")):
        raise InvalidRequest("file_data_not_data_url", param=ref.param)
    mime = head[len("data:") : -len(";base64")].strip().lower()
    if mime != "application/pdf":
        if api == "responses":
            raise InvalidRequest("input_file_data_type", param=ref.param, mime=mime)
        raise InvalidRequest("file_data_not_pdf", param=ref.param, mime=mime)
    try:
        return base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidRequest("file_data_not_base64", param=ref.param) from None


def url_document(ref: FileRef) -> Document:
    """A ``file_url``: an http(s) URL whose name has a supported type; not fetched."""
    parts = urlsplit(ref.value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise InvalidRequest("input_file_url", param=ref.param, value=ref.value)
    name = unquote(parts.path.rsplit("/", 1)[-1]) or parts.netloc
    if extension(name) not in CONTEXT_TYPES:
        raise InvalidRequest("input_file_type", param=ref.param, extension=extension(name), extensions=CONTEXT_TYPES)
    return Document("file_url", ref.value, ref.filename or name, None, None)


# --- file references in a batch line's body ------------------------------------------------------


def refs_in(url: str, body: Mapping[str, Any], fileid: bool = False) -> Iterator[FileRef]:
    """The files a batch line's body names: Chat file parts (and, with ``fileid``, DashScope's
    ``fileid://`` system messages), Responses input_file/input_image (only well-formed ones: the
    endpoint's own check refuses the rest)."""
    if url.endswith("/chat/completions"):
        messages = body.get("messages")
        for i, message in enumerate(messages if isinstance(messages, list) else ()):
            content = message.get("content") if isinstance(message, dict) else None
            if fileid and isinstance(content, str) and message.get("role") == "system":
                yield from fileid_refs(content, i)
            for j, part in enumerate(content if isinstance(content, list) else ()):
                given = part.get("file") if isinstance(part, dict) and part.get("type") == "file" else None
                if isinstance(given, dict):
                    yield from _ref(given, f"messages[{i}].content[{j}].file", i, ("file_id", "file_data"))
    elif url.endswith("/responses"):
        items = body.get("input")
        for i, item in enumerate(items if isinstance(items, list) else ()):
            content = item.get("content") if isinstance(item, dict) else None
            for j, part in enumerate(content if isinstance(content, list) else ()):
                kind = part.get("type") if isinstance(part, dict) else None
                if kind in ("input_file", "input_image") and isinstance(part, dict):
                    sources = ("file_id", "file_data", "file_url") if kind == "input_file" else ("file_id",)
                    for ref in _ref(part, f"input[{i}].content[{j}]", i, sources):
                        yield replace(ref, image=kind == "input_image")


def _ref(part: Mapping[str, Any], path: str, index: int, sources: tuple[str, ...]) -> Iterator[FileRef]:
    for source in sources:
        value = part.get(source)
        if isinstance(value, str):
            filename = part.get("filename")
            name = filename if isinstance(filename, str) else None
            yield FileRef(f"{path}.{source}", source, value, name, index=index)  # type: ignore[arg-type]
            return


def line_files(files: Files, url: str, account: str, dialect: str) -> LineFiles | None:
    """The reader of the files a batch's lines name, for the endpoints whose lines may name files."""
    return LineFiles(files, account, dialect) if url.endswith(("/chat/completions", "/responses")) else None


class LineFiles:
    """The files a batch's lines name, read through the same check as the model routes', once per
    file (a 50,000-line batch over one document reads it once): each line's documents, or the
    refusal it gets, as the batch's dialect words it."""

    def __init__(self, files: Files, account: str, dialect: str) -> None:
        self.family = "dashscope" if dialect == "dashscope-compatible" else "openai"
        self.reader = Reader(files, account, self.family)
        self.dialect = dialect
        self._seen: dict[tuple[str, str, str], Document | MockFilesError] = {}
        self._lock = threading.Lock()

    def read(self, url: str, body: Mapping[str, Any]) -> tuple[Document, ...] | Answer:
        documents: list[Document] = []
        api = "responses" if url.endswith("/responses") else "chat"
        for ref in refs_in(url, body, fileid=self.family == "dashscope"):
            key = (ref.source, ref.value, ref.param)
            with self._lock:
                found = self._seen.get(key) if ref.source != "file_data" else None  # inline bytes: each line's own
            if found is None:
                try:
                    found = self.reader.read(ref, api)
                except MockFilesError as err:
                    found = err
                if ref.source != "file_data":
                    with self._lock:
                        self._seen[key] = found
            if isinstance(found, MockFilesError):
                said = say(found, self.dialect, "")
                error = {"message": said.message, "type": said.type, "param": said.param, "code": said.code}
                return Answer(said.status, {"error": error})
            documents.append(found)
        return tuple(documents)
