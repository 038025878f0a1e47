"""What web pages may do with the server.

The API routes answer browsers as api.openai.com does (the openai SDK runs in a browser with
``dangerouslyAllowBrowser``): a CORS preflight (``OPTIONS`` with ``Origin`` and
``Access-Control-Request-Method``) is answered, and every answer to an allowed origin carries
``Access-Control-Allow-Origin``. Which origins are allowed is configured (``--cors-origin``,
``cors_origins=``); by default any, on a server bound to loopback, and none on one bound elsewhere.

The admin routes (``/_mockfiles/*``) can reset the server and read every account's files, so
they are kept from other sites, as Jupyter and Vite keep their servers:

- a request whose ``Host`` names something other than this server is refused (a DNS-rebinding
  page reaches the server under its own domain name): allowed are ``localhost`` and
  ``*.localhost``, IP addresses (a rebinding attack needs a name), the address the server is bound
  to, this machine's host name, and the names given with ``--allowed-host`` (``*``: any);
- a request that changes state (``POST``, ``PUT``, ``DELETE``, ``PATCH``) from a page of another
  origin is refused (a form or a ``text/plain`` fetch needs no preflight);
- no CORS on them, unless the admin token is required: then a page of an allowed origin may call
  them, with the token.

Nothing here knows the emulator: the application asks, and answers with what it is told.
"""

from __future__ import annotations

import fnmatch
import ipaddress
import socket
from collections.abc import Iterable
from dataclasses import dataclass, field

from mockfiles.core.errors import BrowserRefused

ANY = "*"
STATE_CHANGING = frozenset({"POST", "PUT", "DELETE", "PATCH"})
API_METHODS = b"GET, POST, DELETE"
ADMIN_METHODS = b"GET, POST, PUT, DELETE"
MAX_AGE = b"600"  # seconds a browser may keep a preflight's answer (Chromium keeps at most 7,200)
Headers = list[tuple[bytes, bytes]]


def is_loopback(host: str) -> bool:
    """Whether a bound address (or name) is this machine's loopback."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def host_name(header: str) -> str:
    """The name in a ``Host`` header or an origin's authority: no port, no brackets, lower case."""
    header = header.strip().lower()
    if header.startswith("["):
        return header[1 : header.find("]")] if "]" in header else header[1:]
    name = header.rsplit(":", 1)[0] if header.count(":") == 1 else header
    return name.rstrip(".")


def is_ip(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


@dataclass(frozen=True)
class BrowserPolicy:
    """The origins whose pages may call the API, and the names the admin routes answer to."""

    cors_origins: tuple[str, ...] = (ANY,)  # patterns (fnmatch): "*", "http://localhost:*", exact origins
    allowed_hosts: tuple[str, ...] = ()  # more names for the Host check: exact, "*.example.com", or "*"
    own_names: frozenset[str] = field(default_factory=frozenset)  # the bound address, the host name

    @classmethod
    def for_server(
        cls, host: str, cors_origins: Iterable[str] | None = None, allowed_hosts: Iterable[str] | None = None
    ) -> BrowserPolicy:
        """The policy of a server bound to ``host``: the defaults (any origin on loopback, none
        elsewhere), or the origins and hosts given."""
        origins = tuple(cors_origins) if cors_origins is not None else ((ANY,) if is_loopback(host) else ())
        for origin in origins:
            problem = origin_problem(origin)
            if problem:
                raise ValueError(f"CORS origin {origin!r}: {problem}")
        names = {host_name(host), socket.gethostname().lower()} - {""}
        hosts = tuple(h.strip().lower().rstrip(".") for h in allowed_hosts or ())
        if any(not h for h in hosts):
            raise ValueError("an allowed host must not be empty")
        return cls(origins, hosts, frozenset(names))

    # --- the API: CORS ---------------------------------------------------------------------------

    def origin_allowed(self, origin: str) -> bool:
        return any(pattern == ANY or fnmatch.fnmatchcase(origin, pattern) for pattern in self.cors_origins)

    def grant(self, origin: str) -> Headers | None:
        """The headers an answer to a page of ``origin`` carries (None: not allowed, so none)."""
        if not self.origin_allowed(origin):
            return None
        if self.cors_origins == (ANY,):
            return [(b"access-control-allow-origin", b"*")]
        return [(b"access-control-allow-origin", origin.encode("latin-1")), (b"vary", b"Origin")]

    def preflight(self, origin: str, requested_headers: str | None, admin: bool) -> Headers:
        """The answer's headers to an allowed preflight (the caller checked ``origin_allowed``)."""
        headers = self.grant(origin) or []
        headers += [
            (b"access-control-allow-methods", ADMIN_METHODS if admin else API_METHODS),
            (b"access-control-max-age", MAX_AGE),
        ]
        if requested_headers:  # Authorization, the SDK's X-Stainless-*, Content-Type: whatever the page sends
            headers.append((b"access-control-allow-headers", requested_headers.encode("latin-1")))
            headers.append((b"vary", b"Access-Control-Request-Headers"))
        return headers

    # --- the admin routes -------------------------------------------------------------------------

    def host_allowed(self, host: str | None) -> bool:
        if host is None or ANY in self.allowed_hosts:  # no Host: HTTP/1.0, never a browser
            return True
        name = host_name(host)
        if name == "localhost" or name.endswith(".localhost") or is_ip(name) or name in self.own_names:
            return True
        return any(fnmatch.fnmatchcase(name, pattern) for pattern in self.allowed_hosts)

    def check_admin(self, method: str, host: str | None, origin: str | None, token_required: bool) -> None:
        """Refuse an admin request that a page of another site could have sent (``BrowserRefused``)."""
        if not self.host_allowed(host):
            raise BrowserRefused("host_not_allowed", host=host_name(host or ""))
        if origin is None or method not in STATE_CHANGING or same_origin(origin, host):
            return
        if token_required and self.origin_allowed(origin):
            return  # an allowed page, and the token will be asked for
        raise BrowserRefused("origin_not_allowed", origin=origin, method=method)

    def admin_grant(self, origin: str, token_required: bool) -> Headers | None:
        """CORS on the admin routes: only when the token is required."""
        return self.grant(origin) if token_required else None


def same_origin(origin: str, host: str | None) -> bool:
    """Whether a page's ``Origin`` is this server's own (the console): its authority is the ``Host``."""
    if host is None:
        return False
    scheme, _, authority = origin.partition("://")
    if scheme not in ("http", "https") or not authority:
        return False
    default = ":80" if scheme == "http" else ":443"
    return authority.lower().removesuffix(default) == host.strip().lower().removesuffix(default)


def origin_problem(origin: str) -> str | None:
    """Why a configured origin could never match a browser's ``Origin`` (None when it can)."""
    if origin == ANY:
        return None
    scheme, sep, rest = origin.partition("://")
    if not sep or scheme not in ("http", "https") or not rest:
        return "an origin is scheme://host[:port], e.g. http://localhost:5173 (or * for any)"
    if "/" in rest:
        return "an origin has no path: drop everything after the host and port"
    return None
