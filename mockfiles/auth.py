"""Who is calling: each bearer key is its own account."""

from __future__ import annotations

from collections.abc import Collection

from .errors import AuthenticationFailed

MISSING_KEY = (
    "You didn't provide an API key. You need to provide your API key in an Authorization header "
    "using Bearer auth (i.e. Authorization: Bearer YOUR_KEY), or as the password field (with blank "
    "username) if you're accessing the API from your browser and are prompted for a username and "
    "password. You can obtain an API key from https://platform.openai.com/account/api-keys."
)


def bearer_key(authorization: str | None) -> str:
    """The key from ``Authorization: Bearer KEY``; anything else counts as no key."""
    if authorization:
        scheme, _, key = authorization.strip().partition(" ")
        key = key.strip()
        if scheme.lower() == "bearer" and key:
            return key
    raise AuthenticationFailed(MISSING_KEY, missing=True)


def authenticate(authorization: str | None, allowed: Collection[str] | None) -> str:
    key = bearer_key(authorization)
    if allowed is not None and key not in allowed:
        raise AuthenticationFailed("Incorrect API key provided.", missing=False, key=key)
    return key
