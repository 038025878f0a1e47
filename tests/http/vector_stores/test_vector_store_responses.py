"""The file_search tool of POST /v1/responses over the vector stores, with the openai SDK (sync, async,
streamed): the file_search_call item, its results with include=["file_search_call.results"], an
answer naming the files found with file_citation annotations at the end of each file's line;
deterministic; the refusals of a bad tool entry."""

from __future__ import annotations

from typing import Any

import httpx
import openai
import pytest
from openai.types.responses import ResponseFileSearchToolCall, ResponseOutputMessage

from mockfiles import MockFilesServer
from tests.support.vectoring import refused, strictly

pytestmark = pytest.mark.mockfiles(rate_limits=False)
HANDBOOK = [
    ("leave.md", b"Employees get 25 days of paid leave per year. Unused days carry over until March."),
    ("expenses.md", b"Travel expenses are refunded within 30 days when receipts are attached."),
    ("security.txt", b"Badges must be worn at all times in the office."),
]
INCLUDE = ["file_search_call.results"]


def handbook(client: openai.OpenAI) -> str:
    store = client.vector_stores.create(name="handbook")
    client.vector_stores.file_batches.upload_and_poll(store.id, files=HANDBOOK)
    return store.id


def test_file_search_answers_citing_the_files_found(client: openai.OpenAI) -> None:
    store = handbook(client)
    tool: Any = {"type": "file_search", "vector_store_ids": [store], "max_num_results": 2}
    response = client.responses.create(
        model="gpt-4o-mini", input="How many days of paid leave do I get?", tools=[tool], include=INCLUDE
    )
    call, message = response.output
    assert isinstance(call, ResponseFileSearchToolCall) and isinstance(message, ResponseOutputMessage)
    strictly(ResponseFileSearchToolCall, call.model_dump(exclude_unset=True))
    assert call.id.startswith("fs_") and call.status == "completed"
    assert call.queries == ["How many days of paid leave do I get?"]
    assert call.results is not None and [r.filename for r in call.results] == ["leave.md", "expenses.md"]
    assert call.results[0].text == HANDBOOK[0][1].decode() and 0 < (call.results[0].score or 0) < 1
    text = response.output_text
    lines = text.split("\n")
    assert lines[0].startswith(f'File {call.results[0].file_id} "leave.md"') and lines[-1].startswith("Echo: ")
    part = message.content[0]
    assert part.type == "output_text"
    citations = [a for a in part.annotations if a.type == "file_citation"]
    assert [(a.file_id, a.filename) for a in citations] == [(r.file_id, r.filename) for r in call.results]
    for annotation, line in zip(citations, lines, strict=False):
        assert text[: annotation.index].endswith(line)  # at the end of the file's line
    assert response.usage is not None and response.usage.input_tokens > 10  # the results count as input


def test_results_only_when_included_and_the_same_every_time(client: openai.OpenAI) -> None:
    store = handbook(client)
    tool: Any = {"type": "file_search", "vector_store_ids": [store]}
    plain = client.responses.create(model="gpt-4o-mini", input="badges in the office", tools=[tool])
    call = plain.output[0]
    assert isinstance(call, ResponseFileSearchToolCall) and call.results is None
    assert "security.txt" in plain.output_text
    again = client.responses.create(model="gpt-4o-mini", input="badges in the office", tools=[tool])
    assert again.output_text == plain.output_text


def test_filters_and_a_deleted_file(client: openai.OpenAI) -> None:
    store = handbook(client)
    names = {f.id: client.files.retrieve(f.id).filename for f in client.vector_stores.files.list(store)}
    leave = next(i for i, name in names.items() if name == "leave.md")
    client.vector_stores.files.update(leave, vector_store_id=store, attributes={"team": "hr"})
    tool: Any = {
        "type": "file_search",
        "vector_store_ids": [store],
        "filters": {"type": "eq", "key": "team", "value": "hr"},
    }
    found = client.responses.create(model="gpt-4o-mini", input="days", tools=[tool], include=INCLUDE)
    call = found.output[0]
    assert isinstance(call, ResponseFileSearchToolCall) and [r.filename for r in call.results or []] == ["leave.md"]
    client.files.delete(leave)
    after = client.responses.create(model="gpt-4o-mini", input="paid leave", tools=[tool], include=INCLUDE)
    call = after.output[0]
    assert isinstance(call, ResponseFileSearchToolCall) and call.results == [] and "leave.md" not in after.output_text


def test_a_streamed_response_carries_the_call_first(client: openai.OpenAI) -> None:
    store = handbook(client)
    tool: Any = {"type": "file_search", "vector_store_ids": [store]}
    events = list(client.responses.create(model="gpt-4o-mini", input="expenses refunded", tools=[tool], stream=True))
    added = [e for e in events if e.type == "response.output_item.added"]
    assert added[0].item.type == "file_search_call" and added[1].item.type == "message"
    done = events[-1]
    assert done.type == "response.completed" and "expenses.md" in done.response.output_text


async def test_the_async_client(aclient: openai.AsyncOpenAI) -> None:
    store = await aclient.vector_stores.create(name="async handbook")
    await aclient.vector_stores.file_batches.upload_and_poll(store.id, files=HANDBOOK)
    tool: Any = {"type": "file_search", "vector_store_ids": [store.id]}
    response = await aclient.responses.create(model="gpt-4o-mini", input="paid leave", tools=[tool], include=INCLUDE)
    call = response.output[0]
    assert isinstance(call, ResponseFileSearchToolCall) and call.results and call.results[0].filename == "leave.md"


def test_tool_entries_the_api_refuses(mockfiles: MockFilesServer, http: httpx.Client) -> None:
    def ask(tool: dict[str, Any]) -> httpx.Response:
        return http.post("/v1/responses", json={"model": "gpt-4o-mini", "input": "hi", "tools": [tool]})

    refused(
        ask({"type": "file_search"}),
        400,
        "Missing required parameter: 'tools[0].vector_store_ids'.",
        "missing_required_parameter",
        "tools[0].vector_store_ids",
    )
    refused(
        ask({"type": "file_search", "vector_store_ids": ["vs_nope"]}),
        404,
        "No vector store found with id 'vs_nope'.",
        None,
        None,
    )
    refused(
        ask({"type": "file_search", "vector_store_ids": ["file-x"]}),
        400,
        "Invalid 'vector_store_id': 'file-x'. Expected an ID that begins with 'vs_'.",
        "invalid_value",
        "vector_store_id",
    )
    store = http.post("/v1/vector_stores", json={}).json()["id"]
    refused(
        ask({"type": "file_search", "vector_store_ids": [store], "max_num_results": 0}),
        400,
        "Invalid 'tools[0].max_num_results': integer below minimum value. Expected a value >= 1, but got 0 instead.",
        "integer_below_min_value",
        "tools[0].max_num_results",
    )
    assert ask({"type": "file_search", "vector_store_ids": [store]}).status_code == 200  # an empty store: nothing found
