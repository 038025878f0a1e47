"""The text a vector store reads out of a file, by its type, as file search's parser does.

The types are OpenAI's supported files for retrieval (platform.openai.com/docs/assistants/tools/
file-search/supported-files); a file of another type is refused when it is attached (``SUPPORTED``).
What is read:

- source and text types (``.txt``, ``.md``, ``.json``, ``.py``…): the text, UTF-8 (a BOM dropped) or
  UTF-16 with its BOM; bytes that are neither (a NUL, an invalid sequence) are not text;
- ``.html``: the text between the tags (scripts and styles left out), entities decoded;
- ``.docx`` and ``.pptx``: the text of the document's XML, a line per paragraph, slides in order;
- ``.pdf``: the strings the page content streams show, a line per text line;
- ``.doc`` (the old binary format): its runs of printable text, four characters or more.

PDF and Office documents are read as the model stand-ins read them (``inference/documents.py``), once
they are known to be what their type says. A file that is not what its type says raises
``Unreadable`` (OpenAI fails such a file with ``unsupported_file``, as users report for some ``.md``
and ``.txt``). Knows nothing about HTTP.
"""

from __future__ import annotations

import html
import re
import zipfile
from io import BytesIO

from mockfiles.inference.documents import archive_lines, pdf_lines

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
_PRINTABLE = re.compile(rb"[\x20-\x7e\t\r\n]{4,}")
_PARTS = {".docx": "word/document.xml", ".pptx": "ppt/slides/slide1.xml"}  # what a document of the type has


class Unreadable(Exception):
    """The file's bytes are not what its type says."""


def extension_of(filename: str) -> str:
    dot = filename.rfind(".")
    return filename[dot:].lower() if dot > 0 else ""


def extract(filename: str, data: bytes) -> str:
    """The text of a file of a supported type (``Unreadable`` when its bytes are not of that type)."""
    extension = extension_of(filename)
    if extension in _PARTS:
        if _PARTS[extension] not in _members(data):
            raise Unreadable(f"not a {extension} document")
        return "\n".join(archive_lines(data, extension))
    if extension == ".pdf":
        if data.lstrip()[:5] != b"%PDF-":
            raise Unreadable("not a PDF")
        return "\n".join(pdf_lines(data))
    if extension == ".doc":
        return b"\n".join(_PRINTABLE.findall(data)).decode("ascii")
    text = decode(data)
    return _html(text) if extension == ".html" else text


def _members(data: bytes) -> list[str]:
    try:
        with zipfile.ZipFile(BytesIO(data)) as archive:
            return archive.namelist()
    except (zipfile.BadZipFile, ValueError, EOFError):
        return []


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
