"""Reading a multipart upload as it streams in.

Starlette's form parser spools files to temporary files and only knows one size limit
for text fields, so this drives python-multipart's push parser directly: each file
part's bytes go straight into the chunks the store will keep (one copy, no
temporary file), and a file part is refused the moment it crosses its limit, before
the rest of the body is read.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MAX_BOUNDARY_LENGTH, MultipartParser, parse_options_header

if TYPE_CHECKING:
    from python_multipart.multipart import MultipartCallbacks

from mockfiles.core.errors import InvalidRequest, PayloadTooLarge
from mockfiles.files.digest import KeptDigest, StreamDigest
from mockfiles.web.multipart import small as small_form
from mockfiles.web.multipart.small import SMALL_FORM_BYTES

FLUSH_BYTES = 64 * 1024  # small pieces are gathered into chunks of about this size
UNLIMITED = 2**63


@dataclass(eq=False)
class FilePart:
    """One file part as it streams in: its bytes kept as the store will keep them, its size
    counted on the way, its sha256 computed from the kept bytes when asked for (digest.py).
    ``limit`` is its size limit (413 when crossed); ``room_of`` says how many bytes the
    account can still store, and is asked again each time the part outgrows the last answer:
    once the part is larger than the room left, its bytes are dropped (it cannot be stored),
    but it is still counted and hashed (as it streams) to its end, so that the refusal can
    name its size."""

    field: str
    filename: str
    content_type: str | None
    limit: int
    room_of: Callable[[], int] | None = None
    chunks: list[bytes] = dataclasses.field(default_factory=list)
    size: int = 0
    complete: bool = False  # its closing boundary was read
    room_left: int | None = None  # the room the account had when the part outgrew it (its bytes were dropped)
    kept: KeptDigest | None = None  # once complete, of its kept bytes
    digest: StreamDigest | None = None  # of its bytes as they stream, once they are dropped
    streamed_sha256: str | None = None  # once complete, when its bytes were dropped
    _room: int = UNLIMITED
    _pending: bytearray = dataclasses.field(default_factory=bytearray)

    def __post_init__(self) -> None:
        if self.room_of is not None:
            self._room = self.room_of()

    def write(self, data: bytes, start: int, end: int) -> None:
        n = end - start
        self.size += n
        if self.size > self.limit:
            raise PayloadTooLarge("size_limit_read", limit=self.limit, read=self.size)
        if self.size > self._room:
            self._outgrow_room()
        if self.digest is not None:
            self.digest.update(memoryview(data)[start:end])
            return
        if n >= FLUSH_BYTES // 4 and not self._pending:
            self._keep(data[start:end])
            return
        self._pending += data[start:end]
        if len(self._pending) >= FLUSH_BYTES:
            self.flush()

    def flush(self) -> None:
        if self._pending:
            self._keep(bytes(self._pending))
            self._pending.clear()

    def _keep(self, chunk: bytes) -> None:
        self.chunks.append(chunk)

    @property
    def sha256(self) -> str | None:
        """Its bytes' digest once it is complete (computed now if it has not been yet)."""
        return self.kept.value() if self.kept is not None else self.streamed_sha256

    def end(self) -> None:
        """Its closing boundary was read."""
        self.flush()
        self.complete = True
        if self.digest is not None:
            self.digest.finish()
        else:
            self.kept = KeptDigest(self.chunks)

    def _outgrow_room(self) -> None:
        """Ask the account's room again (other uploads may have freed or taken some); drop the
        bytes if the part no longer fits."""
        room = self.room_of() if self.room_of is not None else UNLIMITED
        if self.size <= room:
            self._room = room
            return
        self.flush()
        self.digest = StreamDigest()
        for chunk in self.chunks:
            self.digest.update(chunk)
        self.chunks.clear()
        self.room_left = room
        self._room = UNLIMITED  # asked no more


@dataclass(eq=False)
class Form:
    fields: list[tuple[str, str]] = field(default_factory=list)
    files: list[FilePart] = field(default_factory=list)
    file_fields: list[str] = field(default_factory=list)  # every file part's name, one refused at its head too

    def values(self, name: str) -> list[str]:
        return [value for key, value in self.fields if key == name]

    def value(self, name: str) -> str | None:
        """The one value of a single-valued field; a repeated field is a 400."""
        found = None
        for key, value in self.fields:
            if key == name:
                if found is not None:
                    raise InvalidRequest("repeated_field", param=name)
                found = value
        return found


# Given a file part's field name and the form read so far, the most bytes it may have.
# Asked when the part begins, and again for the parts already read each time a text
# field ends (a ``purpose`` sent after the file decides the file's limit).
FileLimit = Callable[[str, Form], int]
# How many more bytes the account can store now (see FilePart).
Room = Callable[[], int]


