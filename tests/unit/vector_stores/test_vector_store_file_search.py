"""The file_search tool as a domain function (mockfiles/vector_stores/file_search.py), as the Responses
API runs it: a tool entry checked, the search over its stores, the file_search_call item (with its
results when asked), file_citation annotations; the SDK's types taken strictly."""

from __future__ import annotations

from typing import Any

import pytest
from openai.types.responses import ResponseFileSearchToolCall
from openai.types.responses.response_output_text import AnnotationFileCitation

from mockfiles.core.errors import MockFilesError
from mockfiles.emulator import Emulator, Settings
from mockfiles.vector_stores.file_search import check_tool, run_tool
from mockfiles.vector_stores.requests import CreateStore
from tests.support.vectoring import BIRDS, CATS, DOGS, strictly

KEY = "sk-tool"


def world() -> tuple[Emulator, str, dict[str, str]]:
    emulator = Emulator(Settings(scenario={"vector_stores": {"ingestion": 0}}))
    made = {
        name: emulator.files.create(KEY, purpose="assistants", filename=name, chunks=[text], size=len(text)).id
        for name, text in (("cats.txt", CATS), ("dogs.md", DOGS), ("birds.txt", BIRDS))
    }
    store = emulator.vector_stores.create(KEY, CreateStore.parse({"name": "pets", "file_ids": list(made.values())}))
    return emulator, store["id"], made


def test_the_call_its_results_and_citations() -> None:
    emulator, store, made = world()
    tool = {"type": "file_search", "vector_store_ids": [store], "max_num_results": 2}
    check_tool(emulator.vector_stores, KEY, tool, "tools[0]")
    run = run_tool(emulator.vector_stores, KEY, tool, "Which dog barks at strangers?", "fs_1", include=True)
    call = strictly(ResponseFileSearchToolCall, run.item)
    assert (call.id, call.status, call.queries) == ("fs_1", "completed", ["Which dog barks at strangers?"])
    assert call.results is not None and call.results[0].file_id == made["dogs.md"]
    assert call.results[0].filename == "dogs.md" and call.results[0].text == DOGS.decode()
    assert 0 < (call.results[0].score or 0) < 1
    citations = run.citations(42)
    assert [strictly(AnnotationFileCitation, c).file_id for c in citations] == [r.file_id for r in call.results]
    assert citations[0] == {"type": "file_citation", "file_id": made["dogs.md"], "filename": "dogs.md", "index": 42}
    again = run_tool(emulator.vector_stores, KEY, tool, "Which dog barks at strangers?", "fs_1", include=True)
    assert again.item == run.item  # deterministic
    quiet = run_tool(emulator.vector_stores, KEY, tool, "Which dog barks at strangers?", "fs_2", include=False)
    assert quiet.item["results"] is None and [h.file.file_id for h in quiet.hits] == [r.file_id for r in call.results]


def test_filters_and_several_stores() -> None:
    emulator, store, made = world()
    other = emulator.vector_stores.create(KEY, CreateStore.parse({"name": "more", "file_ids": [made["cats.txt"]]}))[
        "id"
    ]
    tool = {
        "type": "file_search",
        "vector_store_ids": [store, other],
        "filters": {"type": "eq", "key": "missing", "value": 1},
    }
    assert run_tool(emulator.vector_stores, KEY, tool, "cats purr", "fs", include=True).item["results"] == []
    both = run_tool(emulator.vector_stores, KEY, {**tool, "filters": None}, "cats purr", "fs", include=True)
    assert [r["file_id"] for r in both.item["results"]] == [made["cats.txt"], made["cats.txt"]]  # one per store
    assert len(both.citations(0)) == 1  # a file is cited once


@pytest.mark.parametrize(
    ("tool", "status", "param", "message"),
    [
        (
            {"type": "file_search"},
            400,
            "tools[0].vector_store_ids",
            "Missing required parameter: 'tools[0].vector_store_ids'.",
        ),
        (
            {"type": "file_search", "vector_store_ids": []},
            400,
            "tools[0].vector_store_ids",
            "Invalid 'tools[0].vector_store_ids': empty array. Expected an array with minimum length 1, but got an empty array instead.",
        ),
        (
            {"type": "file_search", "vector_store_ids": "vs_1"},
            400,
            "tools[0].vector_store_ids",
            "Invalid type for 'tools[0].vector_store_ids': expected an array, but got a string instead.",
        ),
        (
            {"type": "file_search", "vector_store_ids": ["vs_nope"]},
            404,
            None,
            "No vector store found with id 'vs_nope'.",
        ),
        (
            {"type": "file_search", "vector_store_ids": ["{store}"], "max_num_results": 51},
            400,
            "tools[0].max_num_results",
            "Invalid 'tools[0].max_num_results': integer above maximum value. Expected a value <= 50, but got 51 instead.",
        ),
        (
            {"type": "file_search", "vector_store_ids": ["{store}"], "top_k": 3},
            400,
            "tools[0].top_k",
            "Unknown parameter: 'tools[0].top_k'.",
        ),
    ],
)
def test_entries_the_api_refuses(tool: dict[str, Any], status: int, param: str | None, message: str) -> None:
    emulator, store, _ = world()
    ids = tool.get("vector_store_ids")
    if isinstance(ids, list):
        tool = {**tool, "vector_store_ids": [store if i == "{store}" else i for i in ids]}
    with pytest.raises(MockFilesError) as info:
        check_tool(emulator.vector_stores, KEY, tool, "tools[0]")
    assert (info.value.status, info.value.param, info.value.message) == (status, param, message)
    with pytest.raises(MockFilesError):
        check_tool(
            emulator.vector_stores, "sk-someone-else", {"type": "file_search", "vector_store_ids": [store]}, "tools[0]"
        )
