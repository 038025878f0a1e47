"""Retry tests over HTTP: the control routes' shapes, the header on every endpoint and dialect, and
every instruction kind as the wire carries it out — with the openai SDK (sync and async), httpx,
and raw sockets where the exact bytes matter."""

from __future__ import annotations

import hashlib
import json
import signal
import socket
import time
from typing import Any

import httpx
import openai
import pytest

from mockfiles import MockFilesServer

KIB = 1024


def create(http: httpx.Client, instructions: dict[str, list[str]]) -> dict[str, Any]:
    answer = http.post("/_mockfiles/retry-tests", json={"instructions": instructions})
    assert answer.status_code == 200, answer.text
    view: dict[str, Any] = answer.json()
    return view


def stored_file(mockfiles: MockFilesServer, size: int = 64 * KIB) -> str:
    content = bytes(i % 251 for i in range(size))
    return str(
        mockfiles.emulator.files.create(
            mockfiles.api_key, purpose="assistants", filename="f.bin", chunks=[content], size=size
        ).id
    )


def entries(mockfiles: MockFilesServer, endpoint: str) -> list[dict[str, Any]]:
    return mockfiles.requests(endpoint)


# --- the control routes ------------------------------------------------------------------------


def test_create_get_list_delete_have_the_documented_shapes(http: httpx.Client) -> None:
    document = {"files.create": ["return-503", "return-503"], "files.content": ["broken-stream-after-4K"]}
    view = create(http, document)
    assert set(view) == {"id", "instructions", "remaining", "completed", "calls"}
    assert len(view["id"]) == 32 and int(view["id"], 16) >= 0
    assert (view["instructions"], view["remaining"], view["completed"], view["calls"]) == (
        document,
        document,
        False,
        [],
    )
    assert http.get(f"/_mockfiles/retry-tests/{view['id']}").json() == view
    listed = http.get("/_mockfiles/retry-tests").json()
    assert listed["object"] == "list" and [t["id"] for t in listed["data"]] == [view["id"]]
    assert http.delete(f"/_mockfiles/retry-tests/{view['id']}").json()["id"] == view["id"]
    gone = http.get(f"/_mockfiles/retry-tests/{view['id']}")
    assert gone.status_code == 404 and view["id"] in gone.json()["error"]["message"]


def test_a_test_is_completed_once_every_queue_is_empty_and_shows_its_calls(http: httpx.Client) -> None:
    view = create(http, {"files.list": ["return-503"]})
    headers = {"x-retry-test-id": view["id"]}
    assert http.get("/v1/files", headers=headers).status_code == 503
    assert http.get("/v1/files", headers={**headers, "x-stainless-retry-count": "1"}).status_code == 200
    after = http.get(f"/_mockfiles/retry-tests/{view['id']}").json()
    assert after["completed"] is True and after["remaining"] == {"files.list": []}
    [call] = after["calls"]
    assert [a["status"] for a in call["attempts"]] == [503, 200] and call["grouping"] == "retry-count"
    assert call["attempts"][0]["instruction"] == "return-503" and call["retry_test"] == view["id"]


@pytest.mark.parametrize(
    ("document", "says"),
    [
        ({"instructions": {"files.retreive": ["return-503"]}}, "did you mean 'files.retrieve'?"),
        ({"instructions": {"files.create": ["return-503", "retrun-503"]}}, "instructions.files.create[1]"),
        ({"instructions": {"files.list": ["broken-stream-after-4K"]}}, "applies to files.content"),
        ({"instructions": []}, "must be an object"),
        ([], "a retry test is a JSON object"),
    ],
)
def test_bad_documents_are_refused_naming_what_is_wrong(http: httpx.Client, document: object, says: str) -> None:
    answer = http.post("/_mockfiles/retry-tests", json=document)
    assert answer.status_code == 400 and says in answer.json()["error"]["message"]
    assert http.get("/_mockfiles/retry-tests").json()["data"] == []


def test_not_json_is_refused(http: httpx.Client) -> None:
    answer = http.post("/_mockfiles/retry-tests", content=b"{nope")
    assert answer.status_code == 400 and "JSON" in answer.json()["error"]["message"]


