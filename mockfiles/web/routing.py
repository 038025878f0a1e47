"""How a request reaches its handler.

Every route is a path template whose variable parts are whole segments
(``/v1/files/{file_id}/content``), so a path finds its route with one dictionary
lookup on its segments. Starlette's ``Router`` tries each route's regular expression
in turn, which grows with the number of routes and showed as a large share of a retrieve
under load (bench/README.md has the measurements). Handlers stay Starlette
request/response functions, given the request's ``Exchange`` too.

Each method of a route is an ``Operation``: its handler and the endpoint it serves
(endpoints.py), which the application admits through the front layer before the handler
runs (control routes serve none). Unknown paths raise ``NotFound`` and known paths with
another method ``MethodNotAllowed`` (with ``Allow``): the outer layer renders them like
every other error, in the dialect of the path.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Scope

from mockfiles.core.errors import MethodNotAllowed, NotFound
from mockfiles.core.registry import Endpoint
from mockfiles.web.exchange import Exchange

Handler = Callable[[Request, Exchange], Awaitable[Response]]


@dataclass(frozen=True, slots=True)
class Operation:
    handler: Handler
    endpoint: Endpoint | None = None  # None: a control route, not admitted by the front layer
    everyone: bool = False  # a control route that shows every account's state: it waits for their due work


@dataclass(frozen=True)
class Route:
    path: str
    operations: dict[str, Operation]  # by method

    @property
    def allow(self) -> str:
        return ", ".join(self.operations)


def route(path: str, **operations: Operation | Handler) -> Route:
    """One route per path, so that a 405 lists every method the path allows; HEAD is
    answered as GET. A bare handler is an operation that serves no endpoint."""
    ops = {method: op if isinstance(op, Operation) else Operation(op) for method, op in operations.items()}
    if "GET" in ops:
        ops.setdefault("HEAD", ops["GET"])
    return Route(path, ops)


# A template's segments with its variable ones left empty, and where those are: (position, name).
_Shape = tuple[str, ...]
_Params = tuple[tuple[int, str], ...]


class Router:
    def __init__(self, routes: list[Route]) -> None:
        self._static: dict[str, Route] = {}  # routes without variables, by path
        self._index: dict[_Shape, tuple[Route, _Params]] = {}
        self._variable: dict[int, list[tuple[int, ...]]] = {}  # by segment count: positions of variables
        for route in routes:
            segments = route.path.split("/")
            params = tuple((i, s[1:-1]) for i, s in enumerate(segments) if s.startswith("{") and s.endswith("}"))
            if not params:
                assert route.path not in self._static, f"two routes for {route.path}"
                self._static[route.path] = route
                continue
            shape = tuple("" if s.startswith("{") else s for s in segments)
            assert shape not in self._index, f"two routes for {route.path}"
            self._index[shape] = (route, params)
            positions = self._variable.setdefault(len(segments), [])
            if tuple(i for i, _ in params) not in positions:
                positions.append(tuple(i for i, _ in params))
        # Routes whose one variable is their last segment (``/v1/files/{file_id}``) and whose
        # shape no other route's can also match: found by the path up to its last slash, one
        # lookup and no split.
        self._last: dict[str, tuple[Route, str]] = {}
        for shape, (route, params) in self._index.items():
            if len(params) == 1 and params[0][0] == len(shape) - 1:
                if not any(other != shape and _overlap(shape, other) for other in self._index):
                    self._last["/".join(shape[:-1])] = (route, params[0][1])

    def match(self, path: str) -> tuple[Route, dict[str, str]] | None:
        """The route for a path and the values of its variables (each a non-empty segment)."""
        route = self._static.get(path)
        if route is not None:
            return route, {}
        head, _, last = path.rpartition("/")
        if last:
            found_last = self._last.get(head)
            if found_last is not None:
                return found_last[0], {found_last[1]: last}
        segments = path.split("/")
        for positions in self._variable.get(len(segments), ()):
            shape = segments.copy()
            for i in positions:
                if not shape[i]:
                    break
                shape[i] = ""
            else:
                found = self._index.get(tuple(shape))
                if found is not None:
                    route, params = found
                    values = {}
                    for i, name in params:
                        values[name] = segments[i]
                    return route, values
        return None

    def resolve(self, scope: Scope) -> Operation:
        """The operation for the request's path and method (its path parameters put in the scope)."""
        found = self.match(scope["path"])
        if found is None:
            raise NotFound("no_route", method=scope["method"], path=scope["path"])
        route, scope["path_params"] = found
        operation = route.operations.get(scope["method"])
        if operation is None:
            raise MethodNotAllowed(
                "bad_method", method=scope["method"], path=scope["path"], headers={"Allow": route.allow}
            )
        return operation

    def routes(self) -> list[Route]:
        return [*self._static.values(), *(route for route, _ in self._index.values())]


def _overlap(a: _Shape, b: _Shape) -> bool:
    """Whether some path matches both shapes (a variable, empty here, matches any segment)."""
    return len(a) == len(b) and all(x == y or not x or not y for x, y in zip(a, b, strict=True))
