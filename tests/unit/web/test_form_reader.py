"""The multipart reader on its own (no HTTP): a form streamed in pieces of any size, file parts
kept as the store keeps them and hashed on the way, refused the moment they cross their limit
(a purpose that comes after the file still decides it), and bytes dropped once a file outgrows
its account's room."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator, Callable

import pytest

from mockfiles.core.errors import InvalidRequest, PayloadTooLarge
from mockfiles.web.multipart.reader import Form, FormLimits, read_form

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


# --- a small body read whole (small_form.py) reads exactly as the push parser does ---------------

HEAD = b'--XyZ\r\nContent-Disposition: form-data; name="file"; filename="a.txt"\r\n'
SMALL_BODIES = {
    # the canonical shape: split in one pass
    "purpose and file": (text("purpose", "batch") + file("file", "a.jsonl", b'{"a": 1}\n') + END, True),
    "an epilogue": (text("purpose", "batch") + b"--XyZ--\r\nepilogue\r\n", True),
    "no CRLF after the closing boundary": (text("purpose", "batch") + b"--XyZ--", True),
    "CRLFs and dashes in the data": (file("file", "a.txt", b"\r\n--\r\n--Xy\r\n\r\n") + END, True),
    "empty values": (text("purpose", "") + file("file", "e.txt", b"") + END, True),
    "no space after the colon, several spaces": (
        b'--XyZ\r\nContent-Disposition:form-data; name="a"\r\nContent-Type:    text/plain\r\n\r\nv\r\n' + END,
        True,
    ),
    "an empty header value": (
        b'--XyZ\r\nContent-Disposition: form-data; name="a"\r\nX-Empty:\r\n\r\nv\r\n' + END,
        True,
    ),
    "eight headers": (HEAD + b"X-A: 1\r\n" * 7 + b"\r\nv\r\n" + END, True),
    "a header line at the parser's limit": (HEAD + b"X-A: " + b"a" * 4219 + b"\r\n\r\nv\r\n" + END, True),
    "a repeated field": (text("purpose", "a") + text("purpose", "b") + END, True),
    "no part name": (b"--XyZ\r\nContent-Type: text/plain\r\n\r\nv\r\n" + END, True),
    "a name that is not UTF-8": (b'--XyZ\r\nContent-Disposition: form-data; name="\xff"\r\n\r\nv\r\n' + END, True),
    "a value that is not UTF-8": (text("purpose", b"\xfe") + END, True),
    "too many parts": (b"".join(text(f"f{i}", "v") for i in range(5)) + END, True),
    "a field too long": (text("note", "x" * 11) + END, True),
    "part headers too long": (HEAD + b"X-Pad: " + b"p" * 100 + b"\r\n\r\nv\r\n" + END, True),
    "a file over its limit": (file("file", "a.txt", b"x" * 300) + END, True),
    "a purpose after the file lowers its limit": (
        file("file", "a.txt", b"x" * 150) + text("purpose", "small") + END,
        True,
    ),
    "a file over the account's room": (file("file", "a.txt", b"y" * 700) + END, True),
    # other shapes: the push parser reads them, and says what is wrong
    "a preamble of CRLFs": (b"\r\n" + text("purpose", "batch") + END, False),
    "padding before the next part": (
        b'--XyZ\r\nContent-Disposition: form-data; name="a"\r\n\r\nv\r\n--XyZ \r\n'
        b'Content-Disposition: form-data; name="b"\r\n\r\nw\r\n' + END,
        False,
    ),
    "junk before the first boundary": (b"junk" + text("purpose", "batch") + END, False),
    "the boundary inside the data, followed by other bytes": (file("file", "a.txt", b"x\r\n--XyZabc") + END, False),
    "the boundary inside the data, then what looks like headers": (
        file("file", "a.txt", b"x\r\n--XyZabX-A: 1\r\n\r\ny") + END,
        False,
    ),
    "more after the first boundary": (b'--XyZabContent-Disposition: form-data; name="a"\r\n\r\nv\r\n' + END, False),
    "no CRLF after the first boundary": (b"--XyZx\r\n" + text("purpose", "batch") + END, False),
    "an empty body": (b"", False),
    "only the closing boundary": (END, False),
    "a part without headers": (b"--XyZ\r\n\r\nv\r\n" + END, False),
    "a header name with a space": (b'--XyZ\r\nContent Disposition: form-data; name="a"\r\n\r\nv\r\n' + END, False),
    "a header without a colon": (b'--XyZ\r\nContent-Disposition form-data; name="a"\r\n\r\nv\r\n' + END, False),
    "an empty header name": (b'--XyZ\r\n: form-data; name="a"\r\n\r\nv\r\n' + END, False),
    "nine headers": (HEAD + b"X-A: 1\r\n" * 8 + b"\r\nv\r\n" + END, False),
    "a header line over the parser's limit": (HEAD + b"X-A: " + b"a" * 4220 + b"\r\n\r\nv\r\n" + END, False),
    "a lone CR in a header value": (b'--XyZ\r\nContent-Disposition: form-data; name="a"\rx\r\n\r\nv\r\n' + END, False),
    "a lone LF in a header value": (b'--XyZ\r\nContent-Disposition: form-data; name="a"\nx\r\n\r\nv\r\n' + END, False),
    "no closing boundary": (text("purpose", "batch"), False),
    "a closing boundary cut short": (text("purpose", "batch") + b"--XyZ-", False),
    "a boundary followed by one dash": (file("file", "a.txt", b"v") + b"--XyZ-x\r\n", False),
    "the headers never end": (b'--XyZ\r\nContent-Disposition: form-data; name="a"\r\n', False),
}
SMALL_LIMITS = FormLimits(max_parts=4, max_field_bytes=10, max_header_bytes=80)


def outcome(body: bytes, piece: int, declared: int | None) -> tuple[object, ...]:
    """What reading ``body`` gives: the form (every field and file part, their bytes, sizes and
    digests) and the error, if any, with everything it says."""
    form, error = Form(), None
    limits = limit_of({"small": 100, None: 200})
    try:
        asyncio.run(
            read_form(
                pieces(body, piece), CONTENT_TYPE, limits, SMALL_LIMITS, form=form, room=lambda: 500, declared=declared
            )
        )
    except (InvalidRequest, PayloadTooLarge) as exc:
        error = (type(exc), exc.reason, exc.message, exc.status, exc.param, vars(exc))
    files = [
        (p.field, p.filename, p.content_type, b"".join(p.chunks), p.size, p.complete, p.room_left, p.sha256, p.limit)
        for p in form.files
    ]
    return form.fields, files, error


@pytest.mark.parametrize(("body", "canonical"), list(SMALL_BODIES.values()), ids=list(SMALL_BODIES))
def test_a_small_body_read_whole_reads_as_the_push_parser_reads_it(body: bytes, canonical: bool) -> None:
    from mockfiles.web.multipart import small as small_form

    assert (small_form.split(body, b"XyZ") is not None) == canonical
    pushed = outcome(body, 1 << 20, None)  # the push parser, given the whole body at once
    assert outcome(body, 1 << 20, len(body)) == pushed  # declared small: read whole
    assert outcome(body, 7, len(body)) == pushed  # the same, gathered from pieces
    if canonical:  # and the same as the push parser given it a byte at a time
        assert outcome(body, 1, None) == pushed


def test_a_body_declared_small_that_is_not_is_streamed_past_the_bound() -> None:
    from mockfiles.web.multipart import small as small_form

    content = b"z" * (small_form.SMALL_FORM_BYTES + 1000)
    body = file("file", "big.txt", content) + END
    form = Form()
    asyncio.run(read_form(pieces(body, 4096), CONTENT_TYPE, lambda field, f: 1 << 30, form=form, declared=10))
    assert b"".join(form.files[0].chunks) == content and form.files[0].sha256 == hashlib.sha256(content).hexdigest()


@pytest.mark.parametrize(
    "content_type",
    [
        "multipart/form-data; boundary=373205ccfe58e0b063841b66508a41a7",  # httpx, the openai SDK
        "multipart/form-data; boundary=------------------------d74496d66958873e",  # curl
        "multipart/form-data; boundary=a'()+_,-./:=?Z",  # every character RFC 2046 allows but the space
        'multipart/form-data; boundary="quoted boundary"',
        "multipart/form-data; boundary=XyZ; charset=utf-8",
        "multipart/form-data; boundary=with space",
        "Multipart/Form-Data; Boundary=XyZ",
        "multipart/form-data;boundary=XyZ",
        "multipart/form-data; boundary=",
        "multipart/form-data; boundary=é",
        "multipart/form-data",
        "text/plain; boundary=XyZ",
        "",
        None,
    ],
)
def test_the_boundary_read_directly_is_the_one_python_multipart_reads(content_type: str | None) -> None:
    from python_multipart.multipart import parse_options_header

    from mockfiles.web.multipart.reader import boundary_of

    mime, options = parse_options_header(content_type or "")
    expected = options.get(b"boundary") if mime == b"multipart/form-data" else None
    try:
        got: bytes | None = boundary_of(content_type)
    except InvalidRequest as exc:
        assert exc.reason in ("not_multipart", "no_boundary")
        got = None
    assert got == (expected or None)
