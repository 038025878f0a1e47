"""How accounts are shown to anyone but their owner: by a stable id and a masked key.

Each API key is its own account. The admin routes, the journal and the logs never show
a key itself (anyone who can read them could then use the account): they show
``account`` — ``acct_`` and 16 hex digits of SHA-256 over the key, the same for a key in
every run and on every machine, so tests and logs can tell accounts apart and compare
them across restarts — and ``key``, the key masked as ``sk-vi…1234``.
"""

from __future__ import annotations

import functools
import hashlib

ACCOUNT_PREFIX = "acct_"


CACHED_KEY_CHARS = 256  # longer keys (no real one is) are hashed each time: the cache holds no huge key


def account_id(key: str) -> str:
    """``acct_3f1c…``: a stable name for the account of ``key`` that does not reveal it.

    The hash is unsalted so that it stays the same across restarts; it hides a real
    (random, 40+ character) key, not a guessable one like ``test``.
    """
    return _account_id(key) if len(key) <= CACHED_KEY_CHARS else _digest(key)


@functools.lru_cache(maxsize=4096)
def _account_id(key: str) -> str:
    return _digest(key)


def _digest(key: str) -> str:
    return (
        ACCOUNT_PREFIX
        + hashlib.sha256(b"mockfiles account\x00" + key.encode("utf-8", "surrogatepass")).hexdigest()[:16]
    )


def key_hint(key: str) -> str:
    """The key masked: ``sk-vi…1234`` (5 characters, an ellipsis, the last 4) for a key of 20
    characters or more (real keys have 35 to 170); a shorter key shows a quarter of it at
    each end (``sk…-1`` for ``sk-test-1``), so that at least half of any key stays hidden."""
    if len(key) >= 20:
        return f"{key[:5]}…{key[-4:]}"
    visible = len(key) // 4
    return f"{key[:visible]}…{key[-visible:]}" if visible else "…"
