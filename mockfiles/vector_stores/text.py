"""The text a vector store reads out of a file, by its type, as file search's parser does.

The types are OpenAI's supported files for retrieval (platform.openai.com/docs/assistants/tools/
file-search/supported-files); a file of another type is refused when it is attached (``SUPPORTED``).
What is read:

- source and text types (``.txt``, ``.md``, ``.json``, ``.py``…): the text, UTF-8 (a BOM dropped) or
  UTF-16 with its BOM; bytes that are neither (a NUL, an invalid sequence) are not text;
- ``.html``: the text between the tags (scripts and styles left out), entities decoded;
- ``.docx`` and ``.pptx``: the text runs of the document's XML (``w:t``, ``a:t``), paragraph by
  paragraph, slides in order;
- ``.pdf``: the strings the page content streams show (``Tj``, ``TJ``, ``'``, ``"``), streams
  inflated when ``/FlateDecode``; a block of text (``BT``…``ET``) is a line;
- ``.doc`` (the old binary format): its runs of printable text, four characters or more.

A file that is not what its type says raises ``Unreadable`` (OpenAI fails such a file with
``unsupported_file``, as users report for some ``.md`` and ``.txt``). Knows nothing about HTTP.
"""

from __future__ import annotations

import html
import re
import zipfile
import zlib
from io import BytesIO

SUPPORTED = (
    ".c",
    ".cpp",
    ".cs",
    ".css",
    ".doc",
    ".docx",
    ".go",
    ".html",
    ".java",
    ".js",
    ".json",
    ".md",
    ".pdf",
    ".php",
    ".pptx",
    ".py",
    ".rb",
    ".sh",
    ".tex",
    ".ts",
    ".txt",
)

_TAG = re.compile(r"<(script|style)\b.*?</\1\s*>|<!--.*?-->|<[^>]*>", re.S | re.I)
_BLOCK = re.compile(r"</?(p|div|br|li|tr|h[1-6]|title|section|article)\b[^>]*>", re.I)
_XML_RUN = re.compile(rb"<(?:w|a):t(?:\s[^>]*)?>([^<]*)</(?:w|a):t>|</(?:w|a):p>")
_SLIDE = re.compile(r"ppt/slides/slide(\d+)\.xml")
_STREAM = re.compile(rb"\bstream\r?\n(.*?)\r?\n?endstream", re.S)
_PDF_TOKEN = re.compile(rb"\(|(?<!<)<(?![<>])|[A-Za-z'\"*]+")
_OCTAL = re.compile(rb"[0-7]{1,3}")
_PDF_ESCAPES = {b"n": b"\n", b"r": b"\r", b"t": b"\t", b"b": b"\b", b"f": b"\f"}
_PRINTABLE = re.compile(rb"[\x20-\x7e\t\r\n]{4,}")
MAX_INFLATED = 64 * 1024 * 1024  # of one PDF stream: a zip bomb stops here


class Unreadable(Exception):
    """The file's bytes are not what its type says."""


def extension_of(filename: str) -> str:
    dot = filename.rfind(".")
    return filename[dot:].lower() if dot > 0 else ""


def supported(filename: str) -> bool:
    return extension_of(filename) in SUPPORTED


def extract(filename: str, data: bytes) -> str:
    """The text of a file of a supported type (``Unreadable`` when its bytes are not of that type)."""
    extension = extension_of(filename)
    if extension in (".docx", ".pptx"):
        return _office(data, extension)
    if extension == ".pdf":
        try:
            return _pdf(data)
        except (ValueError, IndexError, zlib.error) as exc:  # a damaged document reads as none
            raise Unreadable(str(exc)) from None
    if extension == ".doc":
        return b"\n".join(_PRINTABLE.findall(data)).decode("ascii")
    text = decode(data)
    return _html(text) if extension == ".html" else text


