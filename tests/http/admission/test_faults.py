"""Fault rules against the real openai SDK and its own retry logic, and each example scenario."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest

from mockfiles import MockFilesServer
from mockfiles.scenarios.fault_rules import PROCESSING_ERROR_DETAILS
from tests.support.helpers import batch_file

SCENARIOS = Path(__file__).parents[3] / "mockfiles" / "scenarios" / "examples"


def rules(*faults: dict[str, Any], **top: Any) -> dict[str, Any]:
    return {"rate_limits": False, "faults": list(faults), **top}


def attempts(server: MockFilesServer, endpoint: str = "files.create") -> list[int | None]:
    return [e["status"] for e in server.requests(endpoint)]


def upload(client: openai.OpenAI, content: bytes = b"x", **options: Any) -> Any:
    return client.files.create(file=("a.txt", content), purpose="assistants", **options)


# --- when a rule fires ---------------------------------------------------------------------


@pytest.mark.mockfiles(
    scenario=rules(
        {"match": {"endpoint": "files.create"}, "times": 2, "status": 503, "headers": {"retry-after-ms": 10}}
    )
)
def test_times_fails_the_first_n_then_the_sdk_succeeds(mockfiles: MockFilesServer) -> None:
    created = upload(mockfiles.client())
    assert attempts(mockfiles) == [503, 503, 200]
    assert [e["retry_count"] for e in mockfiles.requests()] == [0, 1, 2]
    assert [e["action"] for e in mockfiles.requests()] == ["status 503", "status 503", None]
    assert [e["fault"] for e in mockfiles.requests()] == [0, 0, None]
    assert len(mockfiles.emulator.files.store) == 1 and created.bytes == 1


@pytest.mark.mockfiles(
    scenario=rules({"match": {"endpoint": "files.create"}, "status": 503, "headers": {"retry-after-ms": 10}})
)
def test_an_error_rule_stores_nothing_and_the_sdk_gives_up(mockfiles: MockFilesServer) -> None:
    with pytest.raises(openai.InternalServerError) as info:
        upload(mockfiles.client())
    assert info.value.status_code == 503
    assert info.value.body == {
        "message": "The server is overloaded or not ready yet.",
        "type": "server_error",
        "param": None,
        "code": None,
    }
    assert attempts(mockfiles) == [503, 503, 503]
    assert len(mockfiles.emulator.files.store) == 0


@pytest.mark.mockfiles(scenario=rules({"match": {"endpoint": "files.list"}, "after": 2, "times": 1, "status": 500}))
def test_after_skips_the_first_matching_requests(mockfiles: MockFilesServer, client: openai.OpenAI) -> None:
    outcomes = []
    for _ in range(5):
        try:
            client.files.list()
            outcomes.append(200)
        except openai.InternalServerError:
            outcomes.append(500)
    assert outcomes == [200, 200, 500, 200, 200]


def fault_pattern(seed: int, n: int = 40, extra_rule: bool = False) -> list[int]:
    faults = [{"match": {"endpoint": "files.list"}, "probability": 0.3, "status": 500}]
    if extra_rule:
        faults.insert(0, {"match": {"endpoint": "files.retrieve"}, "probability": 0.5, "status": 502})
    with MockFilesServer(scenario=rules(*faults, seed=seed)) as server:
        http = httpx.Client(base_url=server.base_url, headers={"Authorization": "Bearer k"})
        return [http.get("/files").status_code for _ in range(n)]


def test_probability_is_decided_by_the_seed() -> None:
    first, again, other = fault_pattern(11), fault_pattern(11), fault_pattern(12)
    assert first == again
    assert first != other
    assert 4 <= first.count(500) <= 20  # about 30 % of 40
    assert fault_pattern(11, extra_rule=True) == first  # a new rule does not change another's pattern


@pytest.mark.mockfiles(
    scenario=rules(
        {"match": {"endpoint": "files.list"}, "probability": 0.0, "status": 500},
        {"match": {"endpoint": "files.list"}, "times": 1, "status": 418},
    )
)
def test_first_firing_rule_wins_and_a_rule_that_does_not_fire_passes_the_request_on(http: httpx.Client) -> None:
    assert [http.get("/v1/files").status_code for _ in range(2)] == [418, 200]


@pytest.mark.mockfiles(
    scenario=rules(
        {"match": {"endpoint": "files.list"}, "times": 1, "status": 500},
        {"match": {"endpoint": "files.list"}, "times": 1, "status": 502},
    )
)
def test_rules_in_order(http: httpx.Client) -> None:
    assert [http.get("/v1/files").status_code for _ in range(3)] == [500, 502, 200]


# --- what a rule matches ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("match", "hit"),
    [
        ({"endpoint": ["files.retrieve", "files.content"]}, {"retrieve", "content"}),
        ({"method": "delete"}, {"delete"}),
        ({"path": "/v1/files/*/content"}, {"content"}),
        ({"path": "/v1/files"}, {"list", "create"}),
        ({"key": "sk-target"}, {"list", "create", "retrieve", "content", "delete"}),
        ({"key": "someone-else"}, set()),
        ({"header": {"x-test-case": "chaos-*"}}, {"list"}),
        ({"dialect": "openai", "endpoint": "files.list"}, {"list"}),
        ({"purpose": "batch"}, {"create"}),
        ({"filename": "*.jsonl"}, {"create"}),
        ({"filename": "*.csv"}, set()),
    ],
)
def test_match_fields(mockfiles: MockFilesServer, match: dict[str, Any], hit: set[str]) -> None:
    mockfiles.reset(scenario=rules({"match": match, "status": 409, "headers": {"x-should-retry": "false"}}))
    http = httpx.Client(base_url=mockfiles.base_url, headers={"Authorization": "Bearer sk-target"})
    mockfiles.use_scenario(None)
    file_id = http.post("/files", files={"file": ("in.jsonl", batch_file())}, data={"purpose": "batch"}).json()["id"]
    mockfiles.use_scenario(rules({"match": match, "status": 409}))
    got = {
        "create": http.post("/files", files={"file": ("in.jsonl", batch_file())}, data={"purpose": "batch"}),
        "list": http.get("/files", headers={"X-Test-Case": "chaos-42"}),
        "retrieve": http.get(f"/files/{file_id}"),
        "content": http.get(f"/files/{file_id}/content"),
        "delete": http.delete(f"/files/{file_id}"),
    }
    assert {name for name, r in got.items() if r.status_code == 409} == hit


# --- what a rule does ---------------------------------------------------------------------------


@pytest.mark.mockfiles(
    scenario=rules(
        {
            "match": {"endpoint": "files.retrieve"},
            "status": 404,
            "error": {"message": "Custom gone", "type": "invalid_request_error", "code": "gone", "param": "id"},
        }
    )
)
def test_custom_error_body(client: openai.OpenAI) -> None:
    with pytest.raises(openai.NotFoundError) as info:
        client.files.retrieve("file-x")
    assert info.value.body == {"message": "Custom gone", "type": "invalid_request_error", "code": "gone", "param": "id"}


@pytest.mark.parametrize(
    ("status", "type_", "code"),
    [
        (500, "server_error", None),
        (503, "server_error", None),
        (429, "requests", "rate_limit_exceeded"),
        (400, "invalid_request_error", None),
        (418, "invalid_request_error", None),
        (599, "server_error", None),
    ],
)
def test_default_error_bodies_are_realistic(
    mockfiles: MockFilesServer, http: httpx.Client, status, type_, code
) -> None:
    mockfiles.use_scenario(rules({"status": status}))
    r = http.get("/v1/files")
    assert r.status_code == status
    error = r.json()["error"]
    assert (error["type"], error["code"], error["param"]) == (type_, code, None)
    assert error["message"]
    assert r.headers["x-request-id"].startswith("req_")


@pytest.mark.mockfiles(
    scenario=rules({"match": {"endpoint": "files.list"}, "status": 500, "headers": {"x-should-retry": "false"}})
)
def test_x_should_retry_false_stops_the_sdk(mockfiles: MockFilesServer) -> None:
    with pytest.raises(openai.InternalServerError):
        mockfiles.client().files.list()
    assert attempts(mockfiles, "files.list") == [500]


@pytest.mark.mockfiles(
    scenario=rules({"match": {"endpoint": "files.list"}, "times": 1, "status": 429, "headers": {"retry-after-ms": 300}})
)
def test_injected_429_with_retry_after_ms_paces_the_sdk(mockfiles: MockFilesServer) -> None:
    started = time.monotonic()
    mockfiles.client().files.list()
    assert 0.28 < time.monotonic() - started < 1.0
    assert attempts(mockfiles, "files.list") == [429, 200]


@pytest.mark.mockfiles(scenario=rules({"match": {"endpoint": "files.list"}, "delay": "400ms"}))
def test_fixed_delay(mockfiles: MockFilesServer, client: openai.OpenAI) -> None:
    started = time.monotonic()
    client.files.list()
    assert time.monotonic() - started >= 0.4
    entry = mockfiles.requests()[-1]
    assert (entry["action"], entry["delay_ms"], entry["status"]) == ("delay", 400.0, 200)
    assert entry["duration_ms"] >= 399  # the event loop and perf_counter tick differently


@pytest.mark.mockfiles(scenario=rules({"delay": {"min": "10ms", "max": "60ms"}}, seed=5))
def test_uniform_delay_within_bounds(mockfiles: MockFilesServer, client: openai.OpenAI) -> None:
    for _ in range(6):
        client.files.list()
    delays = [e["delay_ms"] for e in mockfiles.requests()]
    assert all(10 <= d <= 60 for d in delays) and len(set(delays)) > 1


@pytest.mark.mockfiles(scenario=rules({"match": {"endpoint": "files.retrieve"}, "delay": "2s"}))
def test_delay_past_the_client_timeout(mockfiles: MockFilesServer, client: openai.OpenAI) -> None:
    with pytest.raises(openai.APITimeoutError):
        client.with_options(timeout=0.3).files.retrieve("file-x")


@pytest.mark.mockfiles(scenario=rules({"match": {"endpoint": "files.create"}, "action": "reset"}))
def test_reset_is_a_connection_error_and_stores_nothing(mockfiles: MockFilesServer) -> None:
    with pytest.raises(openai.APIConnectionError):
        upload(mockfiles.client(max_retries=1))
    assert attempts(mockfiles) == [None, None]
    assert [e["action"] for e in mockfiles.requests()] == ["reset", "reset"]
    assert len(mockfiles.emulator.files.store) == 0


@pytest.mark.mockfiles(scenario=rules({"match": {"endpoint": "files.create"}, "action": "reset", "times": 1}))
def test_sdk_retries_through_a_reset(mockfiles: MockFilesServer) -> None:
    upload(mockfiles.client())
    assert attempts(mockfiles) == [None, 200]
    assert len(mockfiles.emulator.files.store) == 1


def test_reset_with_raw_httpx_is_a_transport_error(mockfiles: MockFilesServer) -> None:
    mockfiles.use_scenario(rules({"action": "reset"}))
    with pytest.raises(httpx.TransportError):
        httpx.get(mockfiles.base_url + "/files", headers={"Authorization": "Bearer k"})


@pytest.mark.mockfiles(scenario=rules({"match": {"endpoint": "files.retrieve"}, "action": "truncate"}))
def test_truncate_sends_headers_and_half_a_body(mockfiles: MockFilesServer, client: openai.OpenAI) -> None:
    file_id = upload(client).id
    with httpx.stream(
        "GET", f"{mockfiles.base_url}/files/{file_id}", headers={"Authorization": f"Bearer {mockfiles.api_key}"}
    ) as r:
        assert r.status_code == 200
        with pytest.raises(httpx.RemoteProtocolError):
            r.read()
    with pytest.raises(openai.APIConnectionError):
        client.files.retrieve(file_id)
    assert mockfiles.requests()[-1]["action"] == "truncate"


@pytest.mark.mockfiles(
    scenario=rules({"match": {"endpoint": "files.create"}, "times": 1, "action": "reset_after_commit"})
)
def test_reset_after_commit_makes_a_retrying_client_upload_twice(mockfiles: MockFilesServer) -> None:
    client = mockfiles.client()
    created = upload(client, b"payload")
    stored = list(client.files.list())
    assert len(stored) == 2 and created.id in {f.id for f in stored}
    assert {client.files.content(f.id).read() for f in stored} == {b"payload"}
    first = mockfiles.requests("files.create")[0]
    assert (first["status"], first["action"], first["committed_status"]) == (None, "reset_after_commit", 200)


@pytest.mark.mockfiles(
    scenario=rules({"match": {"endpoint": "files.delete"}, "times": 1, "action": "reset_after_commit"})
)
def test_reset_after_commit_on_delete_makes_the_retry_a_404(mockfiles: MockFilesServer) -> None:
    client = mockfiles.client()
    file_id = upload(client).id
    with pytest.raises(openai.NotFoundError):
        client.files.delete(file_id)  # the first attempt deleted it; its answer was lost
    assert attempts(mockfiles, "files.delete") == [None, 404]


@pytest.mark.mockfiles(scenario=rules({"match": {"endpoint": "files.list"}, "action": "timeout", "hold": "20s"}))
def test_timeout_holds_until_the_client_gives_up(mockfiles: MockFilesServer) -> None:
    started = time.monotonic()
    with pytest.raises(openai.APITimeoutError):
        mockfiles.client(max_retries=1, timeout=0.3).files.list()
    assert 0.6 <= time.monotonic() - started < 3
    assert [e["action"] for e in mockfiles.requests()] == ["timeout", "timeout"]
    assert [e["status"] for e in mockfiles.requests()] == [None, None]


@pytest.mark.mockfiles(scenario=rules({"match": {"endpoint": "files.list"}, "action": "timeout", "hold": "300ms"}))
def test_timeout_hold_is_bounded(mockfiles: MockFilesServer) -> None:
    with pytest.raises(openai.APIConnectionError):
        mockfiles.client(max_retries=0, timeout=10).files.list()


@pytest.mark.mockfiles(scenario=rules({"match": {"endpoint": "files.list"}, "action": "timeout"}))
def test_reset_releases_held_requests(mockfiles: MockFilesServer) -> None:
    outcome: list[BaseException] = []

    def held() -> None:
        try:
            mockfiles.client(max_retries=0, timeout=30).files.list()
        except BaseException as exc:  # noqa: BLE001
            outcome.append(exc)

    thread = threading.Thread(target=held)
    thread.start()
    time.sleep(0.3)
    started = time.monotonic()
    mockfiles.reset()
    thread.join(timeout=5)
    assert not thread.is_alive() and time.monotonic() - started < 2
    assert isinstance(outcome[0], openai.APIConnectionError)


def test_stopping_the_server_releases_held_requests() -> None:
    server = MockFilesServer(scenario=rules({"action": "timeout"})).start()
    errors: list[BaseException] = []
    thread = threading.Thread(
        target=lambda: errors.append(
            pytest.raises(openai.APIError, server.client(max_retries=0, timeout=30).files.list).value
        )
    )
    thread.start()
    time.sleep(0.3)
    started = time.monotonic()
    server.stop()
    thread.join(timeout=5)
    assert time.monotonic() - started < 4 and errors


@pytest.mark.mockfiles(
    scenario=rules(
        {
            "match": {"endpoint": "files.create", "filename": "*.jsonl"},
            "processing": {"status": "error", "status_details": "line 1: invalid JSON", "delay": "10s"},
        }
    )
)
def test_processing_rule_ends_the_file_in_error(mockfiles: MockFilesServer, client: openai.OpenAI) -> None:
    created = client.files.create(file=("ok.jsonl", batch_file()), purpose="batch")
    assert (created.status, created.status_details) == ("uploaded", None)
    mockfiles.advance(10)
    done = client.files.wait_for_processing(created.id, poll_interval=0.01)
    assert (done.status, done.status_details) == ("error", "line 1: invalid JSON")
    other = client.files.create(file=("notes.txt", b"x"), purpose="assistants")
    assert other.status == "processed"
    assert mockfiles.requests("files.create")[0]["action"] == "processing error"


@pytest.mark.mockfiles(scenario=rules({"match": {"endpoint": "files.create"}, "processing": {"status": "error"}}))
def test_a_processing_error_without_details_gets_the_default_words(
    mockfiles: MockFilesServer, client: openai.OpenAI
) -> None:
    created = client.files.create(file=("ok.jsonl", batch_file()), purpose="batch")
    mockfiles.advance(60)
    done = client.files.wait_for_processing(created.id, poll_interval=0.01)
    assert (done.status, done.status_details) == ("error", PROCESSING_ERROR_DETAILS)


# --- the example scenarios, each survived by a retrying client --------------------------------------


@pytest.mark.mockfiles(scenario=str(SCENARIOS / "flaky_uploads.yaml"))
def test_example_flaky_uploads(mockfiles: MockFilesServer) -> None:
    client = mockfiles.client()
    created = upload(client)
    assert attempts(mockfiles) == [503, 503, 200]
    assert upload(client).id != created.id and attempts(mockfiles)[-1] == 200


@pytest.mark.mockfiles(scenario=str(SCENARIOS / "rate_limit_storm.yaml"))
def test_example_rate_limit_storm(mockfiles: MockFilesServer) -> None:
    client = mockfiles.client(max_retries=8)
    ids = [upload(client, f"{i}".encode()).id for i in range(4)]
    assert {f.id for f in client.files.list()} == set(ids)
    statuses = [e["status"] for e in mockfiles.requests()]
    assert statuses.count(429) >= 3 and statuses.count(200) == 5


@pytest.mark.mockfiles(scenario=str(SCENARIOS / "slow_network.yaml"))
def test_example_slow_network(mockfiles: MockFilesServer) -> None:
    client = mockfiles.client()
    file_id = upload(client).id
    started = time.monotonic()
    assert client.files.content(file_id).read() == b"x"
    assert time.monotonic() - started >= 0.3
    assert all(50 <= e["delay_ms"] <= 250 for e in mockfiles.requests("files.create"))


@pytest.mark.mockfiles(scenario=str(SCENARIOS / "connection_resets.yaml"))
def test_example_connection_resets(mockfiles: MockFilesServer) -> None:
    client = mockfiles.client(max_retries=5)
    ids = [upload(client, f"{i}".encode()).id for i in range(12)]
    assert len({f.id for f in client.files.list()}) == 12 == len(set(ids))
    resets = [e for e in mockfiles.requests() if e["action"] == "reset"]
    assert resets, "this seed resets some requests"


@pytest.mark.mockfiles(scenario=str(SCENARIOS / "processing_failures.yaml"))
def test_example_processing_failures(mockfiles: MockFilesServer) -> None:
    client = mockfiles.client()
    batch = client.files.create(file=("in.jsonl", batch_file()), purpose="batch")
    assert batch.status == "uploaded"
    threading.Timer(0.2, mockfiles.advance, args=(2,)).start()
    done = client.files.wait_for_processing(batch.id, poll_interval=0.05, max_wait_seconds=10)
    assert done.status == "error" and "gpt-unknown" in (done.status_details or "")
    assert upload(client).status == "processed"


@pytest.mark.mockfiles(scenario=str(SCENARIOS / "lost_responses.yaml"))
def test_example_lost_responses_make_a_duplicate(mockfiles: MockFilesServer) -> None:
    client = mockfiles.client()
    upload(client, b"only once, I hoped")
    assert len(list(client.files.list())) == 2


@pytest.mark.mockfiles(scenario=str(SCENARIOS / "dashscope_limits.yaml"))
def test_example_dashscope_limits(mockfiles: MockFilesServer) -> None:
    client = mockfiles.client()  # retries absorb the 3-per-second upload limit
    for i in range(5):
        client.files.create(file=(f"{i}.txt", b"doc"), purpose="file-extract")  # type: ignore[arg-type]
    with pytest.raises(openai.BadRequestError) as info:
        client.files.create(file=("5.txt", b"doc"), purpose="file-extract")  # type: ignore[arg-type]
    assert info.value.code == "file_count_limit_exceeded"
    assert any(e["status"] == 429 for e in mockfiles.requests())


def test_a_request_in_flight_across_a_reset_touches_nothing_after_it(mockfiles: MockFilesServer) -> None:
    mockfiles.reset(rate_limits=False, scenario=rules({"match": {"endpoint": "files.create"}, "delay": "500ms"}))
    outcome: list[BaseException] = []

    def slow_upload() -> None:
        try:
            upload(mockfiles.client(max_retries=0))
        except BaseException as exc:  # noqa: BLE001
            outcome.append(exc)

    thread = threading.Thread(target=slow_upload)
    thread.start()
    time.sleep(0.2)
    mockfiles.reset(rate_limits=False)  # a new test begins while the upload is still delayed
    thread.join(timeout=5)
    time.sleep(0.1)
    assert isinstance(outcome[0], openai.APIConnectionError)
    assert len(mockfiles.emulator.files.store) == 0
    assert mockfiles.requests() == []


# --- an injected 429 looks like a real one; faults take no rate-limit slot --------------------------


def limited(*faults: dict[str, Any]) -> dict[str, Any]:
    return {"rate_limits": {"upload": 3, "query": 10, "window": "1m"}, "faults": list(faults)}


@pytest.mark.mockfiles(scenario=limited({"match": {"endpoint": "files.list"}, "times": 1, "status": 429}))
def test_an_injected_429_looks_like_a_real_one(mockfiles: MockFilesServer, http: httpx.Client) -> None:
    r = http.get("/v1/files")
    assert r.status_code == 429
    assert r.json()["error"] == {
        "message": "Rate limit reached for query requests (files.list) on requests per minute: Limit 10, Used 10, "
        "Requested 1. Please try again in 1s. Visit https://platform.openai.com/account/rate-limits to learn more.",
        "type": "requests",
        "param": None,
        "code": "rate_limit_exceeded",
    }
    assert (r.headers["retry-after"], r.headers["retry-after-ms"]) == ("1", "1000")
    assert r.headers["x-ratelimit-limit-requests"] == "10"
    assert r.headers["x-ratelimit-remaining-requests"] == "0"
    assert r.headers["x-ratelimit-reset-requests"] == "1s"
    assert http.get("/v1/files").headers["x-ratelimit-remaining-requests"] == "9"  # the 429 took no slot


@pytest.mark.mockfiles(scenario=limited({"match": {"endpoint": "files.list"}, "times": 1, "status": 429}))
def test_the_sdk_waits_as_an_injected_429_says(mockfiles: MockFilesServer) -> None:
    assert list(mockfiles.client().files.list()) == []
    assert attempts(mockfiles, "files.list") == [429, 200]
    assert mockfiles.requests()[0]["advice"] == {"retry-after": "1", "retry-after-ms": "1000"}


@pytest.mark.mockfiles(scenario=limited({"match": {"endpoint": "files.create"}, "times": 1, "status": 429}))
async def test_the_async_sdk_waits_as_an_injected_429_says(mockfiles: MockFilesServer) -> None:
    async with mockfiles.async_client() as client:
        created = await client.files.create(file=b"x", purpose="assistants")
    assert attempts(mockfiles) == [429, 200]
    assert mockfiles.requests()[-1]["file_id"] == created.id


@pytest.mark.mockfiles(scenario=rules({"match": {"endpoint": "files.list"}, "status": 429}))
def test_an_injected_429_without_limits_has_no_ratelimit_headers(http: httpx.Client) -> None:
    r = http.get("/v1/files")
    assert r.json()["error"]["message"].startswith("Rate limit reached for requests. Please try again in 1s. ")
    assert r.headers["retry-after-ms"] == "1000"
    assert not any(name.startswith("x-ratelimit") for name in r.headers)


@pytest.mark.mockfiles(
    scenario=limited(
        {
            "match": {"endpoint": "files.list"},
            "status": 429,
            "headers": {"retry-after-ms": 250, "x-ratelimit-remaining-requests": 7},
            "error": {"code": "custom_code"},
        }
    )
)
def test_an_injected_429s_own_headers_and_fields_win(http: httpx.Client) -> None:
    r = http.get("/v1/files")
    assert "Please try again in 250ms." in r.json()["error"]["message"]  # the message follows the headers
    assert r.json()["error"]["code"] == "custom_code" and r.json()["error"]["type"] == "requests"
    assert (r.headers["retry-after"], r.headers["retry-after-ms"]) == ("1", "250")
    assert r.headers.get_list("x-ratelimit-remaining-requests") == ["7"]
    assert r.headers["x-ratelimit-reset-requests"] == "250ms"


@pytest.mark.mockfiles(profile="dashscope", scenario=limited({"match": {"endpoint": "files.list"}, "status": 429}))
def test_injected_429s_in_the_dashscope_dialects_look_like_theirs(mockfiles: MockFilesServer) -> None:
    with httpx.Client(base_url=mockfiles.url, headers={"Authorization": "Bearer sk-qwen"}) as http:
        compatible = http.get("/compatible-mode/v1/files")
        native = http.get("/api/v1/files")
    assert compatible.status_code == native.status_code == 429
    error = compatible.json()["error"]
    assert (error["type"], error["code"]) == ("limit_requests", "limit_requests")
    assert error["message"].startswith("You have exceeded your current request limit.")
    assert native.json()["code"] == "Throttling.RateQuota"
    assert native.json()["message"] == "Requests rate limit exceeded, please try again later."
    for r in (compatible, native):
        assert (r.headers["retry-after"], r.headers["retry-after-ms"]) == ("1", "1000")
        assert not any(name.startswith("x-ratelimit") for name in r.headers)


@pytest.mark.mockfiles(
    scenario=limited(
        {"match": {"endpoint": "files.create"}, "times": 2, "status": 503, "headers": {"retry-after-ms": 10}},
        {"match": {"endpoint": "files.create"}, "times": 1, "action": "reset"},
    )
)
def test_requests_answered_by_a_fault_take_no_rate_limit_slot(mockfiles: MockFilesServer) -> None:
    created = upload(mockfiles.client(max_retries=3))  # 503, 503, reset, then stored
    assert created.bytes == 1
    assert attempts(mockfiles) == [503, 503, None, 200]
    once = mockfiles.client(max_retries=0)
    upload(once)
    upload(once)  # three uploads stored: the window's three slots, none eaten by the faults
    with pytest.raises(openai.RateLimitError):
        upload(once)


@pytest.mark.mockfiles(scenario=limited({"match": {"endpoint": "files.create"}, "times": 1, "delay": "10ms"}))
def test_a_request_only_delayed_by_a_fault_takes_its_slot(mockfiles: MockFilesServer) -> None:
    once = mockfiles.client(max_retries=0)
    for _ in range(3):
        upload(once)
    with pytest.raises(openai.RateLimitError):
        upload(once)
