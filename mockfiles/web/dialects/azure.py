"""Azure OpenAI (``{endpoint}/openai/...?api-version=…``, and the newer ``{endpoint}/openai/v1/...``):
OpenAI's objects with Azure's file states (``pending``, ``running`` before ``processed``), its error
envelope (``{"error": {"code", "message"}}``: no type, no param), a 201 with ``Location`` for an
upload on the versioned routes, an ``api-version`` that must be one Azure serves (else 404
``Resource not found``), and its headers (``apim-request-id``, ``x-ms-region``, ``x-ratelimit-*``).
Sources and choices: docs/azure.md."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs

from mockfiles.core.errors import MockFilesError, NotFound, say
from mockfiles.core.ids import uuid4
from mockfiles.core.record import Record
from mockfiles.files.store import StoredFile
from mockfiles.web.dialects.openai import OpenAIDialect, rate_headers

# The api-version values Azure OpenAI's data plane serves Files, Batches and Uploads at (GA and
# preview inference specs, learn.microsoft.com/azure/ai-foundry/openai/reference): others are 404.
API_VERSIONS = frozenset(
    {
        "2024-06-01",
        "2024-10-21",
        "2024-07-01-preview",
        "2024-08-01-preview",
        "2024-09-01-preview",
        "2024-10-01-preview",
        "2024-12-01-preview",
        "2025-01-01-preview",
        "2025-02-01-preview",
        "2025-03-01-preview",
        "2025-04-01-preview",
    }
)
V1_API_VERSIONS = frozenset({"preview", "latest", "v1"})  # the /openai/v1 routes need none
REGION = (b"x-ms-region", b"East US")


class AzureDialect(OpenAIDialect):
    name = "azure"
    prefix = "/openai"
    versions: frozenset[str] | None = API_VERSIONS  # None: api-version may be left out
    created_status = 201

    def check_request(self, query_string: bytes) -> None:
        """Refuse a request without an api-version Azure serves, as Azure does (404)."""
        given = parse_qs(query_string.decode("latin-1")).get("api-version", [])
        if given and given[0] in (self.versions or V1_API_VERSIONS):
            return
        if not given and self.versions is None:
            return
        raise NotFound("azure_resource_not_found")

    def file_object(self, f: StoredFile, now: float) -> dict[str, Any]:
        obj = super().file_object(f, now)
        obj["status"] = f.phase(now)
        return obj

    def created_headers(self, obj: dict[str, Any], url: Callable[[], str]) -> dict[str, str]:
        return {"Location": f"{url().rstrip('/')}/{obj['id']}"}

    def error(self, err: MockFilesError, record: Record) -> tuple[int, dict[str, Any], dict[str, str]]:
        said = say(err, self.name, record.request_id)
        return said.status, {"error": {"code": said.code, "message": said.message}}, said.headers

    def new_request_id(self) -> str:
        return uuid4()

    def headers(self, record: Record) -> list[tuple[bytes, bytes]]:
        rid = record.arrival.request_id.encode()
        headers = [(b"apim-request-id", rid), (b"x-request-id", rid), (b"x-ms-client-request-id", rid), REGION]
        rate = record.rate
        if rate is not None:
            headers += rate_headers(rate)
        return headers


class AzureV1Dialect(AzureDialect):
    """The ``/openai/v1`` routes (``OpenAI(base_url=f"{endpoint}/openai/v1")``): OpenAI's API on
    Azure, with Azure's states and errors; the upload is answered 200 as OpenAI's is."""

    name = "azure-v1"
    prefix = "/openai/v1"
    versions = None
    created_status = 200

    def created_headers(self, obj: dict[str, Any], url: Callable[[], str]) -> dict[str, str]:
        return {}
