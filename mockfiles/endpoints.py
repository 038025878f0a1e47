"""Every endpoint the emulator serves, in one registry.

An endpoint's name is how everything else knows it: scenario fault rules match it
(``match: {endpoint: files.create}``), the journal records it, the rate limiter counts it in its
class, retry tests queue instructions for it. Each member says:

- its name (``files.create``);
- its rate-limit class: ``upload`` or ``query`` (profiles.RateLimits: 3 and 10 per second per key),
  or ``batch`` / ``batch_list`` (a profile that meters batch calls apart, as DashScope's 1,000 and
  100 per minute, counts them there; the others count them as queries);
- the handler modules (``mockfiles/handlers/<module>.py``) that serve it: the application mounts
  every module named here, and each module declares its routes with the endpoint they serve;
- the body it carries, if one matters: ``upload`` (a multipart form with a file: the fault rules
  see its ``purpose`` and ``filename`` once it is read, and retry instructions count its bytes) or
  ``download`` (a file's bytes: retry instructions can break them part-way).

Adding an endpoint is one line here and its handler (docs/architecture.md); the JSON Schema of
scenarios and the OpenAPI document list the same names (a test holds them equal).
"""

from __future__ import annotations

from enum import Enum
from typing import Literal

RateClass = Literal["upload", "query", "batch", "batch_list"]
Body = Literal["upload", "download"]


class Endpoint(Enum):
    FILES_CREATE = ("files.create", "upload", ("files", "native_files"), "upload")
    FILES_LIST = ("files.list", "query", ("files", "native_files"))
    FILES_RETRIEVE = ("files.retrieve", "query", ("files", "native_files"))
    FILES_DELETE = ("files.delete", "query", ("files", "native_files"))
    FILES_CONTENT = ("files.content", "query", ("files",), "download")
    UPLOADS_CREATE = ("uploads.create", "query", ("uploads",))
    UPLOADS_PARTS_CREATE = ("uploads.parts.create", "upload", ("uploads",), "upload")
    UPLOADS_COMPLETE = ("uploads.complete", "query", ("uploads",))
    UPLOADS_CANCEL = ("uploads.cancel", "query", ("uploads",))
    BATCHES_CREATE = ("batches.create", "batch", ("batches",))
    BATCHES_LIST = ("batches.list", "batch_list", ("batches",))
    BATCHES_RETRIEVE = ("batches.retrieve", "batch", ("batches",))
    BATCHES_CANCEL = ("batches.cancel", "batch", ("batches",))

    def __init__(self, name: str, rate: RateClass, handlers: tuple[str, ...], body: Body | None = None) -> None:
        self.id = name
        self.rate: RateClass = rate
        self.handlers = handlers
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
HANDLER_MODULES: tuple[str, ...] = tuple(dict.fromkeys(m for e in Endpoint for m in e.handlers))
