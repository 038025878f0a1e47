"""A file's text cut into chunks by tokens, as a vector store's chunking strategy says.

Tokens are counted without a tokenizer (tiktoken downloads its tables when first used; these
counts need no network): the estimate every model stand-in here uses (``inference.text.tokens``),
OpenAI's rule of thumb of about 4 characters of English per token and one token per character of
other scripts. A chunk holds at most ``max_chunk_size_tokens`` of them and starts
``chunk_overlap_tokens`` before the previous one ended; both ends move back to the nearest
whitespace in the chunk's second half, so no word is cut. A chunk is a pair of offsets into the
text (``Spans``): the text itself is not kept twice.
"""

from __future__ import annotations

import re
from array import array
from dataclasses import dataclass

from mockfiles.inference.text import tokens

AUTO_MAX, AUTO_OVERLAP = 800, 400  # the `auto` strategy, as OpenAI documents it
MAX_FILE_TOKENS = 5_000_000  # "no more than 5,000,000 tokens per file"
CHARS_PER_TOKEN = 4
WHITESPACE = (" ", "\n", "\t", "\r")
_WORD = re.compile(r"\S")


@dataclass(frozen=True)
class Chunking:
    """A static chunking strategy (``auto`` is 800 and 400); ``auto`` remembers how it was asked for."""

    max_tokens: int = AUTO_MAX
    overlap: int = AUTO_OVERLAP
    auto: bool = True

    def as_dict(self) -> dict[str, object]:
        """How a vector store file shows it: always as static sizes (OpenAI shows ``auto`` so)."""
        return {
            "type": "static",
            "static": {"max_chunk_size_tokens": self.max_tokens, "chunk_overlap_tokens": self.overlap},
        }


class Spans:
    """Chunk boundaries: start and end offsets (characters) of each chunk, in one array."""

    __slots__ = ("bounds",)

    def __init__(self, bounds: array[int] | None = None) -> None:
        self.bounds: array[int] = bounds if bounds is not None else array("L")

    def __len__(self) -> int:
        return len(self.bounds) // 2

    def __getitem__(self, i: int) -> tuple[int, int]:
        return self.bounds[2 * i], self.bounds[2 * i + 1]

    def texts(self, text: str) -> list[str]:
        return [text[self.bounds[2 * i] : self.bounds[2 * i + 1]] for i in range(len(self))]


def spans(text: str, chunking: Chunking) -> Spans:
    """The chunks of ``text``: whole words, at most ``max_tokens`` each, overlapping by about
    ``overlap`` tokens; chunks of nothing but whitespace are left out."""
    out = Spans()
    n = len(text)
    start = _skip_space(text, 0, n)
    while start < n:
        end = _end(text, start, chunking.max_tokens)
        if end < n:
            end = _snap_back(text, start, end)
        if text[start:end].strip():
            out.bounds.extend((start, end))
        if end >= n:
            break
        following = _start(text, end, chunking.overlap) if chunking.overlap else end
        start = max(start + 1, _skip_space(text, following, end))
    return out


def _end(text: str, start: int, limit: int) -> int:
    """The furthest end of a chunk from ``start`` within ``limit`` tokens."""
    n = len(text)
    end = min(n, start + limit * CHARS_PER_TOKEN)
    if tokens(text[start:end]) <= limit:
        return end
    low, high = min(n, start + limit), end  # `limit` characters are at most `limit` tokens
    while high - low > 1:
        mid = (low + high) // 2
        if tokens(text[start:mid]) <= limit:
            low = mid
        else:
            high = mid
    return max(low, start + 1)


def _start(text: str, end: int, overlap: int) -> int:
    """Where the next chunk starts: about ``overlap`` tokens before ``end``."""
    begin = max(0, end - overlap * CHARS_PER_TOKEN)
    if tokens(text[begin:end]) <= overlap:
        return begin
    low, high = begin, max(begin, end - overlap)
    while high - low > 1:
        mid = (low + high) // 2
        if tokens(text[mid:end]) <= overlap:
            high = mid
        else:
            low = mid
    return high


def _snap_back(text: str, start: int, end: int) -> int:
    """``end`` moved back to just after the last whitespace in the chunk's second half."""
    half = start + (end - start) // 2
    cut = max(text.rfind(space, half, end) for space in WHITESPACE)
    return cut + 1 if cut > half else end


def _skip_space(text: str, at: int, limit: int) -> int:
    """``at`` moved forward past a word cut in two (up to ``limit``) and the whitespace after it."""
    n = len(text)
    if 0 < at < n and not text[at - 1].isspace() and not text[at].isspace():
        found = [i for i in (text.find(space, at, limit) for space in WHITESPACE) if i >= 0]
        if found:
            at = min(found)
    word = _WORD.search(text, at)
    return word.start() if word is not None else n
