"""Scenario fault rules that reach the failure modes retry tests script: faults counted in bytes of
an upload or a download, stalls, bandwidth, HTML and malformed answers, outage windows on the
emulator clock, a 429 that enforces its own wait, and delay rules that add up — each with what the
openai SDK (sync and async) raises."""

from __future__ import annotations

import json
import socket
import subprocess
import time
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest

from mockfiles import MockFilesServer, ScenarioError
from mockfiles.scenarios.scenario import load_scenario
from tests.support.node_clients import HERE, NODE, node_missing

KIB = 1024
ROOT = Path(__file__).parents[3]


def stored(mockfiles: MockFilesServer, size: int = 64 * KIB) -> str:
    content = bytes(i % 251 for i in range(size))
    f = mockfiles.emulator.files.create(
        mockfiles.api_key, purpose="assistants", filename="f.bin", chunks=[content], size=size
    )
    return str(f.id)


def rules(*faults: dict[str, Any]) -> dict[str, Any]:
    return {"rate_limits": False, "faults": list(faults)}


# --- delays add up ---------------------------------------------------------------------------


@pytest.mark.mockfiles(scenario="slow_network")
def test_slow_network_adds_the_download_delay_to_the_latency(mockfiles: MockFilesServer, http: httpx.Client) -> None:
    file_id = stored(mockfiles, 10)
    assert http.get(f"/v1/files/{file_id}/content").status_code == 200
    assert http.get("/v1/files").status_code == 200
    download, listing = mockfiles.requests()
    assert download["rule"] == "slow downloads + latency everywhere"
    assert 350.0 <= download["delay_ms"] <= 550.0  # 300 ms plus 50-250 ms
    assert listing["rule"] == "latency everywhere" and 50.0 <= listing["delay_ms"] <= 250.0


@pytest.mark.mockfiles(scenario=rules({"delay": "20ms"}, {"match": {"endpoint": "files.list"}, "status": 503}))
def test_a_delay_rule_goes_before_a_later_status_rule(mockfiles: MockFilesServer, http: httpx.Client) -> None:
    assert http.get("/v1/files").status_code == 503
    [entry] = mockfiles.requests()
    assert (entry["action"], entry["delay_ms"], entry["fault"]) == ("status 503", 20.0, 1)


# --- counted in bytes of an upload -----------------------------------------------------------

UPLOAD_503 = rules({"match": {"endpoint": "files.create"}, "after_bytes": "64KiB", "status": 503, "times": 1})
UPLOAD_RESET = rules({"match": {"endpoint": "files.create"}, "after_bytes": "64KiB", "action": "reset", "times": 1})


@pytest.mark.mockfiles(scenario=UPLOAD_503)
def test_a_status_after_n_bytes_of_an_upload(mockfiles: MockFilesServer, client: openai.OpenAI) -> None:
    with pytest.raises(openai.InternalServerError):
        client.files.create(file=("big.bin", b"z" * (512 * KIB)), purpose="assistants")
    [entry] = mockfiles.requests()
    assert (entry["action"], entry["cut_at_bytes"], entry["sha256"]) == ("status 503", 64 * KIB, None)
    assert client.files.create(file=("big.bin", b"z" * (512 * KIB)), purpose="assistants").bytes == 512 * KIB


@pytest.mark.mockfiles(scenario=UPLOAD_RESET)
async def test_a_reset_after_n_bytes_of_an_upload(mockfiles: MockFilesServer, aclient: openai.AsyncOpenAI) -> None:
    with pytest.raises(openai.APIConnectionError):
        await aclient.files.create(file=("big.bin", b"z" * (512 * KIB)), purpose="assistants")
    [entry] = mockfiles.requests()
    assert (entry["action"], entry["cut_at_bytes"]) == ("reset", 64 * KIB)
    assert mockfiles.emulator.files.all_files() == []


@pytest.mark.mockfiles(
    scenario=rules(
        {"match": {"endpoint": "files.create"}, "bandwidth": "256KiB"},
        {"match": {"endpoint": "files.create", "purpose": "batch"}, "status": 503},
    )
)
def test_a_dribbled_upload_still_meets_the_rules_of_its_form(mockfiles: MockFilesServer, client: openai.OpenAI) -> None:
    assert client.files.create(file=("a.txt", b"a" * (32 * KIB)), purpose="assistants").bytes == 32 * KIB
    with pytest.raises(openai.InternalServerError):
        client.files.create(file=("a.jsonl", b"{}\n"), purpose="batch")
    first, second = mockfiles.requests()
    assert (first["bandwidth"], first["action"]) == (256 * KIB, "bandwidth")
    assert (second["bandwidth"], second["action"]) == (256 * KIB, "status 503")