@pytest.mark.mockfiles(scenario={"admin": {"token": "secret-token"}})
def test_the_routes_take_the_admin_token(mockfiles: MockFilesServer) -> None:
    with httpx.Client(base_url=mockfiles.url) as raw:
        for method, path in (
            ("GET", "/_mockfiles/retry-tests"),
            ("POST", "/_mockfiles/retry-tests"),
            ("GET", "/_mockfiles/calls"),
        ):
            assert raw.request(method, path, json={"instructions": {}}).status_code == 401
        auth = {"authorization": "Bearer secret-token"}
        assert raw.post("/_mockfiles/retry-tests", json={"instructions": {}}, headers=auth).status_code == 200
        assert raw.get("/_mockfiles/calls", headers=auth).status_code == 200


# --- the header on every endpoint and dialect ------------------------------------------------


def test_requests_without_the_header_and_empty_queues_are_handled_normally(http: httpx.Client) -> None:
    view = create(http, {"files.list": ["return-503"]})
    assert http.get("/v1/files").status_code == 200  # no header: untouched
    assert http.get("/v1/files/file-nope", headers={"x-retry-test-id": view["id"]}).status_code == 404  # not scripted
    assert http.get("/v1/files", headers={"x-retry-test-id": view["id"]}).status_code == 503
    assert http.get("/v1/files", headers={"x-retry-test-id": view["id"]}).status_code == 200  # queue empty


@pytest.mark.parametrize(
    ("path", "message_at"),
    [
        ("/v1/files", ("error", "message")),
        ("/compatible-mode/v1/files", ("error", "message")),
        ("/api/v1/files", ("message",)),
    ],
)
def test_an_unknown_test_id_is_a_400_in_the_dialects_envelope(
    http: httpx.Client, path: str, message_at: tuple[str, ...]
) -> None:
    answer = http.get(path, headers={"x-retry-test-id": "0123456789abcdef0123456789abcdef"})
    assert answer.status_code == 400
    body: Any = answer.json()
    for key in message_at:
        body = body[key]
    assert "no retry test '0123456789abcdef0123456789abcdef'" in body


@pytest.mark.parametrize("path", ["/v1/files", "/compatible-mode/v1/files", "/api/v1/files"])
def test_instructions_apply_in_every_dialect(http: httpx.Client, path: str) -> None:
    view = create(http, {"files.list": ["return-503-retry-after-1s"]})
    answer = http.get(path, headers={"x-retry-test-id": view["id"]})
    assert answer.status_code == 503 and answer.headers["retry-after"] == "1"


def test_the_calls_route_and_server_calls_judge_all_traffic(mockfiles: MockFilesServer, http: httpx.Client) -> None:
    for count in ("0", "0"):
        http.get("/v1/files/file-missing", headers={"x-stainless-retry-count": count})
    http.get("/v1/files")
    calls = http.get("/_mockfiles/calls").json()["data"]
    assert calls == mockfiles.calls()
    retrieve = [c for c in calls if c["endpoint"] == "files.retrieve"]
    assert len(retrieve) == 1 and retrieve[0]["grouping"] == "inferred" and len(retrieve[0]["attempts"]) == 2
    assert [p["problem"] for p in retrieve[0]["verdict"]["problems"]] == ["retried_non_retryable", "no_backoff"]


def test_an_explicit_call_key_groups_attempts(http: httpx.Client) -> None:
    view = create(http, {"files.list": ["return-500"]})
    for _ in range(2):
        http.get(
            "/v1/files",
            headers={"x-retry-test-id": view["id"], "x-mockfiles-call": "mine", "x-stainless-retry-count": "0"},
        )
    [call] = http.get(f"/_mockfiles/retry-tests/{view['id']}").json()["calls"]
    assert (call["grouping"], call["key"], len(call["attempts"])) == ("explicit", "mine", 2)


# --- every instruction kind ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("instruction", "headers"),
    [
        ("return-503-retry-after-2s", {"retry-after": "2"}),
        ("return-429-retry-after-300ms", {"retry-after-ms": "300"}),
        ("return-400-should-retry-true", {"x-should-retry": "true"}),
        ("return-429", {}),
    ],
)
def test_return_status_sends_exactly_the_advice_named(
    http: httpx.Client, instruction: str, headers: dict[str, str]
) -> None:
    view = create(http, {"files.list": [instruction]})
    answer = http.get("/v1/files", headers={"x-retry-test-id": view["id"]})
    assert answer.status_code == int(instruction.split("-")[1])
    advice = {k: v for k, v in answer.headers.items() if k in ("retry-after", "retry-after-ms", "x-should-retry")}
    assert advice == headers and answer.json()["error"]["message"]
    [entry] = [e for e in http.get("/_mockfiles/requests").json()["data"]]
    assert (entry["retry_test"], entry["instruction"], entry["retry_remaining"]) == (view["id"], instruction, 0)


