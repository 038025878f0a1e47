"""A batch line whose body names a file goes through the model routes' file check: its answer names
the file it read, and a file it may not use fails the line with the routes' own refusal."""

from __future__ import annotations

import json

import pytest

from mockfiles import MockFilesServer
from tests.support.batching import KEY, World, chat_line
from tests.support.chatting import REPORT, asking, file_part, named
from tests.support.helpers import jsonl


def file_line(custom_id: str, file_id: str) -> dict[str, object]:
    line = chat_line(custom_id)
    line["body"]["messages"] = asking(file_part(file_id))  # type: ignore[index]
    return line


def test_a_line_reading_a_file_names_it_and_a_bad_file_fails_the_line() -> None:
    world = World()
    doc = world.upload(REPORT, purpose="user_data", filename="report.txt")
    wrong = world.upload(b'{"a": 1}\n', purpose="batch", filename="other.jsonl")
    batch = world.create(jsonl(file_line("ok", doc), file_line("missing", "file-nope"), file_line("wrong", wrong)))
    done = world.get(batch["id"])
    assert done["status"] == "completed" and done["request_counts"] == {"total": 3, "completed": 1, "failed": 2}
    (ok,) = world.lines(done["output_file_id"])
    content = ok["response"]["body"]["choices"][0]["message"]["content"]
    assert content == named(doc, "report.txt", REPORT, 8, "Quarterly report") + "\nEcho: What is the total?"
    assert ok["response"]["body"]["usage"]["prompt_tokens"] == 3 + 3 + 1 + 5 + 13
    errors = {line["custom_id"]: line["response"] for line in world.lines(done["error_file_id"])}
    assert errors["missing"]["status_code"] == 404
    assert errors["missing"]["body"] == {
        "error": {
            "message": "No such File object: file-nope",
            "type": "invalid_request_error",
            "param": "messages[0].content[0].file.file_id",
            "code": None,
        }
    }
    assert errors["wrong"]["status_code"] == 400 and errors["wrong"]["body"]["error"]["code"] == "invalid_value"


def test_the_check_is_made_when_the_batch_is_validated() -> None:
    world = World(scenario={"batches": {"timing": {"in_progress": "1h"}}})
    doc = world.upload(REPORT, purpose="user_data", filename="report.txt")
    batch = world.create(jsonl(file_line("a", doc), file_line("b", doc)))
    world.files.delete(KEY, doc)  # after validation: the lines were checked (and read) already
    world.advance(3600)
    done = world.get(batch["id"])
    assert done["request_counts"] == {"total": 2, "completed": 2, "failed": 0}
    assert all(
        '"report.txt"' in line["response"]["body"]["choices"][0]["message"]["content"]
        for line in world.lines(done["output_file_id"])
    )


def test_a_responses_line_with_input_file() -> None:
    world = World()
    doc = world.upload(REPORT, purpose="user_data", filename="report.txt")
    body = {
        "model": "gpt-4o-mini",
        "input": [
            {
                "role": "user",
                "content": [{"type": "input_file", "file_id": doc}, {"type": "input_text", "text": "Sum?"}],
            }
        ],
    }
    line = {"custom_id": "r", "method": "POST", "url": "/v1/responses", "body": body}
    done = world.get(world.create(jsonl(line), endpoint="/v1/responses")["id"])
    (out,) = world.lines(done["output_file_id"])
    assert out["response"]["body"]["output"][0]["content"][0]["text"].endswith("Echo: Sum?")


@pytest.mark.mockfiles(profile="dashscope", rate_limits=False)
def test_a_dashscope_batch_of_qwen_long_lines(mockfiles: MockFilesServer) -> None:
    import openai

    with openai.OpenAI(api_key=mockfiles.api_key, base_url=mockfiles.url + "/compatible-mode/v1", max_retries=0) as ds:
        doc = ds.files.create(file=("a.txt", b"alpha beta\n"), purpose="file-extract")

        def line(custom_id: str, file_id: str) -> dict[str, object]:
            messages = [{"role": "system", "content": f"fileid://{file_id}"}, {"role": "user", "content": "Summarise"}]
            return {
                "custom_id": custom_id,
                "method": "POST",
                "url": "/v1/chat/completions",
                "body": {"model": "qwen-long", "messages": messages},
            }

        source = ds.files.create(
            file=("in.jsonl", jsonl(line("ok", doc.id), line("bad", "file-fe-0"))), purpose="batch"
        )
        batch = ds.batches.create(input_file_id=source.id, endpoint="/v1/chat/completions", completion_window="24h")
        done = ds.batches.retrieve(batch.id)
        assert done.request_counts is not None and (done.request_counts.completed, done.request_counts.failed) == (1, 1)
        assert done.output_file_id is not None and done.error_file_id is not None
        out = json.loads(ds.files.content(done.output_file_id).text)
        assert out["response"]["body"]["choices"][0]["message"]["content"].startswith(
            f'File {doc.id} "a.txt": 11 bytes'
        )
        error = json.loads(ds.files.content(done.error_file_id).text)
        assert error["response"]["body"]["error"] == {
            "message": "Invalid file [id:file-fe-0].",
            "type": "invalid_request_error",
            "param": None,
            "code": "invalid_parameter_error",
        }
