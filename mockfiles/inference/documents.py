"""What a model stand-in reads of a file: a summary of its text, made from the stored bytes.

A request that passes a file to a model (a Chat file part, a Responses ``input_file``, Qwen-Long's
``fileid://``) gets an answer that names each file it read and something taken from its content,
so that a test can tell the right file reached the model: its first line of text, its word count
and an estimate of its tokens (the prompt's usage counts them). The text is found as the real
services find it, roughly:

- plain text (``.txt``, ``.md``, ``.csv``, ``.json``, source code…): the bytes as UTF-8, read chunk
  by chunk (a 150 MB file is never joined into one copy);
- ``.pdf``: the strings its pages show (``Tj``/``TJ`` operators, in content streams compressed with
  Flate or not); a PDF whose text is in pictures (a scan) has none: it is *blank*;
- ``.docx``, ``.pptx``, ``.xlsx``, ``.epub``: the text of their XML parts;
- anything else (images, ``.mobi``, ``.doc``): no text is extracted (``extracted`` is False), which
  is not the same as blank.

Words are runs of characters between whitespace; tokens are estimated as the Batches stand-ins
estimate them (about 4 characters of ASCII per token, one per character of other scripts).
"""

from __future__ import annotations

import codecs
import io
import re
import zipfile
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

FIRST_LINE_MAX = 120  # characters of the first line an answer quotes
BINARY_SNIFF = 8192  # bytes looked at to tell text from binary
ZIP_TEXT_LIMIT = 64 * 1024 * 1024  # bytes of XML read out of an archive at most (a zip bomb stops here)
NOT_EXTRACTED = frozenset(
    {".png", ".jpg", ".jpeg", ".gif", ".bmp", ".webp", ".tif", ".tiff", ".mobi", ".doc", ".ppt", ".xls", ".zip"}
)
ARCHIVES = {
    ".docx": (re.compile(r"word/(document|header\d*|footer\d*)\.xml"), re.compile(r"</w:p>")),
    ".pptx": (re.compile(r"ppt/slides/slide\d+\.xml"), re.compile(r"</a:p>")),
    ".xlsx": (re.compile(r"xl/sharedStrings\.xml"), re.compile(r"</si>")),
    ".epub": (re.compile(r".+\.x?html?"), re.compile(r"</(?:p|h\d|li|div)>|<br\s*/?>")),
}
TAG = re.compile(r"<[^>]*>")
ENTITIES = {"&lt;": "<", "&gt;": ">", "&amp;": "&", "&quot;": '"', "&apos;": "'", "&#160;": " "}
ENTITY = re.compile("|".join(map(re.escape, ENTITIES)))


@dataclass(frozen=True, slots=True)
class Summary:
    """What a stand-in model takes from a file's content."""

    extracted: bool  # whether text could be looked for (False: a format no stand-in reads)
    first_line: str  # the first line with any text, stripped and cut to FIRST_LINE_MAX; "" when none
    words: int
    tokens: int

    @property
    def blank(self) -> bool:
        """Text was looked for and there is none (whitespace only, a PDF of pictures)."""
        return self.extracted and self.words == 0


@dataclass(frozen=True, slots=True)
class Document:
    """One file a request read: a stored file (``file_id``), inline bytes (``file_data``) or a URL
    (``file_url``, named but not fetched: ``summary`` None, ``size`` None)."""

    source: str  # "file_id", "file_data" or "file_url"
    ref: str  # the file id, or the URL; "" for inline bytes
    filename: str
    size: int | None
    summary: Summary | None
    image: bool = False  # an image a model looks at (its text is not read)

    @property
    def tokens(self) -> int:
        return self.summary.tokens if self.summary is not None else 0


def extension(filename: str) -> str:
    dot = filename.rfind(".")
    return filename[dot:].lower() if dot > 0 else ""


def summarize(filename: str, chunks: Iterable[bytes]) -> Summary:
    """The summary of a file's bytes, by its name's extension (and its bytes, for text)."""
    ext = extension(filename)
    if ext in NOT_EXTRACTED:
        return Summary(False, "", 0, 0)
    if ext == ".pdf":
        return of_lines(pdf_lines(b"".join(chunks)))
    if ext in ARCHIVES:
        return of_lines(archive_lines(b"".join(chunks), ext))
    return text_summary(chunks)


def text_summary(chunks: Iterable[bytes]) -> Summary:
    """A text file's summary, decoded chunk by chunk; a file with NUL bytes near its start is binary."""
    decoder = codecs.getincrementaldecoder("utf-8-sig")(errors="replace")
    counter = _Counter()
    first = True
    for chunk in chunks:
        if first:
            first = False
            if b"\x00" in chunk[:BINARY_SNIFF]:
                return Summary(False, "", 0, 0)
        counter.feed(decoder.decode(chunk))
    counter.feed(decoder.decode(b"", final=True))
    return counter.summary()


def of_lines(lines: Iterable[str]) -> Summary:
    counter = _Counter()
    for line in lines:
        counter.feed(line + "\n")
    return counter.summary()


