"""The router on its own: a path finds its route with one dictionary lookup on its segments;
variables are whole, non-empty segments; a path with another method is a 405 naming the allowed
ones; HEAD is answered as GET."""

from __future__ import annotations

import pytest
from starlette.requests import Request
from starlette.responses import Response

from mockfiles.core.errors import MethodNotAllowed, NotFound
from mockfiles.core.registry import Endpoint
from mockfiles.web.exchange import Exchange
from mockfiles.web.routing import Operation, Router, route


async def handler(request: Request, ex: Exchange) -> Response:
    return Response()


async def other(request: Request, ex: Exchange) -> Response:
    return Response()


ROUTER = Router(
    [
        route("/v1/files", GET=Operation(handler, Endpoint.FILES_LIST), POST=Operation(other, Endpoint.FILES_CREATE)),
        route("/v1/files/{file_id}", GET=handler, DELETE=other),
        route("/v1/files/{file_id}/content", GET=handler),
        route("/v1/batches/{batch_id}/cancel", POST=handler),
        route("/v1/uploads/{upload_id}/parts/{part}", GET=handler),
    ]
)


@pytest.mark.parametrize(
    ("path", "template", "params"),
    [
        ("/v1/files", "/v1/files", {}),
        ("/v1/files/file-abc", "/v1/files/{file_id}", {"file_id": "file-abc"}),
        ("/v1/files/file-abc/content", "/v1/files/{file_id}/content", {"file_id": "file-abc"}),
        ("/v1/batches/b1/cancel", "/v1/batches/{batch_id}/cancel", {"batch_id": "b1"}),
        ("/v1/uploads/u1/parts/p2", "/v1/uploads/{upload_id}/parts/{part}", {"upload_id": "u1", "part": "p2"}),
    ],
)
def test_paths_find_their_route_and_variables(path: str, template: str, params: dict[str, str]) -> None:
    found = ROUTER.match(path)
    assert found is not None
    route_found, values = found
    assert (route_found.path, values) == (template, params)


@pytest.mark.parametrize(
    "path",
    ["/v1/files/", "/v1/files//content", "/v1/file", "/v1/files/a/b", "/v1/batches/b1/stop", "/v2/files", "", "/"],
)
def test_other_paths_find_nothing(path: str) -> None:
    assert ROUTER.match(path) is None


def scope(method: str, path: str) -> dict[str, object]:
    return {"type": "http", "method": method, "path": path}


def test_resolving_gives_the_operation_and_its_endpoint() -> None:
    request = scope("POST", "/v1/files")
    operation = ROUTER.resolve(request)
    assert operation.handler is other and operation.endpoint is Endpoint.FILES_CREATE
    request = scope("DELETE", "/v1/files/f1")
    assert ROUTER.resolve(request).endpoint is None and request["path_params"] == {"file_id": "f1"}


def test_head_is_answered_as_get() -> None:
    assert ROUTER.resolve(scope("HEAD", "/v1/files")) is ROUTER.resolve(scope("GET", "/v1/files"))


def test_unknown_paths_and_methods_are_errors_in_the_table() -> None:
    with pytest.raises(NotFound) as missing:
        ROUTER.resolve(scope("GET", "/v1/nothing"))
    assert missing.value.message == "Invalid URL (GET /v1/nothing)"
    with pytest.raises(MethodNotAllowed) as refused:
        ROUTER.resolve(scope("PUT", "/v1/files/f1"))
    assert refused.value.status == 405 and refused.value.headers == {"Allow": "GET, DELETE, HEAD"}
    assert refused.value.message == "Invalid method for URL (PUT /v1/files/f1)"


def test_two_routes_for_one_path_are_a_mistake() -> None:
    with pytest.raises(AssertionError, match=r"two routes for /v1/files/\{other\}"):
        Router([route("/v1/files/{file_id}", GET=handler), route("/v1/files/{other}", GET=handler)])


def test_every_route_of_the_application_is_found_by_its_own_path() -> None:
    """The application's routes, each found by a path made from its template (the last
    variable found by the path up to its last slash, the others by their segments)."""
    from mockfiles.emulator import Emulator
    from mockfiles.web.app import build_app

    router = build_app(Emulator()).router
    for known in router.routes():
        path = "/".join("x1" if s.startswith("{") else s for s in known.path.split("/"))
        found = router.match(path)
        assert found is not None and found[0] is known, known.path
        assert set(found[1]) == {s[1:-1] for s in known.path.split("/") if s.startswith("{")}


def test_a_last_variable_that_another_route_could_match_keeps_the_first_routes_order() -> None:
    """``/v1/{kind}/content`` and ``/v1/files/{file_id}`` both match ``/v1/files/content``:
    the shortcut for a last variable is not taken, so the general lookup decides as it always did."""
    router = Router([route("/v1/{kind}/content", GET=handler), route("/v1/files/{file_id}", GET=other)])
    found = router.match("/v1/files/content")
    assert found is not None and found[0].path == "/v1/{kind}/content"
    found = router.match("/v1/files/abc")
    assert found is not None and (found[0].path, found[1]) == ("/v1/files/{file_id}", {"file_id": "abc"})
    assert router.match("/v1/files/") is None
