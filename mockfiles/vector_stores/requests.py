"""The Vector Stores API's JSON request bodies, checked field by field into typed requests
(``parse``; the first field wrong is the 400). What depends on the account, its stores and its
files is checked by the service. A search's body is ``query.Search``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from mockfiles.batches.params import check_metadata
from mockfiles.core.errors import MissingParameter
from mockfiles.vector_stores import params
from mockfiles.vector_stores.attributes import Attributes, check_attributes
from mockfiles.vector_stores.params import Attach


@dataclass(frozen=True)
class CreateStore:
    name: str
    description: str | None
    metadata: dict[str, str]
    expires_days: int | None
    files: tuple[Attach, ...]  # each listed file once, with the request's chunking strategy

    @classmethod
    def parse(cls, body: Mapping[str, object]) -> CreateStore:
        params.known(body, params.CREATE_FIELDS)
        name = params.text(body.get("name"), "name") or ""
        description = params.text(body.get("description"), "description")
        metadata = check_metadata(body.get("metadata")) or {}
        days = params.expires_after(body.get("expires_after"))
        strategy = params.chunking(body.get("chunking_strategy"))
        given = body.get("file_ids")
        listed = [] if given is None else params.file_ids(given, "file_ids", params.MAX_STORE_FILES, at_least_one=False)
        files = tuple(Attach(file_id, "file_ids", {}, strategy) for file_id in dict.fromkeys(listed))
        return cls(name, description, metadata, days, files)


@dataclass(frozen=True)
class UpdateStore:
    name: str | None  # None: unchanged
    metadata: dict[str, str] | None  # None: unchanged; {} clears it
    expires_days: int | None
    expires_given: bool  # ``expires_after`` was sent (null: the store no longer expires)

    @classmethod
    def parse(cls, body: Mapping[str, object]) -> UpdateStore:
        params.known(body, params.UPDATE_FIELDS)
        name = params.text(body.get("name"), "name")
        metadata = (check_metadata(body.get("metadata")) or {}) if "metadata" in body else None
        days = params.expires_after(body.get("expires_after"))
        return cls(name, metadata, days, "expires_after" in body)


@dataclass(frozen=True)
class AttachFile:
    file: Attach

    @classmethod
    def parse(cls, body: Mapping[str, object]) -> AttachFile:
        return cls(params.attach_one(dict(body)))


@dataclass(frozen=True)
class UpdateFile:
    attributes: Attributes  # ``attributes`` is required; null clears them

    @classmethod
    def parse(cls, body: Mapping[str, object]) -> UpdateFile:
        params.known(body, ("attributes",))
        if "attributes" not in body:
            raise MissingParameter("attributes")
        return cls(check_attributes(body.get("attributes")))


@dataclass(frozen=True)
class CreateFileBatch:
    files: tuple[Attach, ...]

    @classmethod
    def parse(cls, body: Mapping[str, object]) -> CreateFileBatch:
        return cls(tuple(params.batch_files(dict(body))))