# --- counted in bytes of a download ----------------------------------------------------------


def raw_download(mockfiles: MockFilesServer, file_id: str) -> tuple[bytes, bool]:
    request = (
        f"GET /v1/files/{file_id}/content HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {mockfiles.api_key}\r\n\r\n"
    )
    with socket.create_connection((mockfiles.host, mockfiles.port), timeout=10) as sock:
        sock.sendall(request.encode())
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
    return received.partition(b"\r\n\r\n")[2], reset


@pytest.mark.mockfiles(
    scenario=rules({"match": {"endpoint": "files.content"}, "after_bytes": "4KiB", "action": "truncate"})
)
def test_truncate_after_n_bytes_is_a_broken_stream_of_exactly_that(
    mockfiles: MockFilesServer, client: openai.OpenAI
) -> None:
    file_id = stored(mockfiles)
    body, reset = raw_download(mockfiles, file_id)
    assert len(body) == 4 * KIB and reset
    with pytest.raises(openai.APIConnectionError):
        client.files.content(file_id).read()
    assert mockfiles.requests()[0]["action"] == "broken_stream"


STALL = rules({"match": {"endpoint": "files.content"}, "after_bytes": "4KiB", "stall": "2s", "times": 1})


@pytest.mark.mockfiles(scenario=STALL)
async def test_a_stall_in_the_middle_of_a_download(mockfiles: MockFilesServer) -> None:
    file_id = stored(mockfiles)
    async with mockfiles.async_client(max_retries=0, timeout=0.3) as aclient:
        with pytest.raises(openai.APITimeoutError):
            await (await aclient.files.content(file_id)).aread()
        assert len((await aclient.files.content(file_id)).content) == 64 * KIB  # once: then as usual


@pytest.mark.mockfiles(
    scenario=rules({"match": {"endpoint": "files.content"}, "after_bytes": "4KiB", "stall": "100ms"})
)
def test_a_download_stalled_briefly_arrives_whole(mockfiles: MockFilesServer, client: openai.OpenAI) -> None:
    file_id = stored(mockfiles)
    assert client.files.content(file_id).content == bytes(i % 251 for i in range(64 * KIB))
    assert (mockfiles.requests()[0]["action"], mockfiles.requests()[0]["cut_at_bytes"]) == ("stall", 4 * KIB)


@pytest.mark.mockfiles(scenario=rules({"match": {"endpoint": "files.content"}, "bandwidth": "512KiB"}))
def test_a_dribbled_download_arrives_whole_in_pieces(mockfiles: MockFilesServer, http: httpx.Client) -> None:
    file_id = stored(mockfiles)
    with http.stream("GET", f"/v1/files/{file_id}/content") as answer:
        pieces = list(answer.iter_raw())
    assert b"".join(pieces) == bytes(i % 251 for i in range(64 * KIB)) and len(pieces) > 1
    assert (mockfiles.requests()[0]["bandwidth"], mockfiles.requests()[0]["action"]) == (512 * KIB, "bandwidth")


# --- non-JSON bodies -------------------------------------------------------------------------


@pytest.mark.mockfiles(scenario=rules({"match": {"endpoint": "files.list"}, "status": 504, "body": "html"}))
async def test_an_html_error_page(mockfiles: MockFilesServer, http: httpx.Client, aclient: openai.AsyncOpenAI) -> None:
    answer = http.get("/v1/files")
    assert answer.status_code == 504 and answer.headers["content-type"].startswith("text/html")
    assert "<title>504 Gateway Timeout</title>" in answer.text
    with pytest.raises(openai.InternalServerError) as raised:
        await aclient.files.list()
    assert raised.value.status_code == 504


@pytest.mark.mockfiles(scenario=rules({"match": {"endpoint": "files.retrieve"}, "action": "malformed_json"}))
def test_a_malformed_json_200(mockfiles: MockFilesServer, client: openai.OpenAI) -> None:
    file_id = stored(mockfiles, 10)
    with pytest.raises(json.JSONDecodeError):
        client.files.retrieve(file_id)


# --- an outage window ------------------------------------------------------------------------


