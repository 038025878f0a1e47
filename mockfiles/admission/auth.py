"""Who is calling: each bearer key is its own account."""

from __future__ import annotations

import functools
import hmac
from collections.abc import Collection

from mockfiles.core.errors import AuthenticationFailed


def bearer_key(authorization: str | None) -> str:
    """The key from ``Authorization: Bearer KEY``; anything else counts as no key."""
    if authorization:
        scheme, _, key = authorization.strip().partition(" ")
        key = key.strip()
        if scheme.lower() == "bearer" and key:
            return key
    raise AuthenticationFailed(missing=True)


def check_admin_token(token: str | None, authorization: str | None) -> None:
    """Refuse a control route's request without the admin token, when one is set (compared in
    constant time); the refusal names the admin token, not an API key."""
    if token is None:
        return
    try:
        given = bearer_key(authorization)
    except AuthenticationFailed:
        raise AuthenticationFailed(missing=True, admin=True) from None
    if not hmac.compare_digest(given.encode(), token.encode()):
        raise AuthenticationFailed(missing=False, key=given, admin=True)


@functools.lru_cache(maxsize=256)
def _bearer_of(raw: bytes) -> str:
    return bearer_key(raw.decode("latin-1"))


def authenticate_raw(authorization: bytes | None, allowed: Collection[str] | None) -> str:
    """Who calls, from the ``Authorization`` header's raw bytes (refused when the key is not
    ``allowed``, unless anyone is): a key seen lately is not parsed again (the
    parse and its decode were a tenth of a retrieve's own work); who is allowed is asked every time."""
    key = _bearer_of(authorization) if authorization is not None else bearer_key(None)
    if allowed is not None and key not in allowed:
        raise AuthenticationFailed(missing=False, key=key)
    return key
