"""The model routes through the other clients people point at them: the official Node SDK
(tests/node/chat.mjs), litellm's ``completion`` (sync, async, streamed) with a file part, and curl."""

from __future__ import annotations

import json
import os
import shutil
import subprocess

import pytest

from mockfiles import MockFilesServer
from tests.support.chatting import REPORT, asking, file_part, named
from tests.support.node_clients import HERE, NODE, requires_node

pytestmark = pytest.mark.mockfiles(rate_limits=False)
ANSWER_END = "\nEcho: What is the total?"


@requires_node
def test_the_node_client_reads_a_file_through_chat_and_responses(mockfiles: MockFilesServer) -> None:
    spec = {"base_url": mockfiles.base_url, "api_key": mockfiles.api_key, "text": REPORT.decode()}
    assert NODE is not None
    done = subprocess.run(
        [NODE, str(HERE / "chat.mjs"), json.dumps(spec)], capture_output=True, text=True, timeout=120, cwd=HERE
    )
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout)
    line = named(seen["file_id"], "report.txt", REPORT, 8, "Quarterly report")
    assert seen["completion"] == seen["streamed"] == line + ANSWER_END
    assert seen["usage"]["total_tokens"] == seen["usage"]["prompt_tokens"] + seen["usage"]["completion_tokens"] > 0
    assert seen["response"] == seen["final"] == line + "\nEcho: Sum?"
    assert seen["events"][0] == "response.created" and seen["events"][-1] == "response.completed"
    assert seen["model"] == "gpt-4o-mini"
    assert seen["refusal"] == {
        "status": 400,
        "error": "BadRequestError",
        "param": "messages[0].content[0].file.file_id",
        "code": "invalid_value",
    }


os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")  # no fetch of the model price list at import


@pytest.mark.filterwarnings("ignore::UserWarning:pydantic")
@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_litellm_completion_with_a_file_part(mockfiles: MockFilesServer) -> None:
    litellm = pytest.importorskip("litellm")
    where = {"api_base": mockfiles.base_url, "api_key": mockfiles.api_key}
    with mockfiles.client(max_retries=0) as c:
        f = c.files.create(file=("report.txt", REPORT), purpose="user_data")
    expected = named(f.id, "report.txt", REPORT, 8, "Quarterly report") + ANSWER_END
    done = litellm.completion(model="openai/gpt-4o-mini", messages=asking(file_part(f.id)), **where)
    assert done.choices[0].message.content == expected
    assert done.usage.prompt_tokens == 3 + 3 + 1 + 5 + 13
    streamed = litellm.completion(model="openai/gpt-4o-mini", messages=asking(file_part(f.id)), stream=True, **where)
    assert "".join(chunk.choices[0].delta.content or "" for chunk in streamed) == expected
    with pytest.raises(litellm.NotFoundError):
        litellm.completion(model="openai/gpt-4o-mini", messages=asking(file_part("file-nope")), max_retries=0, **where)


@pytest.mark.filterwarnings("ignore::UserWarning:pydantic")
@pytest.mark.filterwarnings("ignore::DeprecationWarning")
async def test_litellm_acompletion_with_a_file_part(mockfiles: MockFilesServer) -> None:
    litellm = pytest.importorskip("litellm")
    where = {"api_base": mockfiles.base_url, "api_key": mockfiles.api_key}
    async with mockfiles.async_client(max_retries=0) as c:
        f = await c.files.create(file=("report.txt", REPORT), purpose="user_data")
    done = await litellm.acompletion(model="openai/gpt-4o-mini", messages=asking(file_part(f.id)), **where)
    assert done.choices[0].message.content == named(f.id, "report.txt", REPORT, 8, "Quarterly report") + ANSWER_END


CURL = shutil.which("curl")


@pytest.mark.skipif(CURL is None, reason="curl is not installed")
def test_curl_streams_and_is_refused(mockfiles: MockFilesServer) -> None:
    assert CURL is not None
    with mockfiles.client(max_retries=0) as c:
        f = c.files.create(file=("report.txt", REPORT), purpose="user_data")
    body = {"model": "gpt-4o-mini", "messages": asking(file_part(f.id)), "stream": True}
    auth = ["-H", f"Authorization: Bearer {mockfiles.api_key}", "-H", "Content-Type: application/json"]
    done = subprocess.run(
        [CURL, "-sS", "-N", *auth, "-d", json.dumps(body), mockfiles.base_url + "/chat/completions"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    events = [line.removeprefix("data: ") for line in done.stdout.splitlines() if line.startswith("data: ")]
    assert events[-1] == "[DONE]"
    text = "".join(json.loads(e)["choices"][0]["delta"].get("content") or "" for e in events[:-1])
    assert text == named(f.id, "report.txt", REPORT, 8, "Quarterly report") + ANSWER_END
    bad = {"model": "gpt-4o-mini", "messages": asking(file_part("file-nope"))}
    done = subprocess.run(
        [CURL, "-sS", "-w", "\n%{http_code}", *auth, "-d", json.dumps(bad), mockfiles.base_url + "/chat/completions"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    answer, status = done.stdout.rsplit("\n", 1)
    assert status == "404"
    assert json.loads(answer) == {
        "error": {
            "message": "No such File object: file-nope",
            "type": "invalid_request_error",
            "param": "messages[0].content[0].file.file_id",
            "code": None,
        }
    }