@dataclass(frozen=True)
class FormLimits:
    max_parts: int = 64
    max_field_bytes: int = 64 * 1024
    max_header_bytes: int = 8 * 1024


USUAL_CONTENT_TYPE = "multipart/form-data; boundary="
BOUNDARY_CHARS = frozenset("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ'()+_,-./:=?")


def boundary_of(content_type: str | None) -> bytes:
    """The form's boundary. What httpx (so the openai SDK) and curl send, ``multipart/form-data;
    boundary=`` and an unquoted boundary, is read directly (python-multipart's general parse of
    the options is a measurable share of a small upload); anything else through it."""
    if content_type is not None and content_type.startswith(USUAL_CONTENT_TYPE):
        given = content_type[len(USUAL_CONTENT_TYPE) :]
        if given and BOUNDARY_CHARS.issuperset(given):
            return given.encode("latin-1")
    mime, options = parse_options_header(content_type or "")
    if mime != b"multipart/form-data":
        raise InvalidRequest("not_multipart", content_type=content_type)
    boundary = options.get(b"boundary")
    if not boundary:
        raise InvalidRequest("no_boundary")
    return boundary


async def read_form(
    stream: AsyncIterator[bytes],
    content_type: str | None,
    file_limit: FileLimit,
    limits: FormLimits = FormLimits(),
    *,
    room: Room | None = None,
    form: Form | None = None,
    declared: int | None = None,
) -> Form:
    """Parse the whole multipart body into ``form`` (which then shows what was read even
    when this raises); raises InvalidRequest or PayloadTooLarge. Each complete file part
    has its ``sha256`` when this returns (that of kept bytes made when first read). A body
    ``declared`` (its Content-Length) at most ``SMALL_FORM_BYTES`` long is read whole and
    split in one pass when it has the canonical shape (small_form.py); the same callbacks
    see it."""
    reader = _Reader(file_limit, limits, room, form if form is not None else Form())
    try:
        boundary = boundary_of(content_type)
        try:
            body, whole = b"", False
            if declared is not None and declared <= SMALL_FORM_BYTES and len(boundary) <= MAX_BOUNDARY_LENGTH:
                body, whole = await _small_body(stream)
            parts = small_form.split(body, boundary) if whole else None
            if parts is not None:
                reader.replay(body, parts)
            else:
                parser = _push_parser(boundary, reader)
                if body:
                    parser.write(body)
                async for chunk in stream:
                    if chunk:
                        parser.write(chunk)
                parser.finalize()
        except FormParserError as exc:
            raise InvalidRequest("malformed_multipart", detail=str(exc)) from None
        if not reader.ended:
            raise InvalidRequest("no_closing_boundary")
    finally:
        await reader.finish_digests()
    return reader.form


def _push_parser(boundary: bytes, reader: _Reader) -> MultipartParser:
    try:
        return MultipartParser(boundary, reader.callbacks())
    except ValueError as exc:  # a boundary it cannot search for
        raise InvalidRequest("bad_boundary", detail=str(exc)) from None


async def _small_body(stream: AsyncIterator[bytes]) -> tuple[bytes, bool]:
    """A body declared small: its bytes, and whether that is all of it. Past ``SMALL_FORM_BYTES``
    (a declared length is not trusted) it stops: the push parser reads what was gathered, then
    the rest of the stream."""
    pieces: list[bytes] = []
    size = 0
    async for chunk in stream:
        pieces.append(chunk)
        size += len(chunk)
        if size > SMALL_FORM_BYTES:
            return b"".join(pieces), False
    return (pieces[0] if len(pieces) == 1 else b"".join(pieces)), True


