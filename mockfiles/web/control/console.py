"""The web console at ``/_mockfiles/``: one HTML page, its script and its style sheet, shipped
with the package (no build step, nothing fetched from elsewhere: it works offline).

The page holds no data: its script reads everything from the control routes (admin.py) with
``fetch``, sending the admin token, when one is set, as ``Authorization: Bearer``. The token is
asked for by a form and kept in the tab's ``sessionStorage``: never in a cookie, so no other site
can make the browser use it (no CSRF), and gone when the tab closes. Everything shown is put in
the page as text (``textContent``), never as HTML, and the Content-Security-Policy allows only
this server's script and style sheet: a filename or a scenario holding markup stays text.
"""

from __future__ import annotations

import functools
from importlib import resources

from starlette.requests import Request
from starlette.responses import Response

from mockfiles.web.api import Api
from mockfiles.web.control.admin import PREFIX
from mockfiles.web.exchange import Exchange
from mockfiles.web.routing import Route, route

ASSETS = {
    "/": ("index.html", "text/html; charset=utf-8"),
    "/console.js": ("console.js", "text/javascript; charset=utf-8"),
    "/console.css": ("console.css", "text/css; charset=utf-8"),
}
SECURITY_HEADERS = {
    "content-security-policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' blob: data:; "
        "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    ),
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "cache-control": "no-cache",
}


@functools.cache
def asset(name: str) -> bytes:
    return resources.files("mockfiles.web.control").joinpath("console").joinpath(name).read_bytes()


async def page(name: str, media_type: str, request: Request, ex: Exchange) -> Response:
    """One of the console's files (open, as a page must be: its script sends the token)."""
    return Response(asset(name), media_type=media_type, headers=SECURITY_HEADERS)


def routes(api: Api) -> list[Route]:
    return [route(PREFIX + path, GET=functools.partial(page, *served)) for path, served in ASSETS.items()]