def test_return_after_n_kib_stops_reading_the_upload_there(mockfiles: MockFilesServer, http: httpx.Client) -> None:
    view = create(http, {"files.create": ["return-503-after-64K"]})
    content = b"z" * (1024 * KIB)
    answer = http.post(
        "/v1/files",
        files={"file": ("big.bin", content)},
        data={"purpose": "assistants"},
        headers={"x-retry-test-id": view["id"]},
    )
    assert answer.status_code == 503
    [entry] = entries(mockfiles, "files.create")
    assert 64 * KIB <= entry["cut_at_bytes"] < 1024 * KIB  # the form reader stopped at the cut
    assert entry["sha256"] is None and mockfiles.emulator.files.all_files() == []


def test_an_upload_shorter_than_the_count_fails_at_its_end(mockfiles: MockFilesServer, http: httpx.Client) -> None:
    view = create(http, {"files.create": ["return-500-after-64K"]})
    answer = http.post(
        "/v1/files",
        files={"file": ("small.txt", b"tiny")},
        data={"purpose": "assistants"},
        headers={"x-retry-test-id": view["id"]},
    )
    assert answer.status_code == 500 and mockfiles.emulator.files.all_files() == []


def test_reset_after_n_kib_resets_mid_upload_and_stores_nothing(mockfiles: MockFilesServer, http: httpx.Client) -> None:
    view = create(http, {"files.create": ["reset-after-64K"]})
    with pytest.raises(httpx.TransportError):
        http.post(
            "/v1/files",
            files={"file": ("big.bin", b"z" * (1024 * KIB))},
            data={"purpose": "assistants"},
            headers={"x-retry-test-id": view["id"]},
        )
    [entry] = entries(mockfiles, "files.create")
    assert entry["action"] == "reset" and 64 * KIB <= entry["cut_at_bytes"] < 1024 * KIB
    assert mockfiles.emulator.files.all_files() == []


def test_reset_after_commit_stores_the_file_and_loses_the_answer(
    mockfiles: MockFilesServer, http: httpx.Client
) -> None:
    view = create(http, {"files.create": ["reset-after-commit"]})
    with pytest.raises(httpx.TransportError):
        http.post(
            "/v1/files",
            files={"file": ("a.txt", b"abc")},
            data={"purpose": "assistants"},
            headers={"x-retry-test-id": view["id"]},
        )
    [stored] = mockfiles.emulator.files.all_files()
    [entry] = entries(mockfiles, "files.create")
    assert (entry["action"], entry["committed_status"], entry["file_id"]) == ("reset_after_commit", 200, stored.id)
    assert entry["sha256"] == hashlib.sha256(b"abc").hexdigest()