class _Reader:
    """The callbacks python-multipart calls while it parses."""

    def __init__(self, file_limit: FileLimit, limits: FormLimits, room: Room | None, form: Form) -> None:
        self.form = form
        self.file_limit = file_limit
        self.limits = limits
        self.room = room
        self.ended = False
        self.parts = 0
        self._header_field = bytearray()
        self._header_value = bytearray()
        self._header_bytes = 0
        self._disposition: bytes | None = None
        self._part_type: bytes | None = None
        self._file: FilePart | None = None
        self._name = ""
        self._text = bytearray()

    def callbacks(self) -> MultipartCallbacks:
        return {
            "on_part_begin": self.on_part_begin,
            "on_header_field": self.on_header_field,
            "on_header_value": self.on_header_value,
            "on_header_end": self.on_header_end,
            "on_headers_finished": self.on_headers_finished,
            "on_part_data": self.on_part_data,
            "on_part_end": self.on_part_end,
            "on_end": self.on_end,
        }

    def replay(self, body: bytes, parts: list[small_form.Part]) -> None:
        """The callbacks the push parser would call for a body split by small_form, in its
        order (no call for an empty header value or empty data, as it makes none)."""
        for headers, start, end in parts:
            self.on_part_begin()
            for name_start, name_end, value_start, value_end in headers:
                self.on_header_field(body, name_start, name_end)
                if value_end > value_start:
                    self.on_header_value(body, value_start, value_end)
                self.on_header_end()
            self.on_headers_finished()
            if end > start:
                self.on_part_data(body, start, end)
            self.on_part_end()
        self.on_end()

    def on_part_begin(self) -> None:
        self.parts += 1
        if self.parts > self.limits.max_parts:
            raise InvalidRequest("too_many_parts", limit=self.limits.max_parts)
        self._disposition = None
        self._part_type = None
        self._file = None
        self._header_bytes = 0
        self._text.clear()

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self._header_bytes += end - start
        if self._header_bytes > self.limits.max_header_bytes:
            raise InvalidRequest("part_headers_too_long", limit=self.limits.max_header_bytes)
        self._header_field += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self._header_bytes += end - start  # a part's header names and values count alike
        if self._header_bytes > self.limits.max_header_bytes:
            raise InvalidRequest("part_headers_too_long", limit=self.limits.max_header_bytes)
        self._header_value += data[start:end]

    def on_header_end(self) -> None:
        name = bytes(self._header_field).strip().lower()
        if name == b"content-disposition":
            self._disposition = bytes(self._header_value)
        elif name == b"content-type":
            self._part_type = bytes(self._header_value)
        self._header_field.clear()
        self._header_value.clear()

    def on_headers_finished(self) -> None:
        disposition, options = part_disposition(self._disposition or b"")
        if disposition != b"form-data" or b"name" not in options:
            raise InvalidRequest("no_part_name")
        self._name = _text(options[b"name"], "name")
        if b"filename" in options:
            filename = _text(options[b"filename"], "filename", self._name)
            content_type = self._part_type.decode("latin-1").strip() if self._part_type else None
            self.form.file_fields.append(self._name)
            limit = self.file_limit(self._name, self.form)
            self._file = FilePart(self._name, filename, content_type, limit, self.room)
            self.form.files.append(self._file)

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        if self._file is not None:
            self._file.write(data, start, end)
            return
        if len(self._text) + end - start > self.limits.max_field_bytes:
            raise InvalidRequest("field_too_long", param=self._name, limit=self.limits.max_field_bytes)
        self._text += data[start:end]

    def on_part_end(self) -> None:
        if self._file is not None:
            self._file.end()
            self._file = None
        else:
            self.form.fields.append((self._name, _text(bytes(self._text), "value", self._name)))
            self._recheck_files()

    def _recheck_files(self) -> None:
        """A field read after a file can change its limit (``purpose`` decides it): a file
        already over its new limit is refused at once."""
        for part in self.form.files:
            limit = self.file_limit(part.field, self.form)
            if part.size > limit:
                raise PayloadTooLarge("size_limit_read", limit=limit, read=part.size)
            part.limit = limit

    async def finish_digests(self) -> None:
        """The sha256 of every complete file part whose bytes were dropped (the kept ones are
        hashed when asked for); the digests of the incomplete ones are dropped."""
        for part in self.form.files:
            if part.digest is None:
                continue
            if part.complete:
                part.streamed_sha256 = await part.digest.hexdigest()
            else:
                part.digest.cancel()

    def on_end(self) -> None:
        self.ended = True


@functools.lru_cache(maxsize=256)
def part_disposition(raw: bytes) -> tuple[bytes, dict[bytes, bytes]]:
    """A part's Content-Disposition, parsed. Clients send the same few again and again
    (``form-data; name="purpose"``), and parsing one with python-multipart is a measurable share
    of a small upload; the parsed options are only read, never changed. A quoted value left open
    (a filename cut by an injected CRLF, which python-multipart would keep as ``"a``) is malformed."""
    if not _quotes_closed(raw):
        detail = "a quoted value in a part's Content-Disposition is not closed on its line."
        raise InvalidRequest("malformed_multipart", detail=detail)
    return parse_options_header(raw)


def _quotes_closed(raw: bytes) -> bool:
    if b"\\" not in raw:
        return raw.count(b'"') % 2 == 0
    inside = escaped = False
    for byte in raw:
        if escaped:
            escaped = False
        elif inside and byte == 0x5C:  # a backslash escapes the next byte inside quotes
            escaped = True
        elif byte == 0x22:
            inside = not inside
    return not inside


def _text(raw: bytes, part: str, field: str = "") -> str:
    """Header parameters arrive as raw bytes; clients send UTF-8 in them (``part``: the field's
    ``name``, a file's ``filename`` or a field's ``value``)."""
    try:
        return raw.decode("utf-8")
    except UnicodeError:
        raise InvalidRequest(f"{part}_not_utf8", field=field) from None
