"""Uploaded files read by the model routes, through the openai SDK (sync and async, strict response
validation): Chat Completions with file parts and Responses with input_file, streamed and not; the
answer names each file read (id, filename, size, word count, first line); the models routes."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import openai
import pytest
from openai.types import Model
from openai.types.chat import ChatCompletion, ChatCompletionChunk
from openai.types.responses import Response

from mockfiles import MockFilesServer
from mockfiles.inference.text import tokens
from tests.support.chatting import REPORT, asking, data_url, file_part, named, pdf

pytestmark = pytest.mark.mockfiles(rate_limits=False)


@pytest.fixture
def strict(mockfiles: MockFilesServer) -> Iterator[openai.OpenAI]:
    with mockfiles.client(max_retries=0, _strict_response_validation=True) as c:
        yield c


@pytest.fixture
async def astrict(mockfiles: MockFilesServer) -> AsyncIterator[openai.AsyncOpenAI]:
    async with mockfiles.async_client(max_retries=0, _strict_response_validation=True) as c:
        yield c


def strictly(model: type[ChatCompletion | ChatCompletionChunk | Response], body: dict[str, object]) -> None:
    """The SDK's model takes the body in strict mode, every field known to it."""
    model.model_validate(body, strict=True)
    assert set(body) <= set(model.model_fields), set(body) - set(model.model_fields)


def test_a_chat_completion_names_the_file_it_read(strict: openai.OpenAI, mockfiles: MockFilesServer) -> None:
    f = strict.files.create(file=("report.txt", REPORT), purpose="user_data")
    done = strict.chat.completions.create(model="gpt-4o-mini", messages=asking(file_part(f.id)))
    expected = named(f.id, "report.txt", REPORT, 8, "Quarterly report") + "\nEcho: What is the total?"
    assert done.choices[0].message.content == expected
    assert done.choices[0].finish_reason == "stop" and done.object == "chat.completion"
    assert done.usage is not None and done.usage.prompt_tokens == 3 + 3 + 1 + 5 + 13  # the file's 13 tokens
    (entry,) = mockfiles.requests("chat.completions.create")
    assert entry["model"] == "gpt-4o-mini" and entry["files"] == [f.id] and entry["stream"] is False
    assert entry["usage"] == {
        "prompt_tokens": done.usage.prompt_tokens,
        "completion_tokens": done.usage.completion_tokens,
    }


def test_the_wire_shape_is_the_sdks_strictly(strict: openai.OpenAI) -> None:
    f = strict.files.create(file=("report.txt", REPORT), purpose="assistants")
    raw = strict.chat.completions.with_raw_response.create(model="gpt-4o", messages=asking(file_part(f.id)), n=2)
    body = raw.http_response.json()
    strictly(ChatCompletion, body)
    assert [c["index"] for c in body["choices"]] == [0, 1] and raw.headers["x-request-id"].startswith("req_")
    assert body["usage"]["completion_tokens"] == 2 * tokens(body["choices"][0]["message"]["content"])


def test_a_streamed_chat_completion_sends_a_chunk_per_word_and_the_usage(strict: openai.OpenAI) -> None:
    f = strict.files.create(file=("notes.pdf", pdf("Meeting notes", "Budget approved")), purpose="user_data")
    stream = strict.chat.completions.create(
        model="gpt-4.1", messages=asking(file_part(f.id)), stream=True, stream_options={"include_usage": True}
    )
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text.startswith(f'File {f.id} "notes.pdf": ') and ', 4 words, first line "Meeting notes".' in text
    assert text.endswith("\nEcho: What is the total?")
    assert chunks[0].choices[0].delta.role == "assistant" and chunks[-2].choices[0].finish_reason == "stop"
    assert chunks[-1].choices == [] and chunks[-1].usage is not None and chunks[-1].usage.total_tokens > 0
    assert all(c.usage is None for c in chunks[:-1])
    assert len(chunks) == 1 + len(text.split()) + 1 + 1  # role, a word each, finish, usage


def test_stream_chunks_on_the_wire(strict: openai.OpenAI, mockfiles: MockFilesServer) -> None:
    import httpx

    f = strict.files.create(file=("report.txt", REPORT), purpose="user_data")
    body = {"model": "gpt-4o-mini", "messages": asking(file_part(f.id)), "stream": True}
    with httpx.stream(
        "POST",
        mockfiles.base_url + "/chat/completions",
        json=body,
        headers={"Authorization": f"Bearer {mockfiles.api_key}"},
    ) as answer:
        assert answer.headers["content-type"] == "text/event-stream; charset=utf-8"
        events = [line for line in answer.iter_lines() if line]
    assert events[-1] == "data: [DONE]"
    import json

    for event in events[:-1]:
        chunk = json.loads(event.removeprefix("data: "))
        strictly(ChatCompletionChunk, chunk)
        assert "usage" not in chunk  # include_usage not asked for


def test_a_response_reads_an_input_file(strict: openai.OpenAI) -> None:
    f = strict.files.create(file=("report.txt", REPORT), purpose="user_data")
    done = strict.responses.create(
        model="gpt-4o-mini",
        input=[
            {
                "role": "user",
                "content": [{"type": "input_file", "file_id": f.id}, {"type": "input_text", "text": "Sum?"}],
            }
        ],
        instructions="Be brief.",
    )
    assert done.output_text == named(f.id, "report.txt", REPORT, 8, "Quarterly report") + "\nEcho: Sum?"
    assert done.status == "completed" and done.instructions == "Be brief."
    assert done.usage is not None and done.usage.input_tokens == (3 + 1 + 13) + 3  # message, file, instructions


