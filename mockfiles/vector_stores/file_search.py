"""The ``file_search`` tool as the Responses API runs it, over the Vector Stores service: its entry
in ``tools`` checked, the same search as ``POST /vector_stores/{id}/search`` run over its stores, the
``file_search_call`` output item (its ``results`` when ``include: ["file_search_call.results"]``),
and the ``file_citation`` annotations of an answer that names the files found. Deterministic: the
same stores and question give the same call, results and citations. Knows nothing about HTTP.

A tool entry (the SDK's ``FileSearchTool``): ``vector_store_ids`` (at least one, each a store of the
account that has not expired), ``max_num_results`` (1-50, default 10), ``filters``,
``ranking_options``; another field is refused as the API refuses it. The query searched is the
request's question, as a model would phrase it: its text, as given.

``FileSearchTool`` is the tool the Responses service registers (``chat/tools.py``): the files found
are documents its answer names, a line each, and each line ends with a ``file_citation`` of its file
(the annotation's ``index``: where the line ends in the answer's text); their text counts in the
prompt's tokens, as the real service bills file search results.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from mockfiles.chat.tools import ToolCall, ToolResult
from mockfiles.core.errors import InvalidRequest, InvalidType, MissingParameter
from mockfiles.core.validation import json_type
from mockfiles.inference.documents import Document, describe, of_lines
from mockfiles.inference.text import HEX, token
from mockfiles.vector_stores import params
from mockfiles.vector_stores.query import Search
from mockfiles.vector_stores.search import Hit, Searching
from mockfiles.vector_stores.service import VectorStores

TOOL_FIELDS = ("type", "vector_store_ids", "max_num_results", "filters", "ranking_options")
INCLUDE_RESULTS = "file_search_call.results"


@dataclass(frozen=True)
class FileSearchRun:
    """One ``file_search`` entry run: the output item, and the chunks found (best first)."""

    item: dict[str, Any]
    hits: tuple[Hit, ...]

    def citations(self, index: int) -> list[dict[str, Any]]:
        """``file_citation`` annotations of the files found, once each, best first, at ``index`` of
        the answer's text (where the answer names them)."""
        seen = dict.fromkeys((hit.file.file_id, hit.file.stored.filename) for hit in self.hits)
        return [{"type": "file_citation", "file_id": f, "filename": name, "index": index} for f, name in seen]


class FileSearchTool:
    """``{"type": "file_search", "vector_store_ids": [...]}`` in a Responses request's ``tools``."""

    def __init__(self, service: VectorStores) -> None:
        self.service = service

    def check(self, account: str, tool: Mapping[str, Any], param: str) -> None:
        check_tool(self.service, account, tool, param)

    def run(self, call: ToolCall) -> ToolResult:
        include = call.prompt.body.get("include")
        wanted = isinstance(include, list) and INCLUDE_RESULTS in include
        call_id = "fs_" + token(call.ident, f"file_search:{call.index}", HEX, 48)
        run = run_tool(self.service, call.account, call.tool, call.prompt.question, call_id, wanted)
        documents = found_documents(run.hits)
        at = sum(len(describe(d)) + 1 for d in call.read)  # where this tool's lines start in the answer
        citations = []
        for document in documents:
            at += len(describe(document))
            citations.append(
                {"type": "file_citation", "file_id": document.ref, "filename": document.filename, "index": at}
            )
            at += 1
        return ToolResult(items=(run.item,), documents=documents, annotations=tuple(citations))


def found_documents(hits: tuple[Hit, ...]) -> tuple[Document, ...]:
    """The files found, once each, best first, as the answer names them: their found chunks' text."""
    texts: dict[str, list[str]] = {}
    files: dict[str, Hit] = {}
    for hit in hits:
        texts.setdefault(hit.file.file_id, []).append(hit.text)
        files.setdefault(hit.file.file_id, hit)
    return tuple(
        Document("file_id", file_id, hit.file.stored.filename, hit.file.stored.size, of_lines(texts[file_id]))
        for file_id, hit in files.items()
    )


def check_tool(service: VectorStores, account: str, tool: Mapping[str, Any], param: str) -> None:
    """Refuse a ``file_search`` entry the API would refuse (naming ``param``, ``tools[i]``)."""
    _stores_of(service, account, tool, param)
    _search(tool, "question", param)


def run_tool(
    service: VectorStores, account: str, tool: Mapping[str, Any], question: str, call_id: str, include: bool
) -> FileSearchRun:
    """Search the entry's stores for ``question``; ``include``: the item carries its results.
    ``call_id`` is the item's id (``fs_…``, made by the caller from the request's identity)."""
    stores = _stores_of(service, account, tool, "tools")
    request = _search(tool, question, "tools")
    hits = Searching(service).search(account, stores, request) if request.terms else []
    results = [
        {
            "attributes": dict(hit.file.attributes),
            "file_id": hit.file.file_id,
            "filename": hit.file.stored.filename,
            "score": hit.score,
            "text": hit.text,
        }
        for hit in hits
    ]
    item = {
        "id": call_id,
        "type": "file_search_call",
        "status": "completed",
        "queries": list(request.queries),
        "results": results if include else None,
    }
    return FileSearchRun(item, tuple(hits))


def _stores_of(service: VectorStores, account: str, tool: Mapping[str, Any], param: str) -> list[str]:
    params.known(tool, TOOL_FIELDS, param)
    given = tool.get("vector_store_ids")
    where = f"{param}.vector_store_ids"
    if given is None:
        raise MissingParameter(where)
    if not isinstance(given, list):
        raise InvalidType(where, expected="an array", got=json_type(given))
    if not given:
        raise InvalidRequest("array_empty", param=where)
    for i, store_id in enumerate(given):
        if not isinstance(store_id, str):
            raise InvalidType(f"{where}[{i}]", expected="a string", got=json_type(store_id))
    with service.at_now() as now:
        for store_id in given:
            service.writable(account, store_id, now)
    return list(given)


def _search(tool: Mapping[str, Any], question: str, param: str) -> Search:
    body: dict[str, object] = {"query": question or " "}
    for name in ("max_num_results", "filters", "ranking_options"):
        if tool.get(name) is not None:
            body[name] = tool[name]
    try:
        return Search.parse(body)
    except InvalidRequest as refusal:  # named as the tool's field
        if refusal.param is not None:
            refusal.param = f"{param}.{refusal.param}"
        raise