def decode(data: bytes) -> str:
    """UTF-8 (a BOM dropped), or UTF-16 with its BOM; anything else is not text."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            raise Unreadable("not UTF-16") from None
    if b"\x00" in data:
        raise Unreadable("binary")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise Unreadable("not UTF-8") from None


def _html(text: str) -> str:
    text = _BLOCK.sub("\n", text)
    return html.unescape(_TAG.sub(" ", text))


def _office(data: bytes, extension: str) -> str:
    try:
        with zipfile.ZipFile(BytesIO(data)) as archive:
            if extension == ".docx":
                parts = ["word/document.xml"]
            else:
                slides = [(int(m.group(1)), name) for name in archive.namelist() if (m := _SLIDE.fullmatch(name))]
                parts = [name for _, name in sorted(slides)]
            if not parts or parts[0] not in archive.namelist():
                raise Unreadable("no document part")
            lines: list[str] = []
            for part in parts:
                lines.append(_runs(archive.read(part)).rstrip("\n"))
            return "\n".join(lines)
    except (zipfile.BadZipFile, KeyError, EOFError, ValueError) as exc:
        raise Unreadable(str(exc)) from None


def _runs(xml: bytes) -> str:
    out: list[str] = []
    for match in _XML_RUN.finditer(xml):
        run = match.group(1)
        out.append(html.unescape(run.decode("utf-8", "replace")) if run is not None else "\n")
    return "".join(out)


def _pdf(data: bytes) -> str:
    if not data.lstrip()[:5] == b"%PDF-":
        raise Unreadable("not a PDF")
    lines: list[str] = []
    for match in _STREAM.finditer(data):
        body = match.group(1)
        head = data[max(0, data.rfind(b"obj", 0, match.start())) : match.start()]  # the stream's dictionary
        if b"/FlateDecode" in head:
            try:
                inflater = zlib.decompressobj()
                body = inflater.decompress(body, MAX_INFLATED)
            except zlib.error:
                continue
        elif b"/Filter" in head:
            continue  # images and fonts: nothing to read
        lines.append(_shown(body))
    return "\n".join(line for line in lines if line)


def _shown(content: bytes) -> str:
    """The strings a content stream shows (``Tj``, ``TJ``, ``'``, ``"``), a line per text block."""
    lines: list[str] = []
    line: list[str] = []
    pending: list[bytes] = []  # the strings given since the last operator
    i = 0
    while (token := _PDF_TOKEN.search(content, i)) is not None:
        kind = token.group(0)
        if kind == b"(":
            string, i = _literal(content, token.start())
            pending.append(string)
            continue
        if kind == b"<":
            end = content.find(b">", token.end())
            if end < 0:
                break
            digits = re.sub(rb"\s", b"", content[token.end() : end])
            try:
                pending.append(bytes.fromhex((digits + b"0" * (len(digits) % 2)).decode("latin-1")))
            except ValueError:  # not a hex string after all
                pass
            i = end + 1
            continue
        if kind in (b"Tj", b"TJ", b"'", b'"'):
            if kind in (b"'", b'"') and line:
                lines.append("".join(line))
                line = []
            line += [_text(string) for string in pending]
        elif kind == b"ET" and line:
            lines.append("".join(line))
            line = []
        pending = []
        i = token.end()
    if line:
        lines.append("".join(line))
    return "\n".join(text.strip() for text in lines if text.strip())


def _literal(content: bytes, start: int) -> tuple[bytes, int]:
    """A literal string ``(...)`` from ``start``: balanced parentheses, escapes resolved; and where it ends."""
    out = bytearray()
    depth, i, n = 0, start, len(content)
    while i < n:
        c = content[i : i + 1]
        if c == b"\\" and i + 1 < n:
            nxt = content[i + 1 : i + 2]
            octal = _OCTAL.match(content, i + 1)
            if octal:
                out.append(int(octal.group(0), 8) & 0xFF)
                i = octal.end()
                continue
            out += _PDF_ESCAPES.get(nxt, nxt if nxt not in b"\r\n" else b"")
            i += 2
            continue
        if c == b"(":
            depth += 1
            if depth == 1:
                i += 1
                continue
        elif c == b")":
            depth -= 1
            if depth == 0:
                return bytes(out), i + 1
        out += c
        i += 1
    return bytes(out), n


def _text(string: bytes) -> str:
    if string.startswith(b"\xfe\xff"):
        return string[2:].decode("utf-16-be", "replace")
    return string.decode("latin-1")