class _Counter:
    """Words, tokens and the first line of a text fed in pieces (a word may span two pieces)."""

    def __init__(self) -> None:
        self.words = 0
        self.ascii = 0
        self.other = 0
        self.first_line = ""
        self.pending = ""  # the start of a first line not yet ended
        self.in_word = False

    def feed(self, piece: str) -> None:
        if not piece:
            return
        count = len(piece.split())
        if count and self.in_word and not piece[0].isspace():
            count -= 1  # the word the last piece ended in goes on
        self.words += count
        self.in_word = not piece[-1].isspace()
        ascii_count = len(piece.encode("ascii", "ignore"))
        self.ascii += ascii_count
        self.other += len(piece) - ascii_count
        if not self.first_line:
            self._first_line(piece)

    def _first_line(self, piece: str) -> None:
        text = self.pending + piece
        for line in text.splitlines(keepends=True):
            if not line.endswith(("\n", "\r")):
                self.pending = line[-4 * FIRST_LINE_MAX :]
                return
            if line.strip():
                self.first_line = line.strip()[:FIRST_LINE_MAX]
                self.pending = ""
                return
        self.pending = ""

    def summary(self) -> Summary:
        if not self.first_line and self.pending.strip():
            self.first_line = self.pending.strip()[:FIRST_LINE_MAX]
        tokens = -(-self.ascii // 4) + self.other if (self.ascii or self.other) else 0
        return Summary(True, self.first_line, self.words, tokens)


# --- PDF -----------------------------------------------------------------------------------------

STREAM = re.compile(rb"stream\r?\n(.*?)endstream", re.S)
PDF_TOKEN = re.compile(rb"\(|<[0-9A-Fa-f\s]*>|T\*|Tj|TJ|Td|TD|ET|'|\"")
ESCAPES = {b"n": b"\n", b"r": b"\r", b"t": b"\t", b"b": b"\b", b"f": b"\f", b"(": b"(", b")": b")", b"\\": b"\\"}
PDF_ESCAPE = re.compile(rb"\\([nrtbf()\\]|[0-7]{1,3})")


def pdf_lines(data: bytes) -> Iterator[str]:
    """The lines of text a PDF's content streams show, in order; none for a PDF of pictures."""
    for match in STREAM.finditer(data):
        raw = match.group(1)
        try:
            content = zlib.decompress(raw)
        except zlib.error:
            content = raw
        yield from _shown_text(content)


def _pdf_tokens(content: bytes) -> Iterator[bytes]:
    """The text operators of a content stream and their strings (a literal string keeps its
    balanced parentheses and escapes: ``(a (b) \\) c)``)."""
    at = 0
    while True:
        match = PDF_TOKEN.search(content, at)
        if match is None:
            return
        if match.group(0) != b"(":
            at = match.end()
            yield match.group(0)
            continue
        depth, i = 1, match.end()
        while i < len(content) and depth:
            byte = content[i]
            if byte == 0x5C:  # a backslash escapes the next byte
                i += 1
            elif byte == 0x28:
                depth += 1
            elif byte == 0x29:
                depth -= 1
            i += 1
        yield content[match.start() : i]
        at = i


def _shown_text(content: bytes) -> Iterator[str]:
    line: list[str] = []
    pending: list[str] = []  # strings since the last show operator
    for token in _pdf_tokens(content):
        if token[:1] == b"(":
            pending.append(_pdf_string(PDF_ESCAPE.sub(_unescape, token[1:-1])))
        elif token[:1] == b"<":
            hexdigits = re.sub(rb"\s", b"", token[1:-1])
            pending.append(_pdf_string(bytes.fromhex(hexdigits.decode() + ("0" if len(hexdigits) % 2 else ""))))
        elif token in (b"Tj", b"TJ"):
            line += pending
            pending = []
        elif token in (b"'", b'"', b"T*", b"Td", b"TD", b"ET"):
            if token in (b"'", b'"'):
                line += pending
            pending = []
            if line:
                yield "".join(line)
                line = []
    if line:
        yield "".join(line)


def _unescape(match: re.Match[bytes]) -> bytes:
    code = match.group(1)
    return ESCAPES[code] if code in ESCAPES else bytes([int(code, 8) & 0xFF])


def _pdf_string(raw: bytes) -> str:
    if raw.startswith(b"\xfe\xff"):
        return raw[2:].decode("utf-16-be", errors="replace")
    return raw.decode("latin-1")


# --- Office documents and EPUB (zip archives of XML) -----------------------------------------------


def archive_lines(data: bytes, ext: str) -> Iterator[str]:
    """The text of an archive's XML parts, a line per paragraph; nothing when it is not an archive."""
    parts, paragraph = ARCHIVES[ext]
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError):
        return
    budget = ZIP_TEXT_LIMIT
    with archive:
        for info in sorted(archive.infolist(), key=lambda i: _natural(i.filename)):
            if not parts.fullmatch(info.filename) or info.file_size > budget:
                continue
            budget -= info.file_size
            try:
                xml = archive.read(info).decode("utf-8", errors="replace")
            except (zipfile.BadZipFile, OSError, RuntimeError, NotImplementedError):
                continue
            for block in paragraph.split(xml):
                text = ENTITY.sub(lambda m: ENTITIES[m.group(0)], TAG.sub("", block or ""))
                if text.strip():
                    yield text


def _natural(name: str) -> list[object]:
    """``slide2`` before ``slide10``."""
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", name)]


def describe(document: Document) -> str:
    """The line of an answer that names one file read, e.g.
    ``File file-abc123 "report.pdf": 2,048 bytes, 312 words, first line "Quarterly report".``"""
    d = document
    if d.image:
        return f'Image {d.ref} "{d.filename}": {d.size:,} bytes.'
    name = {"file_id": f"File {d.ref}", "file_data": "File data", "file_url": f"File URL {d.ref}"}[d.source]
    if d.summary is None:
        return f'{name} "{d.filename}": not fetched.'
    size = f"{d.size:,} bytes" if d.size is not None else "size unknown"
    s = d.summary
    if not s.extracted:
        return f'{name} "{d.filename}": {size}, no text extracted.'
    if s.blank:
        return f'{name} "{d.filename}": {size}, no text.'
    return f'{name} "{d.filename}": {size}, {s.words:,} words, first line "{s.first_line}".'
