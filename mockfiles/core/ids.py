"""Identifiers in the shapes the real services hand out."""

from __future__ import annotations

import functools
import random

BASE58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
HEX = "0123456789abcdef"


def random_token(rng: random.Random, alphabet: str, length: int) -> str:
    """``length`` characters of ``alphabet`` (ASCII) drawn from ``rng``: one random byte each."""
    return rng.randbytes(length).translate(_byte_table(alphabet)).decode("ascii")


@functools.lru_cache(maxsize=16)
def _byte_table(alphabet: str) -> bytes:
    """The character each byte stands for: ``alphabet[byte % len(alphabet)]``. A hex digit comes up
    as often as any other; of base58's, the first 24 come up 5 times in 256 and the rest 4."""
    return bytes(ord(alphabet[byte % len(alphabet)]) for byte in range(256))


_labels = random.Random()  # request ids label requests; they need no cryptographic randomness


def unseeded() -> int:
    """A seed for a state given none: 128 random bits. Its ids are as unforeseeable to a test as
    with the generator's own seeding, which reads 2,496 bytes from the system at each reset."""
    return _labels.getrandbits(128)


def request_id() -> str:
    """``req_`` + 32 hex, as OpenAI's ``x-request-id``."""
    return "req_" + _labels.randbytes(16).hex()


def uuid4() -> str:
    """A random (version 4) UUID, as DashScope's request ids."""
    return as_uuid(f"{_labels.getrandbits(128):032x}")


def as_uuid(hex32: str) -> str:
    """32 random hex digits shown as an RFC 4122 version 4 UUID (8-4-4-4-12): the version digit
    is ``4`` and the variant digit one of ``89ab``, as in DashScope's ``batch_<uuid>`` ids and the
    native API's file ids (``batch_fa05d570-fa04-4935-8b80-2b9c1a4b3ee4``, recorded live)."""
    variant = "89ab"[int(hex32[16], 16) & 0x3]
    return f"{hex32[:8]}-{hex32[8:12]}-4{hex32[13:16]}-{variant}{hex32[17:20]}-{hex32[20:32]}"


def mask_key(key: str) -> str:
    """Mask an API key the way OpenAI's 401 message does: a short prefix, stars, the last 4."""
    if len(key) <= 8:
        return "*" * len(key)
    head = key[: min(8, len(key) - 4)] if len(key) >= 12 else key[:2]
    return head + "*" * (len(key) - len(head) - 4) + key[-4:]
