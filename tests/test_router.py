"""The router on its own: a path finds its route with one dictionary lookup on its segments;
variables are whole, non-empty segments; a path with another method is a 405 naming the allowed
ones; HEAD is answered as GET."""

from __future__ import annotations

import pytest
from starlette.requests import Request
from starlette.responses import Response

from mockfiles.endpoints import Endpoint
from mockfiles.errors import MethodNotAllowed, NotFound
from mockfiles.routes import Operation, Router, route
from mockfiles.transport import Exchange


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