def raw_get(mockfiles: MockFilesServer, path: str, headers: dict[str, str]) -> tuple[bytes, bytes, bool]:
    """The head and the body bytes a raw socket received, and whether the connection was reset."""
    lines = [f"GET {path} HTTP/1.1", f"Host: {mockfiles.host}", f"Authorization: Bearer {mockfiles.api_key}"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    with socket.create_connection((mockfiles.host, mockfiles.port), timeout=10) as sock:
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        received, reset = b"", False
        while True:
            try:
                chunk = sock.recv(65536)
            except ConnectionResetError:
                reset = True
                break
            if not chunk:
                break
            received += chunk
    head, _, body = received.partition(b"\r\n\r\n")
    return head, body, reset


def test_broken_stream_sends_the_head_and_exactly_n_kib_then_resets(
    mockfiles: MockFilesServer, http: httpx.Client
) -> None:
    file_id = stored_file(mockfiles, 64 * KIB)
    view = create(http, {"files.content": ["broken-stream-after-4K"]})
    head, body, reset = raw_get(mockfiles, f"/v1/files/{file_id}/content", {"x-retry-test-id": view["id"]})
    assert head.startswith(b"HTTP/1.1 200") and b"content-length: 65536" in head.lower()
    assert len(body) == 4 * KIB and reset
    assert body == bytes(i % 251 for i in range(4 * KIB))
    [entry] = entries(mockfiles, "files.content")
    assert (entry["action"], entry["cut_at_bytes"]) == ("broken_stream", 4 * KIB)


def test_a_broken_stream_on_a_shorter_file_withholds_its_last_byte(
    mockfiles: MockFilesServer, http: httpx.Client
) -> None:
    file_id = stored_file(mockfiles, 1000)
    view = create(http, {"files.content": ["broken-stream-after-4K"]})
    head, body, reset = raw_get(mockfiles, f"/v1/files/{file_id}/content", {"x-retry-test-id": view["id"]})
    assert len(body) == 999 and reset


def test_a_stalled_download_resumes_whole(mockfiles: MockFilesServer, http: httpx.Client) -> None:
    file_id = stored_file(mockfiles, 64 * KIB)
    view = create(http, {"files.content": ["stall-for-200ms-after-4K"]})
    answer = http.get(f"/v1/files/{file_id}/content", headers={"x-retry-test-id": view["id"]})
    assert answer.content == bytes(i % 251 for i in range(64 * KIB))
    [entry] = entries(mockfiles, "files.content")
    assert (entry["action"], entry["cut_at_bytes"], entry["status"]) == ("stall", 4 * KIB, 200)


def test_a_client_that_gives_up_during_a_stall_is_journaled_as_gone(
    mockfiles: MockFilesServer, http: httpx.Client
) -> None:
    file_id = stored_file(mockfiles, 64 * KIB)
    view = create(http, {"files.content": ["stall-for-5s-after-4K"]})
    with pytest.raises(httpx.ReadTimeout):
        http.get(f"/v1/files/{file_id}/content", headers={"x-retry-test-id": view["id"]}, timeout=0.3)
    mockfiles.emulator.release()
    for _ in range(100):
        [call] = mockfiles.calls()[-1:]
        if call["attempts"][0]["outcome"] == "client_gone":
            break
        time.sleep(0.05)
    assert call["attempts"][0]["outcome"] == "client_gone"


def test_a_stalled_upload_is_stored_whole(mockfiles: MockFilesServer, http: httpx.Client) -> None:
    view = create(http, {"files.create": ["stall-for-100ms-after-16K"]})
    content = b"q" * (64 * KIB)
    answer = http.post(
        "/v1/files",
        files={"file": ("s.bin", content)},
        data={"purpose": "assistants"},
        headers={"x-retry-test-id": view["id"]},
    )
    assert answer.status_code == 200 and answer.json()["bytes"] == 64 * KIB
    [entry] = entries(mockfiles, "files.create")
    assert entry["action"] == "stall" and entry["sha256"] == hashlib.sha256(content).hexdigest()


def test_html_error_is_a_proxy_page(http: httpx.Client) -> None:
    view = create(http, {"files.list": ["return-html-502"]})
    answer = http.get("/v1/files", headers={"x-retry-test-id": view["id"]})
    assert answer.status_code == 502 and answer.headers["content-type"].startswith("text/html")
    assert "<title>502 Bad Gateway</title>" in answer.text


def test_malformed_json_is_a_200_that_does_not_parse_and_the_operation_happened(
    mockfiles: MockFilesServer, http: httpx.Client
) -> None:
    view = create(http, {"files.create": ["return-malformed-json"]})
    answer = http.post(
        "/v1/files",
        files={"file": ("a.txt", b"abc")},
        data={"purpose": "assistants"},
        headers={"x-retry-test-id": view["id"]},
    )
    assert answer.status_code == 200 and answer.headers["content-type"] == "application/json"
    with pytest.raises(json.JSONDecodeError):
        json.loads(answer.content)
    assert len(mockfiles.emulator.files.all_files()) == 1


def test_timeout_holds_until_the_client_gives_up(mockfiles: MockFilesServer, http: httpx.Client) -> None:
    view = create(http, {"files.list": ["timeout"]})
    with pytest.raises(httpx.ReadTimeout):
        http.get("/v1/files", headers={"x-retry-test-id": view["id"]}, timeout=0.3)
    [entry] = entries(mockfiles, "files.list")
    assert entry["action"] == "timeout"


def test_delay_answers_normally_after_it(mockfiles: MockFilesServer, http: httpx.Client) -> None:
    view = create(http, {"files.list": ["delay-50ms"]})
    assert http.get("/v1/files", headers={"x-retry-test-id": view["id"]}).status_code == 200
    [entry] = entries(mockfiles, "files.list")
    assert (entry["action"], entry["delay_ms"]) == ("delay", 50.0)


# --- what the SDK raises for each, sync and async (docs/retries.md's table) --------------------

RAISED = [
    ("files.retrieve", "return-503", openai.InternalServerError),
    ("files.retrieve", "return-429-retry-after-1s", openai.RateLimitError),
    ("files.retrieve", "return-html-502", openai.InternalServerError),
    ("files.retrieve", "return-malformed-json", json.JSONDecodeError),
    ("files.retrieve", "reset", openai.APIConnectionError),
    ("files.create", "reset-after-64K", openai.APIConnectionError),
    ("files.create", "return-503-after-64K", openai.InternalServerError),
    ("files.retrieve", "reset-after-commit", openai.APIConnectionError),
    ("files.content", "broken-stream-after-4K", openai.APIConnectionError),
    ("files.content", "stall-for-2s-after-4K", openai.APITimeoutError),
    ("files.retrieve", "timeout", openai.APITimeoutError),
]


def sdk_call(client: Any, endpoint: str, file_id: str) -> Any:
    if endpoint == "files.create":
        return client.files.create(file=("a.txt", b"x" * (200 * KIB)), purpose="assistants")
    if endpoint == "files.content":
        return client.files.content(file_id)
    return client.files.retrieve(file_id)


@pytest.mark.parametrize(("endpoint", "instruction", "raised"), RAISED, ids=[r[1] for r in RAISED])
def test_what_the_sync_sdk_raises(
    mockfiles: MockFilesServer, endpoint: str, instruction: str, raised: type[Exception]
) -> None:
    file_id = stored_file(mockfiles)
    test = mockfiles.retry_test({endpoint: [instruction]})
    with mockfiles.client(default_headers=test.headers, max_retries=0, timeout=0.5) as client:
        with pytest.raises(raised):
            result = sdk_call(client, endpoint, file_id)
            if endpoint == "files.content":
                result.read()
    assert test.completed
    mockfiles.emulator.release()


@pytest.mark.parametrize(("endpoint", "instruction", "raised"), RAISED, ids=[r[1] for r in RAISED])
async def test_what_the_async_sdk_raises(
    mockfiles: MockFilesServer, endpoint: str, instruction: str, raised: type[Exception]
) -> None:
    file_id = stored_file(mockfiles)
    test = mockfiles.retry_test({endpoint: [instruction]})
    async with mockfiles.async_client(default_headers=test.headers, max_retries=0, timeout=0.5) as client:
        with pytest.raises(raised):
            result = await sdk_call(client, endpoint, file_id)
            if endpoint == "files.content":
                await result.aread()
    assert test.completed
    mockfiles.emulator.release()


def test_assert_conforms_names_the_problem(mockfiles: MockFilesServer) -> None:
    test = mockfiles.retry_test({"files.retrieve": ["return-404"]})
    with mockfiles.client(default_headers=test.headers, max_retries=0) as client:
        for _ in range(2):
            with pytest.raises(openai.NotFoundError):
                client.files.retrieve("file-x")
    with pytest.raises(AssertionError, match="retried_non_retryable"):
        test.assert_conforms()


def test_the_standalone_server_serves_retry_tests_to_curl_and_the_sdk() -> None:
    from tests.http.server.test_cli import curl, start

    running = start("--no-rate-limits")
    try:
        body = json.dumps(
            {"instructions": {"files.list": ["return-503-retry-after-1s", "return-429-retry-after-100ms"]}}
        )
        view = json.loads(curl("-X", "POST", f"{running.url}/_mockfiles/retry-tests", "-d", body).stdout)
        head = curl(
            "-i", f"{running.url}/v1/files", "-H", "Authorization: Bearer k", "-H", f"x-retry-test-id: {view['id']}"
        )
        assert head.stdout.startswith("HTTP/1.1 503") and "retry-after: 1" in head.stdout.lower()
        client = openai.OpenAI(
            base_url=running.url + "/v1", api_key="k", default_headers={"x-retry-test-id": view["id"]}
        )
        client.files.list()  # the 429, then a 200
        after = json.loads(curl(f"{running.url}/_mockfiles/retry-tests/{view['id']}").stdout)
        assert after["completed"] and [len(c["attempts"]) for c in after["calls"]] == [1, 2]
        curl_call, sdk_call = after["calls"]
        assert [p["problem"] for p in curl_call["verdict"]["problems"]] == ["gave_up_retryable"]  # curl does not retry
        assert sdk_call["verdict"]["ok"]
    finally:
        running.process.send_signal(signal.SIGINT)
        running.process.wait(timeout=10)
