"""Identifiers in the shapes the real services hand out."""

from __future__ import annotations

import random

BASE58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
HEX = "0123456789abcdef"


def random_token(rng: random.Random, alphabet: str, length: int) -> str:
    return "".join(rng.choices(alphabet, k=length))


_labels = random.Random()  # request ids label requests; they need no cryptographic randomness


def request_id() -> str:
    """``req_`` + 32 hex, as OpenAI's ``x-request-id``."""
    return "req_" + _labels.randbytes(16).hex()


def uuid4() -> str:
    """A random (version 4) UUID, as DashScope's request ids."""
    h = f"{_labels.getrandbits(128) & ~(0xF << 76) & ~(0x3 << 62) | (0x4 << 76) | (0x2 << 62):032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def mask_key(key: str) -> str:
    """Mask an API key the way OpenAI's 401 message does: a short prefix, stars, the last 4."""
    if len(key) <= 8:
        return "*" * len(key)
    head = key[: min(8, len(key) - 4)] if len(key) >= 12 else key[:2]
    return head + "*" * (len(key) - len(head) - 4) + key[-4:]
