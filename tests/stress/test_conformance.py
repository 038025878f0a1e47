"""Conformance with the OpenAPI description of the Files API, property-based (schemathesis):
no 5xx, no response that violates the schema, no undocumented status code."""

from __future__ import annotations

import json
from importlib import resources

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import (
    allow_header_conformance,
    content_type_conformance,
    ignored_auth,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from mockfiles import MockFilesServer
from mockfiles.emulator import Emulator
from mockfiles.web.app import build_app

DOCUMENT = json.loads(resources.files("mockfiles.web").joinpath("openapi.json").read_text())
schema = schemathesis.openapi.from_dict(DOCUMENT)


@pytest.fixture(scope="module")
def conformance_server():
    with MockFilesServer(rate_limits=False, seed=1, api_keys=["sk-conformance"]) as server:
        # something to find: files of several purposes, one of them being processed
        client = server.client()
        client.files.create(file=("a.txt", b"hello"), purpose="assistants")
        client.files.create(
            file=(
                "b.jsonl",
                b'{"custom_id": "1", "method": "POST", "url": "/v1/embeddings", "body": {"model": "m"}}\n',
            ),
            purpose="batch",
        )
        yield server
        statuses = sorted({e["status"] for e in server.requests() if e["status"] is not None})
        print(f"\nconformance: {len(server.requests())} requests, statuses {statuses}")


def test_the_server_publishes_this_document(conformance_server: MockFilesServer) -> None:
    import httpx

    published = httpx.get(conformance_server.url + "/_mockfiles/openapi.json").json()
    assert published == DOCUMENT
    routes = build_app(Emulator()).router.routes()
    served = {route.path.removeprefix("/v1") for route in routes if route.path.startswith("/v1/")}
    assert set(published["paths"]) == served  # every route served at /v1, and only those
    assert served >= {"/files", "/files/{file_id}", "/files/{file_id}/content"}


@schema.parametrize()
@settings(max_examples=60, derandomize=True, deadline=None, suppress_health_check=list(HealthCheck))
def test_files_api_conforms(case: schemathesis.Case, conformance_server: MockFilesServer) -> None:
    # Not "schema-valid requests are accepted" (the API refuses some on purpose: a .png for purpose
    # batch, an unknown `after` cursor) nor "undeclared query parameters are refused" (they are ignored).
    case.call_and_validate(
        base_url=conformance_server.base_url,
        headers={"Authorization": "Bearer sk-conformance"},
        checks=[
            not_a_server_error,
            status_code_conformance,
            response_schema_conformance,
            content_type_conformance,
            response_headers_conformance,
            ignored_auth,
            allow_header_conformance,
        ],
    )
