"""The endpoint registry (mockfiles/endpoints.py) against everything that names endpoints: the
scenario JSON Schema, the OpenAPI document, the routes of every dialect, the rate classes, the
retry instructions' bodies. Adding an endpoint is its registry line and its handler: these tests
say what else must agree."""

from __future__ import annotations

import json
from importlib import resources

import pytest

from mockfiles.admission.ratelimit import RateLimiter
from mockfiles.core.profiles import RateLimits
from mockfiles.core.registry import DIALECTS, DOWNLOADS, HANDLER_MODULES, NAMES, UPLOADS, Endpoint
from mockfiles.emulator import Emulator
from mockfiles.retries.instructions import DOWNLOAD_ENDPOINTS, UPLOAD_ENDPOINTS
from mockfiles.scenarios.fault_rules import ENDPOINTS
from mockfiles.web.api import handlers_of
from mockfiles.web.app import build_app

SCHEMA = json.loads(resources.files("mockfiles.scenarios").joinpath("schema.json").read_text())
OPENAPI = json.loads(resources.files("mockfiles.web").joinpath("openapi.json").read_text())
APP = build_app(Emulator())


def served() -> dict[str, dict[tuple[str, str], str]]:
    """Per dialect: (method, path under its prefix) -> endpoint name, from the application's router."""
    out: dict[str, dict[tuple[str, str], str]] = {}
    for route in APP.router.routes():
        dialect = APP.dialect_for(route.path)
        for method, operation in route.operations.items():
            if operation.endpoint is not None and method != "HEAD":
                path = route.path.removeprefix(dialect.prefix)
                out.setdefault(dialect.name, {})[(method, path)] = operation.endpoint.id
    return out


def test_the_scenario_schema_lists_the_registry() -> None:
    assert SCHEMA["$defs"]["endpoint"]["enum"] == list(NAMES)
    match = SCHEMA["$defs"]["rule"]["properties"]["match"]["properties"]["endpoint"]
    assert match["oneOf"][0] == {"$ref": "#/$defs/endpoint"}
    assert ENDPOINTS == NAMES  # what fault rules accept


def test_every_endpoint_is_served_where_the_registry_says_and_nowhere_else() -> None:
    routes = served()
    declared = {
        dialect: {(e.method, e.path): e.id for e in Endpoint for d, _ in e.served if d == dialect}
        for dialect in DIALECTS
    }
    assert routes == declared
    everywhere = {name for table in routes.values() for name in table.values()}
    assert everywhere == set(NAMES)
    for endpoint in Endpoint:
        for dialect, module in endpoint.served:
            assert endpoint in handlers_of(APP.api, module, dialect), (endpoint.id, dialect, module)
    assert set(HANDLER_MODULES) == {m for e in Endpoint for _, m in e.served}


@pytest.mark.parametrize(
    ("dialect", "expected"),
    [
        ("openai", set(NAMES)),
        (  # no Uploads API, no Responses API, no Vector Stores API, no Fine-tuning API (no fine-tuned model to delete)
            "dashscope-compatible",
            {
                n
                for n in NAMES
                if not n.startswith(("uploads.", "vector_stores.", "fine_tuning."))
                and n not in ("responses.create", "models.delete")
            },
        ),
        ("dashscope-native", {"files.create", "files.list", "files.retrieve", "files.delete"}),
    ],
)
def test_each_dialect_serves_its_endpoints(dialect: str, expected: set[str]) -> None:
    assert set(served()[dialect].values()) == expected


def test_the_openapi_document_names_the_endpoint_of_each_v1_route() -> None:
    documented = {
        (method.upper(), path): operation["x-mockfiles-endpoint"]
        for path, item in OPENAPI["paths"].items()
        for method, operation in item.items()
    }
    assert documented == served()["openai"]


def test_rate_classes_come_from_the_registry() -> None:
    limiter = RateLimiter(RateLimits(upload=3, query=10))
    for endpoint in Endpoint:  # batch classes count as queries unless the profile meters them apart
        if endpoint.rate == "inference":  # the model routes: off unless set
            assert limiter.limit_for(endpoint.id) is None
            continue
        kind = "upload" if endpoint.rate == "upload" else "query"
        assert limiter.limit_for(endpoint.id) == (kind, 3 if kind == "upload" else 10, 1.0, kind)
    apart = RateLimiter(RateLimits(upload=3, query=10, batch=1000, batch_list=100, inference=60))
    for endpoint in Endpoint:
        expected = {
            "batch": ("batch", 1000, 60.0, endpoint.id),
            "batch_list": ("batch_list", 100, 60.0, endpoint.id),
            "inference": ("inference", 60, 60.0, "inference"),
        }.get(endpoint.rate)
        assert apart.limit_for(endpoint.id) == (
            expected or (endpoint.rate, 3 if endpoint.rate == "upload" else 10, 1.0, endpoint.rate)
        )
    assert {e.id for e in Endpoint if e.rate.startswith("batch")} == {
        "batches.create",
        "batches.retrieve",
        "batches.cancel",
        "batches.list",
    }
    assert {e.id for e in Endpoint if e.rate == "inference"} == {"chat.completions.create", "responses.create"}
    assert limiter.limit_for("nothing.known") is None
    assert Endpoint.named("files.content") is Endpoint.FILES_CONTENT and str(Endpoint.FILES_LIST) == "files.list"


def test_the_retry_instructions_bodies_agree_with_the_registry() -> None:
    assert {e for e in UPLOAD_ENDPOINTS if e in NAMES} == UPLOADS == {"files.create", "uploads.parts.create"}
    assert {e for e in DOWNLOAD_ENDPOINTS if e in NAMES} == DOWNLOADS == {"files.content"}
