"""The multipart reader on its own (no HTTP): a form streamed in pieces of any size, file parts
kept as the store keeps them and hashed on the way, refused the moment they cross their limit
(a purpose that comes after the file still decides it), and bytes dropped once a file outgrows
its account's room."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator, Callable

import pytest

from mockfiles.errors import InvalidRequest, PayloadTooLarge
from mockfiles.form_reader import Form, FormLimits, read_form

CONTENT_TYPE = "multipart/form-data; boundary=XyZ"


def text(name: str, value: str | bytes) -> bytes:
    raw = value.encode() if isinstance(value, str) else value
    return b'--XyZ\r\nContent-Disposition: form-data; name="' + name.encode() + b'"\r\n\r\n' + raw + b"\r\n"


def file(name: str, filename: str, content: bytes) -> bytes:
    head = f'--XyZ\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
    return head.encode() + b"Content-Type: text/plain\r\n\r\n" + content + b"\r\n"


END = b"--XyZ--\r\n"


async def pieces(body: bytes, size: int, read: list[int] | None = None) -> AsyncIterator[bytes]:
    for start in range(0, len(body), size):
        if read is not None:
            read.append(start)
        yield body[start : start + size]


def limit_of(limits: dict[str | None, int]) -> Callable[[str, Form], int]:
    return lambda field, form: limits.get(form.value("purpose"), limits[None])


def read(body: bytes, size: int = 1 << 20, limit: int = 1 << 30, **options: object) -> Form:
    form = Form()
    asyncio.run(read_form(pieces(body, size), CONTENT_TYPE, lambda field, f: limit, form=form, **options))  # type: ignore[arg-type]
    return form


@pytest.mark.parametrize("size", [1, 7, 64, 1 << 20])
def test_any_piece_size_reads_the_same_form(size: int) -> None:
    content = bytes(range(256)) * 40
    form = read(text("purpose", "batch") + file("file", "a.jsonl", content) + END, size)
    assert form.fields == [("purpose", "batch")] and form.value("purpose") == "batch"
    [part] = form.files
    assert (part.field, part.filename, part.content_type) == ("file", "a.jsonl", "text/plain")
    assert b"".join(part.chunks) == content and part.size == len(content) and part.complete
    assert part.sha256 == hashlib.sha256(content).hexdigest()


def test_a_file_is_refused_as_soon_as_it_crosses_its_limit() -> None:
    body = file("file", "big.txt", b"x" * 100_000) + END
    seen: list[int] = []
    form = Form()

    async def go() -> None:
        await read_form(pieces(body, 1000, seen), CONTENT_TYPE, lambda field, f: 5000, form=form)

    with pytest.raises(PayloadTooLarge) as info:
        asyncio.run(go())
    assert info.value.limit == 5000 and 5000 < info.value.read <= 6000
    assert len(seen) < 10  # the rest of the body was never read
    assert info.value.message == f"Maximum content size limit (5000) exceeded ({info.value.read} bytes read)"
    assert form.files[0].sha256 is None and not form.files[0].complete


def test_a_purpose_after_the_file_still_decides_its_limit() -> None:
    body = file("file", "a.jsonl", b"x" * 300) + text("purpose", "small") + END
    form = Form()
    with pytest.raises(PayloadTooLarge) as info:
        asyncio.run(read_form(pieces(body, 64), CONTENT_TYPE, limit_of({"small": 200, None: 1000}), form=form))
    assert (info.value.limit, info.value.read) == (200, 300)


def test_a_file_that_outgrows_its_accounts_room_keeps_no_bytes_but_is_counted_to_its_end() -> None:
    asked: list[int] = []

    def room() -> int:
        asked.append(1)
        return 1000

    content = b"y" * 5000
    form = read(file("file", "a.txt", content) + END, 256, room=room)
    [part] = form.files
    assert part.chunks == [] and part.room_left == 1000 and part.size == 5000
    assert part.sha256 == hashlib.sha256(content).hexdigest() and len(asked) == 2  # at the start, then once outgrown


@pytest.mark.parametrize(
    ("body", "content_type", "reason", "message"),
    [
        (
            text("a", "1") + END,
            "text/plain",
            "not_multipart",
            "Invalid Content-Type: this endpoint expects multipart/form-data (got text/plain).",
        ),
        (
            text("a", "1") + END,
            "multipart/form-data",
            "no_boundary",
            "Invalid Content-Type: multipart/form-data needs a boundary parameter.",
        ),
        (
            text("a", "1"),
            CONTENT_TYPE,
            "no_closing_boundary",
            "Malformed multipart body: the closing boundary is missing.",
        ),
        (
            b'--XyZ\r\nContent-Disposition: form-data; name="\xff"\r\n\r\nv\r\n' + END,
            CONTENT_TYPE,
            "name_not_utf8",
            "The field name is not valid UTF-8.",
        ),
        (text("purpose", b"\xfe") + END, CONTENT_TYPE, "value_not_utf8", "The field 'purpose' is not valid UTF-8."),
        (
            b"--XyZ\r\nContent-Type: text/plain\r\n\r\nv\r\n" + END,
            CONTENT_TYPE,
            "no_part_name",
            "Malformed multipart body: a part has no Content-Disposition name.",
        ),
    ],
)
def test_malformed_forms_are_refused_in_the_tables_words(
    body: bytes, content_type: str, reason: str, message: str
) -> None:
    with pytest.raises(InvalidRequest) as info:
        asyncio.run(read_form(pieces(body, 50), content_type, lambda field, f: 1 << 20))
    assert (info.value.reason, info.value.message, info.value.status) == (reason, message, 400)


def test_form_limits_bound_parts_and_fields() -> None:
    many = b"".join(text(f"f{i}", "v") for i in range(5)) + END
    with pytest.raises(InvalidRequest, match="Too many form fields: at most 4 are accepted."):
        read(many, limits=FormLimits(max_parts=4))
    with pytest.raises(InvalidRequest, match="Form field 'note' is longer than 10 bytes.") as info:
        read(text("note", "x" * 11) + END, limits=FormLimits(max_field_bytes=10))
    assert info.value.param == "note"


def test_a_repeated_single_field_is_refused_when_read() -> None:
    form = read(text("purpose", "a") + text("purpose", "b") + END)
    assert form.values("purpose") == ["a", "b"]
    with pytest.raises(InvalidRequest) as info:
        form.value("purpose")
    assert (info.value.param, info.value.message) == ("purpose", "'purpose' was given more than once.")
