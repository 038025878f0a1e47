"""Identifiers in the shapes the real services hand out."""

from __future__ import annotations

import random
import secrets

BASE58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
HEX = "0123456789abcdef"


def random_token(rng: random.Random, alphabet: str, length: int) -> str:
    return "".join(rng.choices(alphabet, k=length))


def request_id() -> str:
    """``req_`` + 32 hex, as OpenAI's ``x-request-id``."""
    return "req_" + secrets.token_hex(16)


def mask_key(key: str) -> str:
    """Mask an API key the way OpenAI's 401 message does: a short prefix, stars, the last 4."""
    if len(key) <= 8:
        return "*" * len(key)
    head = key[: min(8, len(key) - 4)] if len(key) >= 12 else key[:2]
    return head + "*" * (len(key) - len(head) - 4) + key[-4:]