@pytest.mark.mockfiles(scenario=rules({"between": {"from": "10s", "until": "40s"}, "status": 503}))
def test_an_outage_window_on_the_emulator_clock(mockfiles: MockFilesServer, http: httpx.Client) -> None:
    assert http.get("/v1/files").status_code == 200
    mockfiles.advance(15)
    assert http.get("/v1/files").status_code == 503
    mockfiles.advance(30)
    assert http.get("/v1/files").status_code == 200
    mockfiles.reset(scenario=rules({"between": {"from": "10s", "until": "40s"}, "status": 503}))
    assert http.get("/v1/files").status_code == 200  # the window counts from the last reset


# --- a 429 that enforces its own wait --------------------------------------------------------

ENFORCED = rules(
    {
        "match": {"endpoint": "files.list"},
        "times": 1,
        "status": 429,
        "headers": {"retry-after-ms": 800},
        "enforce_retry_after": True,
    }
)


@pytest.mark.mockfiles(scenario=ENFORCED)
def test_an_enforced_429_answers_an_early_retry_with_429_again(mockfiles: MockFilesServer) -> None:
    with httpx.Client(base_url=mockfiles.url) as raw:
        me, other = {"authorization": "Bearer sk-me"}, {"authorization": "Bearer sk-other"}
        assert raw.get("/v1/files", headers=me).status_code == 429
        early = raw.get("/v1/files", headers=me)
        assert early.status_code == 429 and early.headers["retry-after-ms"] == "800"
        assert raw.get("/v1/files", headers=other).status_code == 200  # another key is not held back
        time.sleep(0.85)
        assert raw.get("/v1/files", headers=me).status_code == 200


@pytest.mark.mockfiles(scenario=ENFORCED)
def test_the_sdk_waits_an_enforced_429_out(mockfiles: MockFilesServer) -> None:
    with mockfiles.client() as client:
        client.files.list()
    assert [e["status"] for e in mockfiles.requests()] == [429, 200]


# --- the naive wrapper passes the shipped scenarios; the verdicts do not ----------------------


@pytest.mark.mockfiles(scenario="flaky_uploads")
def test_a_naive_wrapper_passes_flaky_uploads_but_its_verdict_does_not(mockfiles: MockFilesServer) -> None:
    import tenacity

    client = mockfiles.client(max_retries=0, default_headers={"x-stainless-retry-count": "0"})

    @tenacity.retry(stop=tenacity.stop_after_attempt(3), wait=tenacity.wait_fixed(0.01), reraise=True)
    def upload() -> Any:
        return client.files.create(file=("a.jsonl", b'{"a": 1}\n'), purpose="batch")

    assert upload().status == "processed" or upload  # the scenario is survived
    [call] = [c for c in mockfiles.calls() if c["endpoint"] == "files.create"]
    problems = [p["problem"] for p in call["verdict"]["problems"]]
    assert call["grouping"] == "inferred" and len(call["attempts"]) == 3
    assert "retry_after_ignored" in problems  # it waited 10 ms of the 50 advised


# --- the rules are checked, with file and line -----------------------------------------------

BAD = [
    (
        "faults:\n  - after_bytes: 4KiB\n    status: 503\n",
        "t.yaml:2: faults[0]: after_bytes, stall and bandwidth act on a body",
    ),
    (
        "faults:\n  - match: {endpoint: files.content}\n    after_bytes: 4KiB\n    stall: 0s\n",
        "t.yaml:4: faults[0].stall must be longer than 0",
    ),
    ("faults:\n  - match: {endpoint: files.content}\n    stall: 1s\n", "t.yaml:2: faults[0]: stall needs after_bytes"),
    (
        "faults:\n  - status: 503\n    enforce_retry_after: true\n",
        "t.yaml:2: faults[0]: enforce_retry_after goes with status: 429",
    ),
    ("faults:\n  - body: html\n    delay: 1s\n", "t.yaml:2: faults[0]: body: html is an error page: it needs a status"),
    (
        "faults:\n  - status: 503\n    between: {from: 40s, until: 10s}\n",
        "t.yaml:3: faults[0].between: from must come before until",
    ),
    (
        "faults:\n  - match: {endpoint: files.create, purpose: batch}\n    after_bytes: 1KiB\n    status: 503\n",
        "t.yaml:2: faults[0]: a rule that acts while an upload streams in is decided before its form is read",
    ),
    (
        "faults:\n  - match: {endpoint: files.content}\n    after_bytes: 1KiB\n    status: 503\n",
        "t.yaml:2: faults[0]: after_bytes of a download goes with action: truncate",
    ),
    (
        "faults:\n  - match: {endpoint: files.content}\n    action: malformed_json\n",
        "t.yaml:2: faults[0]: malformed_json mangles",
    ),
]