def test_a_response_reads_inline_file_data_and_names_a_file_url(strict: openai.OpenAI) -> None:
    inline = pdf("Invoice 7", "Amount due: 300", compressed=True)
    done = strict.responses.create(
        model="gpt-5",
        input=[
            {
                "role": "user",
                "content": [
                    {"type": "input_file", "file_data": data_url(inline), "filename": "invoice.pdf"},
                    {"type": "input_file", "file_url": "https://example.com/docs/terms.pdf"},
                    {"type": "input_text", "text": "Due?"},
                ],
            }
        ],
    )
    assert done.output_text.splitlines() == [
        f'File data "invoice.pdf": {len(inline):,} bytes, 5 words, first line "Invoice 7".',
        'File URL https://example.com/docs/terms.pdf "terms.pdf": not fetched.',
        "Echo: Due?",
    ]


def test_a_streamed_response_sends_the_events_the_sdk_assembles(strict: openai.OpenAI) -> None:
    f = strict.files.create(file=("brief.md", b"# Project brief\n\nLaunch in May.\n"), purpose="user_data")
    content = [{"type": "input_file", "file_id": f.id}, {"type": "input_text", "text": "When?"}]
    with strict.responses.stream(model="gpt-4o", input=[{"role": "user", "content": content}]) as stream:
        kinds = [event.type for event in stream]
        final = stream.get_final_response()
    assert final.output_text.startswith(f'File {f.id} "brief.md": 32 bytes, 6 words, first line "# Project brief".')
    words = len(final.output_text.split())
    assert kinds == [
        "response.created",
        "response.in_progress",
        "response.output_item.added",
        "response.content_part.added",
        *["response.output_text.delta"] * words,
        "response.output_text.done",
        "response.content_part.done",
        "response.output_item.done",
        "response.completed",
    ]
    strictly(Response, final.model_dump(mode="json", exclude_unset=True))


def test_max_output_tokens_cuts_the_answer_and_the_stream_ends_incomplete(strict: openai.OpenAI) -> None:
    f = strict.files.create(file=("report.txt", REPORT), purpose="user_data")
    content = [{"type": "input_file", "file_id": f.id}, {"type": "input_text", "text": "Sum?"}]
    stream = strict.responses.create(
        model="gpt-4o", input=[{"role": "user", "content": content}], max_output_tokens=16, stream=True
    )
    events = list(stream)
    assert events[-1].type == "response.incomplete"
    assert events[-1].response.incomplete_details is not None and events[-1].response.usage.output_tokens <= 16  # type: ignore[union-attr]
    assert [e.sequence_number for e in events] == list(range(len(events)))


def test_the_models_routes_list_what_the_routes_answer_for(strict: openai.OpenAI) -> None:
    listed = [m.id for m in strict.models.list()]
    assert {"gpt-4o-mini", "gpt-4.1", "text-embedding-3-small"} <= set(listed) and "qwen-long" not in listed
    model = strict.models.retrieve("gpt-4o")
    assert isinstance(model, Model) and model.owned_by == "system" and model.object == "model"


async def test_async_chat_and_responses_read_files(astrict: openai.AsyncOpenAI) -> None:
    f = await astrict.files.create(file=("report.txt", REPORT), purpose="user_data")
    line = named(f.id, "report.txt", REPORT, 8, "Quarterly report")
    done = await astrict.chat.completions.create(model="gpt-4o-mini", messages=asking(file_part(f.id)))
    assert done.choices[0].message.content == line + "\nEcho: What is the total?"
    stream = await astrict.chat.completions.create(model="gpt-4o-mini", messages=asking(file_part(f.id)), stream=True)
    assert "".join([c.choices[0].delta.content or "" async for c in stream]) == line + "\nEcho: What is the total?"
    content = [{"type": "input_file", "file_id": f.id}, {"type": "input_text", "text": "Sum?"}]
    response = await astrict.responses.create(model="gpt-4o-mini", input=[{"role": "user", "content": content}])
    assert response.output_text == line + "\nEcho: Sum?"
    streamed = await astrict.responses.create(
        model="gpt-4o-mini", input=[{"role": "user", "content": content}], stream=True
    )
    assert [e async for e in streamed][-1].type == "response.completed"
    assert (await astrict.models.retrieve("o3")).id == "o3"


def test_chat_file_data_is_read_as_a_pdf(strict: openai.OpenAI) -> None:
    inline = pdf("Signed contract")
    part = {"type": "file", "file": {"file_data": data_url(inline), "filename": "contract.pdf"}}
    done = strict.chat.completions.create(model="gpt-4o-mini", messages=asking(part, text="Signed?"))
    assert (
        done.choices[0].message.content
        == f'File data "contract.pdf": {len(inline):,} bytes, 2 words, first line "Signed contract".\nEcho: Signed?'
    )


def test_in_process_clients_stream_too(mockfiles: MockFilesServer) -> None:
    with mockfiles.client(in_process=True, max_retries=0) as c:
        f = c.files.create(file=("report.txt", REPORT), purpose="user_data")
        chunks = list(c.chat.completions.create(model="gpt-4o-mini", messages=asking(file_part(f.id)), stream=True))
    assert "".join(x.choices[0].delta.content or "" for x in chunks).endswith("Echo: What is the total?")
