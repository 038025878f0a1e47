"""Every endpoint the emulator serves, in one registry: each is declared once, here.

An endpoint's name is how everything else knows it: scenario fault rules match it
(``match: {endpoint: files.create}``), the journal records it, the rate limiter counts it in its
class, retry tests queue instructions for it. Each member says:

- its name (``files.create``);
- its rate-limit class: ``upload`` or ``query`` (profiles.RateLimits: 3 and 10 per second per key),
  or ``batch`` / ``batch_list`` (a profile that meters batch calls apart, as DashScope's 1,000 and
  100 per minute, counts them there; the others count them as queries), or ``inference`` (the model
  routes: requests per minute, with a budget of tokens per minute; off unless a scenario sets it);
- its method and its path under a dialect's prefix (``POST /files``: ``/v1/files`` for OpenAI,
  ``/compatible-mode/v1/files`` for DashScope's compatible mode);
- the dialects that serve it, each with the handler module (``mockfiles/web/api/<module>.py``)
  that answers it there: the application mounts exactly these routes;
- the body it carries, if one matters: ``upload`` (a multipart form with a file: the fault rules
  see its ``purpose`` and ``filename`` once it is read, and retry instructions count its bytes),
  ``download`` (a file's bytes: retry instructions can break them part-way) or ``prompt`` (a model's
  prompt as JSON: the fault rules see its ``model``, the files it reads and its text once it is read,
  and its answer may stream as server-sent events, which a rule can cut after so many events).

Adding an endpoint is one member here and its handler (docs/architecture.md); the router is built
from these members, and tests hold the scenario JSON Schema and the OpenAPI document equal to them.
"""

from __future__ import annotations

from enum import Enum
from typing import Literal

RateClass = Literal["upload", "query", "batch", "batch_list", "inference"]
BodyKind = Literal["upload", "download", "prompt"]

OPENAI = "openai"
COMPATIBLE = "dashscope-compatible"
NATIVE = "dashscope-native"
AZURE = "azure"  # Azure OpenAI's versioned routes: /openai/...?api-version=
AZURE_V1 = "azure-v1"  # and its /openai/v1 routes
DIALECTS: tuple[str, ...] = (OPENAI, COMPATIBLE, NATIVE, AZURE, AZURE_V1)

# Who serves an endpoint: (dialect, handler module) pairs.
Served = tuple[tuple[str, str], ...]
AZURE_FILES: Served = ((AZURE, "files"), (AZURE_V1, "files"))
FILES: Served = ((OPENAI, "files"), (COMPATIBLE, "files"), (NATIVE, "native_files"), *AZURE_FILES)
OPENAI_FILES: Served = ((OPENAI, "files"), (COMPATIBLE, "files"), *AZURE_FILES)
UPLOADS_ONLY: Served = ((OPENAI, "uploads"), (AZURE, "uploads"), (AZURE_V1, "uploads"))  # DashScope has none
BATCHES: Served = ((OPENAI, "batches"), (COMPATIBLE, "batches"), (AZURE, "batches"), (AZURE_V1, "batches"))
CHAT: Served = ((OPENAI, "chat"), (COMPATIBLE, "chat"))
RESPONSES: Served = ((OPENAI, "chat"),)  # DashScope's compatible mode has no Responses API here
MODELS: Served = ((OPENAI, "models"), (COMPATIBLE, "models"))
VECTOR_STORES: Served = ((OPENAI, "vector_stores"),)  # DashScope has none; Azure's are not served
VS = "/vector_stores/{vector_store_id}"
FINE_TUNING: Served = ((OPENAI, "fine_tuning"),)  # DashScope's compatible mode and Azure have no Fine-tuning API here


