"""What the Vector Stores API accepts, as OpenAI's ``openapi.yaml`` and the openai SDK's params types
describe it: ``chunking_strategy`` (``auto``, or ``static`` with ``max_chunk_size_tokens`` 100-4096
and ``chunk_overlap_tokens`` at most half of it), ``expires_after`` (``{anchor: last_active_at, days:
1-365}``), ``file_ids`` (at most 500 when a store is made, 1-2000 in a file batch), a file batch's
``files`` (never with ``file_ids``), ids with their prefixes, and list paging (``limit`` 1-100,
default 20; ``order``; ``after``/``before``; ``filter`` by status). Each problem is a 400 naming
the parameter, worded in the error table.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from mockfiles.core.errors import (
    InvalidRequest,
    InvalidType,
    InvalidValue,
    MissingParameter,
    NotFound,
    UnknownParameter,
)
from mockfiles.core.validation import check_range, json_type, parse_int
from mockfiles.vector_stores.attributes import Attributes, check_attributes
from mockfiles.vector_stores.chunks import Chunking

MAX_STORE_FILES = 500  # file_ids when a store is made
MAX_BATCH_FILES = 2000
CHUNK_MIN, CHUNK_MAX = 100, 4096
DAYS_MIN, DAYS_MAX = 1, 365
LIMIT_DEFAULT, LIMIT_MAX = 20, 100
STATUSES = ("in_progress", "completed", "failed", "cancelled")
STORE_PREFIX, BATCH_PREFIX = "vs_", "vsfb_"
# The fields each body takes, as OpenAI's request schemas (additionalProperties: false) and the SDK's
# params have them; another is refused (``Unknown parameter``), as OpenAI refuses it.
CREATE_FIELDS = ("name", "description", "metadata", "file_ids", "chunking_strategy", "expires_after")
UPDATE_FIELDS = ("name", "metadata", "expires_after")
ATTACH_FIELDS = ("file_id", "attributes", "chunking_strategy")
BATCH_FIELDS = ("file_ids", "files", "attributes", "chunking_strategy")


@dataclass(frozen=True)
class Attach:
    """One file to attach, as a request named it."""

    file_id: str
    param: str  # where the request named it: ``file_id``, ``file_ids``, ``files[3].file_id``
    attributes: Attributes
    chunking: Chunking


@dataclass(frozen=True)
class Paging:
    limit: int
    order: str
    after: str | None
    before: str | None
    status: str | None


def known(body: Mapping[str, object], fields: tuple[str, ...], where: str = "") -> None:
    """Refuse the first field of ``body`` it does not take (``where``: the object's parameter)."""
    for name in body:
        if name not in fields:
            raise UnknownParameter(f"{where}.{name}" if where else name)


def text(value: object, param: str) -> str | None:
    """An optional string parameter (null is none)."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidType(param, expected="a string", got=json_type(value))
    return value


def store_id(value: str) -> str:
    """A vector store id from a path: refused at once when it cannot be one."""
    if not value.startswith(STORE_PREFIX):
        raise InvalidRequest("id_prefix", param="vector_store_id", value=value, prefix=STORE_PREFIX)
    return value


def batch_id(value: str) -> str:
    if not value.startswith(BATCH_PREFIX):
        raise InvalidRequest("id_prefix", param="batch_id", value=value, prefix=BATCH_PREFIX)
    return value


def chunking(value: object, param: str = "chunking_strategy") -> Chunking:
    """``{type: auto}`` or ``{type: static, static: {max_chunk_size_tokens, chunk_overlap_tokens}}``
    (none given: ``auto``)."""
    if value is None:
        return Chunking()
    if not isinstance(value, dict):
        raise InvalidType(param, expected="an object", got=json_type(value))
    kind = value.get("type")
    if kind is None:
        raise MissingParameter(f"{param}.type")
    if kind == "auto":
        known(value, ("type",), param)
        return Chunking()
    if kind != "static":
        raise InvalidValue(f"{param}.type", str(kind), ("auto", "static"))
    known(value, ("type", "static"), param)
    static = value.get("static")
    if static is None:
        raise MissingParameter(f"{param}.static")
    if not isinstance(static, dict):
        raise InvalidType(f"{param}.static", expected="an object", got=json_type(static))
    known(static, ("max_chunk_size_tokens", "chunk_overlap_tokens"), f"{param}.static")
    size = _integer(static, "max_chunk_size_tokens", f"{param}.static")
    check_range(size, f"{param}.static.max_chunk_size_tokens", CHUNK_MIN, CHUNK_MAX)
    overlap = _integer(static, "chunk_overlap_tokens", f"{param}.static")
    check_range(overlap, f"{param}.static.chunk_overlap_tokens", 0, CHUNK_MAX)
    if overlap > size // 2:
        raise InvalidRequest(
            "chunk_overlap_too_large", param=f"{param}.static.chunk_overlap_tokens", half=size // 2, value=overlap
        )
    return Chunking(size, overlap, auto=False)


def _integer(fields: dict[str, object], key: str, where: str) -> int:
    value = fields.get(key)
    if value is None:
        raise MissingParameter(f"{where}.{key}")
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidType(f"{where}.{key}", expected="an integer", got=json_type(value))
    return value


def expires_after(value: object) -> int | None:
    """``{anchor: last_active_at, days: 1-365}``: the days (null: none)."""
    if value is None:
        return None
    if not isinstance(value, dict):
        raise InvalidType("expires_after", expected="an object", got=json_type(value))
    known(value, ("anchor", "days"), "expires_after")
    anchor = value.get("anchor")
    if anchor is None:
        raise MissingParameter("expires_after.anchor")
    if anchor != "last_active_at":
        raise InvalidValue("expires_after.anchor", str(anchor), ("last_active_at",))
    days = _integer(value, "days", "expires_after")
    check_range(days, "expires_after.days", DAYS_MIN, DAYS_MAX)
    return days


def file_ids(value: object, param: str, limit: int, *, at_least_one: bool) -> list[str]:
    if not isinstance(value, list):
        raise InvalidType(param, expected="an array", got=json_type(value))
    if len(value) > limit:
        raise InvalidRequest("array_too_long", param=param, limit=limit, length=len(value))
    if at_least_one and not value:
        raise InvalidRequest("array_empty", param=param)
    for i, item in enumerate(value):
        if not isinstance(item, str):
            raise InvalidType(f"{param}[{i}]", expected="a string", got=json_type(item))
        if not item:
            raise InvalidRequest("empty_string", param=f"{param}[{i}]")
    return list(value)


def attach_one(body: dict[str, object], param: str = "") -> Attach:
    """A file as ``vector_stores.files.create`` or one of a batch's ``files`` names it."""
    where = f"{param}." if param else ""
    known(body, ATTACH_FIELDS, param)
    given = body.get("file_id")
    if given is None:
        raise MissingParameter(f"{where}file_id")
    if not isinstance(given, str):
        raise InvalidType(f"{where}file_id", expected="a string", got=json_type(given))
    if not given:
        raise InvalidRequest("empty_string", param=f"{where}file_id")
    attributes = check_attributes(body.get("attributes"), f"{where}attributes")
    return Attach(
        given, f"{where}file_id", attributes, chunking(body.get("chunking_strategy"), f"{where}chunking_strategy")
    )


def batch_files(body: dict[str, object]) -> list[Attach]:
    """A file batch's files: ``file_ids`` (1-2000, with the request's ``attributes`` and
    ``chunking_strategy`` for all) or ``files`` (1-2000, each with its own), never both."""
    known(body, BATCH_FIELDS)
    ids, files = body.get("file_ids"), body.get("files")
    if ids is not None and files is not None:
        raise InvalidRequest("batch_ids_and_files", param="files")
    if ids is None and files is None:
        raise InvalidRequest("batch_nothing", param="file_ids")
    if ids is not None:
        shared = check_attributes(body.get("attributes"))
        strategy = chunking(body.get("chunking_strategy"))
        listed = file_ids(ids, "file_ids", MAX_BATCH_FILES, at_least_one=True)
        return [Attach(f, "file_ids", shared, strategy) for f in listed]
    if not isinstance(files, list):
        raise InvalidType("files", expected="an array", got=json_type(files))
    if len(files) > MAX_BATCH_FILES:
        raise InvalidRequest("array_too_long", param="files", limit=MAX_BATCH_FILES, length=len(files))
    if not files:
        raise InvalidRequest("array_empty", param="files")
    out = []
    for i, item in enumerate(files):
        if not isinstance(item, dict):
            raise InvalidType(f"files[{i}]", expected="an object", got=json_type(item))
        out.append(attach_one(item, f"files[{i}]"))
    return out


def paging(query: dict[str, str], *, with_filter: bool = False) -> Paging:
    limit = LIMIT_DEFAULT
    if "limit" in query:
        limit = parse_int(query["limit"], "limit")
        check_range(limit, "limit", 1, LIMIT_MAX)
    order = query.get("order") or "desc"
    if order not in ("asc", "desc"):
        raise InvalidValue("order", order, ("asc", "desc"))
    status = query.get("filter") or None if with_filter else None
    if status is not None and status not in STATUSES:
        raise InvalidValue("filter", status, STATUSES)
    return Paging(limit, order, query.get("after") or None, query.get("before") or None, status)


def page_of(
    ids: list[str], paging: Paging, what: str, keep: Callable[[str], bool] | None = None
) -> tuple[list[str], bool]:
    """One page of ``ids`` (oldest first) in the order asked, from after ``after`` / before
    ``before``, keeping those ``keep`` says (a status filter). A cursor is any id of the list, kept
    or not (a file whose status changed between two pages still works as one); another is a 400."""
    ordered = ids if paging.order == "asc" else ids[::-1]
    position = {item: i for i, item in enumerate(ordered)} if paging.after or paging.before else {}
    low, high = 0, len(ordered)
    for param, cursor in (("after", paging.after), ("before", paging.before)):
        if cursor is None:
            continue
        if cursor not in position:
            raise InvalidRequest("unknown_vector_store_cursor", param=param, what=what, value=cursor)
        if param == "after":
            low = max(low, position[cursor] + 1)
        else:
            high = min(high, position[cursor])
    backwards = paging.before is not None and paging.after is None  # the page just before the cursor
    steps = range(high - 1, low - 1, -1) if backwards else range(low, high)
    found: list[str] = []
    for i in steps:
        if keep is None or keep(ordered[i]):
            found.append(ordered[i])
            if len(found) > paging.limit:
                break
    more = len(found) > paging.limit
    found = found[: paging.limit]
    return (found[::-1] if backwards else found), more


def no_such_store(vector_store_id: str) -> NotFound:
    return NotFound("no_such_vector_store", vector_store_id=vector_store_id)
