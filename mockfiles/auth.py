"""Who is calling: each bearer key is its own account."""

from __future__ import annotations

from collections.abc import Collection

from .errors import AuthenticationFailed


def bearer_key(authorization: str | None) -> str:
    """The key from ``Authorization: Bearer KEY``; anything else counts as no key."""
    if authorization:
        scheme, _, key = authorization.strip().partition(" ")
        key = key.strip()
        if scheme.lower() == "bearer" and key:
            return key
    raise AuthenticationFailed(missing=True)


def authenticate(authorization: str | None, allowed: Collection[str] | None) -> str:
    key = bearer_key(authorization)
    if allowed is not None and key not in allowed:
        raise AuthenticationFailed(missing=False, key=key)
    return key
