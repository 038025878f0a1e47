"""The model routes under scenarios and chaos: fault rules matching a request's model, files and
text (a status, a delay, a stream cut after N events), scripted answers, the inference rate class
(requests and tokens per minute, x-ratelimit-*-tokens), retry tests, and what the journal keeps."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import openai
import pytest

from mockfiles import MockFilesServer
from mockfiles.core.accounts import account_id
from mockfiles.exceptions import ScenarioError
from mockfiles.scenarios.scenario import load_scenario
from tests.support.chatting import REPORT, asking, error_of, file_part, pdf, refused

CHAT = "chat.completions.create"


@pytest.fixture
def c(mockfiles: MockFilesServer) -> Iterator[openai.OpenAI]:
    with mockfiles.client(max_retries=0) as client:
        yield client


def upload(c: openai.OpenAI, name: str = "report.txt", content: bytes = REPORT) -> str:
    return c.files.create(file=(name, content), purpose="user_data").id


CUT = {"faults": [{"name": "cut", "match": {"endpoint": [CHAT, "responses.create"]}, "after_events": 3}]}


@pytest.mark.mockfiles(scenario=CUT, rate_limits=False)
def test_a_stream_is_cut_after_n_events(mockfiles: MockFilesServer, c: openai.OpenAI) -> None:
    f = upload(c)
    stream = c.chat.completions.create(model="gpt-4o-mini", messages=asking(file_part(f)), stream=True)
    seen = []
    with pytest.raises(openai.APIConnectionError):
        for chunk in stream:
            seen.append(chunk)
    assert len(seen) == 3
    entry = mockfiles.requests(CHAT)[-1]
    assert (
        entry["rule"] == "cut" and entry["action"] == "broken_stream after 3 events" and entry["cut_after_events"] == 3
    )
    events = []
    with pytest.raises(openai.APIConnectionError):
        for event in c.responses.create(model="gpt-4o-mini", input="hi", stream=True):
            events.append(event.type)
    assert events == ["response.created", "response.in_progress", "response.output_item.added"]
    with pytest.raises(openai.APIConnectionError):  # not streamed: the JSON is cut in half instead
        c.chat.completions.create(model="gpt-4o-mini", messages=asking(file_part(f)))


SELECTIVE = {
    "faults": [
        {"name": "slow-pdfs", "match": {"endpoint": CHAT, "filename": "*.pdf"}, "delay": "50ms"},
        {"name": "urgent", "match": {"endpoint": CHAT, "model": "gpt-4o*", "prompt": "*urgent*"}, "status": 503},
        {
            "name": "one-file",
            "match": {"endpoint": "responses.create", "file_id": "file-*"},
            "status": 429,
            "headers": {"retry-after": "2"},
        },
    ]
}


@pytest.mark.mockfiles(scenario=SELECTIVE, rate_limits=False)
def test_fault_rules_match_model_files_and_prompt(mockfiles: MockFilesServer, c: openai.OpenAI) -> None:
    f = upload(c, "notes.pdf", pdf("Notes"))
    assert c.chat.completions.create(model="gpt-4o-mini", messages=asking(file_part(f))).choices
    slow = mockfiles.requests(CHAT)[-1]
    assert slow["rule"] == "slow-pdfs" and slow["delay_ms"] == 50.0 and slow["status"] == 200
    status, body = refused(lambda: c.chat.completions.create(model="gpt-4o", messages=asking(text="urgent: sum?")))
    assert status == 503 and body["message"] == "The server is overloaded or not ready yet."
    assert c.chat.completions.create(model="gpt-4.1", messages=asking(text="urgent: sum?")).choices  # another model
    content = [{"type": "input_file", "file_id": f}, {"type": "input_text", "text": "?"}]
    with pytest.raises(openai.RateLimitError) as raised:
        c.responses.create(model="gpt-4o", input=[{"role": "user", "content": content}])
    assert raised.value.response.headers["retry-after"] == "2"
    assert c.responses.create(model="gpt-4o", input="no file").output_text == "Echo: no file"


SCRIPTED = {
    "chat": {
        "answers": [
            {"name": "totals", "match": {"filename": "report*", "prompt": "*total*"}, "text": "The total is 42 units."},
            {"match": {"endpoint": "responses.create", "model": "gpt-5*"}, "text": "Scripted for GPT-5."},
        ]
    }
}


@pytest.mark.mockfiles(scenario=SCRIPTED, rate_limits=False)
def test_scenario_answers_replace_the_stand_ins(mockfiles: MockFilesServer, c: openai.OpenAI) -> None:
    f = upload(c)
    done = c.chat.completions.create(model="gpt-4o-mini", messages=asking(file_part(f), text="What is the total?"))
    assert done.choices[0].message.content == "The total is 42 units."
    assert mockfiles.requests(CHAT)[-1]["answer_rule"] == "totals"
    other = c.chat.completions.create(model="gpt-4o-mini", messages=asking(file_part(f), text="Who wrote it?"))
    assert other.choices[0].message.content.endswith("Echo: Who wrote it?")
    streamed = c.responses.create(model="gpt-5-mini", input="anything", stream=True)
    assert [e for e in streamed][-1].response.output_text == "Scripted for GPT-5."  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("scenario", "says"),
    [
        (
            {"faults": [{"match": {"endpoint": "files.list"}, "after_events": 2}]},
            "after_events cuts a streamed answer: match endpoint chat.completions.create or responses.create",
        ),
        (
            {"faults": [{"match": {"endpoint": CHAT}, "after_events": 2, "status": 500}]},
            "after_events sends so many events, then resets: it cannot go with a status or action",
        ),
        (
            {"faults": [{"match": {"endpoint": "files.create", "model": "x"}, "status": 500}]},
            "model match a model request once its prompt is read",
        ),
        ({"chat": {"answers": [{"match": {"model": "x"}}]}}, "does nothing: give it a text or parse_error: true"),
        (
            {"chat": {"answers": [{"match": {"model": "x"}, "parse_error": True}]}},
            "parse_error needs match: {file_id: …} or {filename: …}",
        ),
        ({"chat": {"answers": [{"match": {"endpoint": "files.list"}, "text": "x"}]}}, "unknown endpoint 'files.list'"),
        ({"rate_limits": {"inference": {"requests": 0}}}, "must be"),
    ],
)
def test_bad_chat_scenarios_are_refused(scenario: dict[str, Any], says: str) -> None:
    with pytest.raises(ScenarioError) as raised:
        load_scenario(scenario)
    assert says in str(raised.value)


@pytest.mark.mockfiles(scenario={"rate_limits": {"inference": {"requests": 2}}})
def test_requests_per_minute(mockfiles: MockFilesServer, c: openai.OpenAI) -> None:
    first = c.chat.completions.with_raw_response.create(model="gpt-4o-mini", messages=asking())
    assert first.headers["x-ratelimit-limit-requests"] == "2" and first.headers["x-ratelimit-remaining-requests"] == "1"
    assert first.headers["x-ratelimit-reset-requests"] == "1m0s" and "x-ratelimit-limit-tokens" not in first.headers
    c.responses.create(model="gpt-4o-mini", input="hi")  # the same class: the second of the minute
    status, body = refused(lambda: c.chat.completions.create(model="gpt-4o-mini", messages=asking()))
    organization = account_id(mockfiles.api_key)
    assert status == 429 and body["type"] == "requests" and body["code"] == "rate_limit_exceeded"
    assert body["message"].startswith(
        f"Rate limit reached for chat.completions.create in organization {organization} on requests per min (RPM): Limit 2, Used 2, Requested 1. Please try again in "
    )
    assert c.files.list().data == []  # the files' classes are apart
    mockfiles.advance(60)
    assert c.chat.completions.create(model="gpt-4o-mini", messages=asking()).choices


@pytest.mark.mockfiles(scenario={"rate_limits": {"inference": {"tokens": 200}}})
def test_tokens_per_minute(mockfiles: MockFilesServer, c: openai.OpenAI) -> None:
    answer = c.chat.completions.with_raw_response.create(model="gpt-4o-mini", messages=asking())
    used = answer.parse().usage.total_tokens  # type: ignore[union-attr]
    assert answer.headers["x-ratelimit-limit-tokens"] == "200"
    assert answer.headers["x-ratelimit-remaining-tokens"] == str(200 - used)
    assert answer.headers["x-ratelimit-reset-tokens"] == "1m0s"
    f = upload(c, "long.txt", b"word " * 600)  # about 750 tokens: more than the whole budget
    organization = account_id(mockfiles.api_key)
    status, body = refused(lambda: c.chat.completions.create(model="gpt-4o-mini", messages=asking(file_part(f))))
    assert status == 429 and body["type"] == "tokens"
    assert body["message"].startswith(
        f"Request too large for gpt-4o-mini in organization {organization} on tokens per min (TPM): Limit 200, Requested "
    )
    while True:  # the budget runs out
        try:
            c.chat.completions.create(model="gpt-4o-mini", messages=asking())
        except openai.RateLimitError as err:
            message = err.body["message"]  # type: ignore[index]
            assert message.startswith(
                f"Rate limit reached for gpt-4o-mini in organization {organization} on tokens per min (TPM): Limit 200, Used "
            )
            assert err.response.headers["x-ratelimit-remaining-tokens"] == str(
                200 - int(message.split("Used ")[1].split(",")[0])
            )
            break
    mockfiles.advance(60)
    assert c.chat.completions.create(model="gpt-4o-mini", messages=asking()).choices


@pytest.mark.mockfiles(profile="dashscope", scenario={"rate_limits": {"inference": {"requests": 1}}})
def test_dashscope_words_its_rate_limits(mockfiles: MockFilesServer) -> None:
    with openai.OpenAI(api_key=mockfiles.api_key, base_url=mockfiles.url + "/compatible-mode/v1", max_retries=0) as ds:
        ds.chat.completions.create(model="qwen-plus", messages=[{"role": "user", "content": "hi"}])
        with pytest.raises(openai.RateLimitError) as raised:
            ds.chat.completions.create(model="qwen-plus", messages=[{"role": "user", "content": "hi"}])
    body = raised.value.response.json()
    assert body["error"]["code"] == "limit_requests" and body["error"]["message"].startswith(
        "You have exceeded your current request limit."
    )
    assert (
        "x-ratelimit-limit-requests" not in raised.value.response.headers
        and raised.value.response.headers["retry-after"]
    )


def test_rate_limits_are_off_unless_set(mockfiles: MockFilesServer, http: httpx.Client) -> None:
    answer = http.post("/v1/chat/completions", json={"model": "gpt-4o-mini", "messages": asking()})
    assert answer.status_code == 200 and not any(h.startswith("x-ratelimit") for h in answer.headers)


@pytest.mark.mockfiles(rate_limits=False)
def test_retry_tests_apply_to_the_model_routes(mockfiles: MockFilesServer) -> None:
    test = mockfiles.retry_test({CHAT: ["return-503", "reset"], "responses.create": ["return-429-retry-after-300ms"]})
    with mockfiles.client(max_retries=2, default_headers=test.headers) as c:
        f = upload(c)
        done = c.chat.completions.create(model="gpt-4o-mini", messages=asking(file_part(f)))
        assert done.choices[0].message.content.startswith(f"File {f} ")
        assert c.responses.create(model="gpt-4o-mini", input="hi").output_text == "Echo: hi"
    assert test.completed
    assert [e["status"] for e in mockfiles.requests(CHAT)] == [503, None, 200]
    test.assert_conforms()


@pytest.mark.mockfiles(rate_limits=False)
def test_the_admin_routes_list_the_models(mockfiles: MockFilesServer, http: httpx.Client) -> None:
    from mockfiles.chat.models import derived

    base = mockfiles.emulator.models.find(mockfiles.api_key, "gpt-4o-mini-2024-07-18", "openai")
    assert base is not None
    tuned = derived("ft:gpt-4o-mini-2024-07-18:org::abc123", base, owned_by="user-abc", created=1)
    mockfiles.emulator.models.add(tuned, mockfiles.api_key)
    listed = http.get("/_mockfiles/models").json()["data"]
    mine = [m for m in listed if m["id"] == tuned.id]
    assert mine == [
        {
            "id": tuned.id,
            "object": "model",
            "created": 1,
            "owned_by": "user-abc",
            "family": "openai",
            "reads": "files",
            "base": "gpt-4o-mini-2024-07-18",
            "account": account_id(mockfiles.api_key),
            "key": mine[0]["key"],
        }
    ]
    with mockfiles.client(max_retries=0) as c:
        assert c.models.retrieve(tuned.id).owned_by == "user-abc"
        f = upload(c)
        assert c.chat.completions.create(model=tuned.id, messages=asking(file_part(f))).model == tuned.id
    with mockfiles.client(api_key="sk-someone-else", max_retries=0) as other:
        assert tuned.id not in [m.id for m in other.models.list()]
    mockfiles.reset()
    assert tuned.id not in [m["id"] for m in http.get("/_mockfiles/models").json()["data"]]


def test_error_envelopes_of_the_chat_routes_are_journaled(mockfiles: MockFilesServer, c: openai.OpenAI) -> None:
    assert refused(
        lambda: c.chat.completions.create(model="gpt-4o-mini", messages=asking(file_part("file-x")))
    ) == error_of(404, "No such File object: file-x", "messages[0].content[0].file.file_id", None)
    entry = mockfiles.requests(CHAT)[-1]
    assert (
        entry["status"] == 404
        and entry["files"] == ["file-x"]
        and entry["error"]["param"] == "messages[0].content[0].file.file_id"
    )