@pytest.mark.parametrize(("text", "says"), BAD, ids=[s.split(": ", 2)[-1][:40] for _, s in BAD])
def test_bad_rules_name_file_and_line(tmp_path: Path, text: str, says: str) -> None:
    path = tmp_path / "t.yaml"
    path.write_text(text)
    with pytest.raises(ScenarioError) as raised:
        load_scenario(path)
    message = str(raised.value).replace(f"{tmp_path}/", "")
    assert message.startswith(says), message


# --- idle keep-alive connections ---------------------------------------------------------------


@pytest.mark.mockfiles(scenario={"server": {"idle_reset": "500ms"}})
def test_a_connection_idle_past_idle_reset_is_reset_when_reused(
    mockfiles: MockFilesServer, client: openai.OpenAI
) -> None:
    client.files.list()
    client.files.list()  # reused at once: fine
    time.sleep(0.7)
    with pytest.raises(openai.APIConnectionError):
        client.files.list()  # the pooled connection is reset
    client.files.list()  # a new connection


@pytest.mark.mockfiles(scenario={"server": {"idle_reset": "500ms"}})
async def test_the_async_sdk_retries_a_reset_reuse(mockfiles: MockFilesServer) -> None:
    async with mockfiles.async_client() as aclient:
        await aclient.files.list()
        time.sleep(0.7)
        await aclient.files.list()  # retried on a new connection
    assert [e["status"] for e in mockfiles.requests()] == [200, 200]  # the reset request was never read


def test_idle_reset_must_be_below_the_servers_own_keep_alive(tmp_path: Path) -> None:
    path = tmp_path / "t.yaml"
    path.write_text("server:\n  idle_reset: 5s\n")
    with pytest.raises(ScenarioError, match="t.yaml:2: server.idle_reset must be below 5s"):
        load_scenario(path)


# --- what the Node SDK sees (docs/scenarios.md's table) ----------------------------------------

NODE_SEES = [
    (
        "after_bytes 503",
        {"match": {"endpoint": "files.create"}, "after_bytes": "64KiB", "status": 503},
        "upload",
        "InternalServerError: 503",
    ),
    (
        "after_bytes reset",
        {"match": {"endpoint": "files.create"}, "after_bytes": "64KiB", "action": "reset"},
        "upload",
        "APIConnectionError",
    ),
    (
        "broken download",
        {"match": {"endpoint": "files.content"}, "after_bytes": "4KiB", "action": "truncate"},
        "download",
        "TypeError: terminated",
    ),
    (
        "stalled download",
        {"match": {"endpoint": "files.content"}, "after_bytes": "4KiB", "stall": "1s"},
        "download",
        "ok",
    ),
    (
        "html 503",
        {"match": {"endpoint": "files.list"}, "status": 503, "body": "html"},
        "list",
        "InternalServerError: 503 <html>",
    ),
    (
        "malformed json",
        {"match": {"endpoint": "files.retrieve"}, "action": "malformed_json"},
        "retrieve",
        "SyntaxError",
    ),
]


@pytest.mark.parametrize(("rule", "op", "sees"), [c[1:] for c in NODE_SEES], ids=[c[0] for c in NODE_SEES])
def test_what_the_node_sdk_sees(mockfiles: MockFilesServer, rule: dict[str, Any], op: str, sees: str) -> None:
    if node_missing():
        pytest.skip(node_missing() or "")
    mockfiles.reset(scenario=rules(rule))
    [seen] = node_probe(mockfiles, [{"op": op, "file_id": stored(mockfiles, 256 * KIB), "bytes": 256 * KIB}])
    assert seen.startswith(sees), seen


@pytest.mark.mockfiles(scenario={"server": {"idle_reset": "500ms"}})
def test_the_node_sdk_meets_an_idle_reset(mockfiles: MockFilesServer) -> None:
    if node_missing():
        pytest.skip(node_missing() or "")
    seen = node_probe(mockfiles, [{"op": "list"}, {"sleep_ms": 700}, {"op": "list"}])
    assert seen[0] == "ok" and seen[1].startswith("APIConnectionError"), seen


def node_probe(mockfiles: MockFilesServer, steps: list[dict[str, Any]]) -> list[str]:
    spec = {"base_url": mockfiles.base_url, "api_key": mockfiles.api_key, "timeout_ms": 500, "steps": steps}
    assert NODE is not None
    done = subprocess.run(
        [NODE, str(HERE / "probe.mjs"), json.dumps(spec)], capture_output=True, text=True, timeout=60, cwd=HERE
    )
    assert done.returncode == 0, done.stderr
    seen: list[str] = json.loads(done.stdout)
    return seen