class Endpoint(Enum):
    FILES_CREATE = ("files.create", "upload", "POST /files", FILES, "upload")
    FILES_LIST = ("files.list", "query", "GET /files", FILES)
    FILES_RETRIEVE = ("files.retrieve", "query", "GET /files/{file_id}", FILES)
    FILES_DELETE = ("files.delete", "query", "DELETE /files/{file_id}", FILES)
    FILES_CONTENT = ("files.content", "query", "GET /files/{file_id}/content", OPENAI_FILES, "download")
    UPLOADS_CREATE = ("uploads.create", "query", "POST /uploads", UPLOADS_ONLY)
    UPLOADS_PARTS_CREATE = ("uploads.parts.create", "upload", "POST /uploads/{upload_id}/parts", UPLOADS_ONLY, "upload")
    UPLOADS_COMPLETE = ("uploads.complete", "query", "POST /uploads/{upload_id}/complete", UPLOADS_ONLY)
    UPLOADS_CANCEL = ("uploads.cancel", "query", "POST /uploads/{upload_id}/cancel", UPLOADS_ONLY)
    BATCHES_CREATE = ("batches.create", "batch", "POST /batches", BATCHES)
    BATCHES_LIST = ("batches.list", "batch_list", "GET /batches", BATCHES)
    BATCHES_RETRIEVE = ("batches.retrieve", "batch", "GET /batches/{batch_id}", BATCHES)
    BATCHES_CANCEL = ("batches.cancel", "batch", "POST /batches/{batch_id}/cancel", BATCHES)
    CHAT_COMPLETIONS_CREATE = ("chat.completions.create", "inference", "POST /chat/completions", CHAT, "prompt")
    RESPONSES_CREATE = ("responses.create", "inference", "POST /responses", RESPONSES, "prompt")
    MODELS_LIST = ("models.list", "query", "GET /models", MODELS)
    MODELS_RETRIEVE = ("models.retrieve", "query", "GET /models/{model}", MODELS)
    VECTOR_STORES_CREATE = ("vector_stores.create", "query", "POST /vector_stores", VECTOR_STORES)
    VECTOR_STORES_LIST = ("vector_stores.list", "query", "GET /vector_stores", VECTOR_STORES)
    VECTOR_STORES_RETRIEVE = ("vector_stores.retrieve", "query", f"GET {VS}", VECTOR_STORES)
    VECTOR_STORES_UPDATE = ("vector_stores.update", "query", f"POST {VS}", VECTOR_STORES)
    VECTOR_STORES_DELETE = ("vector_stores.delete", "query", f"DELETE {VS}", VECTOR_STORES)
    VECTOR_STORES_SEARCH = ("vector_stores.search", "query", f"POST {VS}/search", VECTOR_STORES)
    VECTOR_STORES_FILES_CREATE = ("vector_stores.files.create", "query", f"POST {VS}/files", VECTOR_STORES)
    VECTOR_STORES_FILES_LIST = ("vector_stores.files.list", "query", f"GET {VS}/files", VECTOR_STORES)
    VECTOR_STORES_FILES_RETRIEVE = (
        "vector_stores.files.retrieve",
        "query",
        f"GET {VS}/files/{{file_id}}",
        VECTOR_STORES,
    )
    VECTOR_STORES_FILES_UPDATE = ("vector_stores.files.update", "query", f"POST {VS}/files/{{file_id}}", VECTOR_STORES)
    VECTOR_STORES_FILES_DELETE = (
        "vector_stores.files.delete",
        "query",
        f"DELETE {VS}/files/{{file_id}}",
        VECTOR_STORES,
    )
    VECTOR_STORES_FILES_CONTENT = (
        "vector_stores.files.content",
        "query",
        f"GET {VS}/files/{{file_id}}/content",
        VECTOR_STORES,
    )
    VECTOR_STORES_FILE_BATCHES_CREATE = (
        "vector_stores.file_batches.create",
        "query",
        f"POST {VS}/file_batches",
        VECTOR_STORES,
    )
    VECTOR_STORES_FILE_BATCHES_RETRIEVE = (
        "vector_stores.file_batches.retrieve",
        "query",
        f"GET {VS}/file_batches/{{batch_id}}",
        VECTOR_STORES,
    )
    VECTOR_STORES_FILE_BATCHES_CANCEL = (
        "vector_stores.file_batches.cancel",
        "query",
        f"POST {VS}/file_batches/{{batch_id}}/cancel",
        VECTOR_STORES,
    )
    VECTOR_STORES_FILE_BATCHES_LIST_FILES = (
        "vector_stores.file_batches.list_files",
        "query",
        f"GET {VS}/file_batches/{{batch_id}}/files",
        VECTOR_STORES,
    )
    FINE_TUNING_CREATE = ("fine_tuning.jobs.create", "query", "POST /fine_tuning/jobs", FINE_TUNING)
    FINE_TUNING_LIST = ("fine_tuning.jobs.list", "query", "GET /fine_tuning/jobs", FINE_TUNING)
    FINE_TUNING_RETRIEVE = (
        "fine_tuning.jobs.retrieve",
        "query",
        "GET /fine_tuning/jobs/{fine_tuning_job_id}",
        FINE_TUNING,
    )
    FINE_TUNING_CANCEL = (
        "fine_tuning.jobs.cancel",
        "query",
        "POST /fine_tuning/jobs/{fine_tuning_job_id}/cancel",
        FINE_TUNING,
    )
    FINE_TUNING_PAUSE = (
        "fine_tuning.jobs.pause",
        "query",
        "POST /fine_tuning/jobs/{fine_tuning_job_id}/pause",
        FINE_TUNING,
    )
    FINE_TUNING_RESUME = (
        "fine_tuning.jobs.resume",
        "query",
        "POST /fine_tuning/jobs/{fine_tuning_job_id}/resume",
        FINE_TUNING,
    )
    FINE_TUNING_EVENTS = (
        "fine_tuning.jobs.list_events",
        "query",
        "GET /fine_tuning/jobs/{fine_tuning_job_id}/events",
        FINE_TUNING,
    )
    FINE_TUNING_CHECKPOINTS = (
        "fine_tuning.jobs.checkpoints.list",
        "query",
        "GET /fine_tuning/jobs/{fine_tuning_job_id}/checkpoints",
        FINE_TUNING,
    )
    MODELS_DELETE = ("models.delete", "query", "DELETE /models/{model}", FINE_TUNING)  # a fine-tuned model

    def __init__(self, name: str, rate: RateClass, route: str, served: Served, body: BodyKind | None = None) -> None:
        self.id = name
        self.rate: RateClass = rate
        self.method, self.path = route.split(" ")
        self.served = served
        self.handlers = tuple(dict.fromkeys(module for _, module in served))
        self.body = body

    def __str__(self) -> str:
        return self.id

    @classmethod
    def named(cls, name: str) -> Endpoint | None:
        """The endpoint called ``name`` (None when there is none)."""
        return _BY_NAME.get(name)


_BY_NAME = {e.id: e for e in Endpoint}
NAMES: tuple[str, ...] = tuple(e.id for e in Endpoint)
UPLOADS = frozenset(e.id for e in Endpoint if e.body == "upload")
DOWNLOADS = frozenset(e.id for e in Endpoint if e.body == "download")
PROMPTS = frozenset(e.id for e in Endpoint if e.body == "prompt")
HANDLER_MODULES: tuple[str, ...] = tuple(dict.fromkeys(m for e in Endpoint for m in e.handlers))
