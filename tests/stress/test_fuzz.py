"""Fuzzing (hypothesis, bounded and derandomized): the multipart upload path over real HTTP,
and the scenario loader. Whatever comes in, the answer is a correctly shaped 200 or 4xx, the
store holds exactly the accepted uploads, and a bad scenario is a ScenarioError."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import orjson
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mockfiles import MockFilesServer, ScenarioError, load_scenario
from mockfiles.emulator import Emulator, Settings
from mockfiles.scenarios.scenario import TOP_KEYS, Scenario, scenario_from_text

FUZZ = settings(
    max_examples=150,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

FIELD_NAMES = ["file", "purpose", "expires_after[anchor]", "expires_after[seconds]", "expires_after", "files"]
PURPOSES = ["assistants", "batch", "fine-tune", "user_data", "", "nope", "batch\x00"]


@pytest.fixture(scope="module")
def fuzz_server() -> Iterator[MockFilesServer]:
    with MockFilesServer(rate_limits=False, scenario={"limits": {"max_file_bytes": "64KiB"}}) as server:
        yield server


part = st.fixed_dictionaries(
    {
        "name": st.one_of(st.sampled_from(FIELD_NAMES), st.text(max_size=12)),
        "filename": st.one_of(st.none(), st.text(max_size=40), st.sampled_from(["a.jsonl", "b.txt", "../x", ""])),
        "content_type": st.one_of(st.none(), st.sampled_from(["application/octet-stream", "text/plain", "bogus"])),
        "body": st.one_of(
            st.binary(max_size=300), st.sampled_from([p.encode() for p in PURPOSES]), st.just(b"x" * 70_000)
        ),
    }
)


def encode(parts: list[dict], boundary: bytes, damage: int) -> bytes:
    chunks = []
    for p in parts:
        disposition = b'form-data; name="' + p["name"].encode("utf-8", "replace") + b'"'
        if p["filename"] is not None:
            disposition += b'; filename="' + p["filename"].encode("utf-8", "replace") + b'"'
        head = b"Content-Disposition: " + disposition + b"\r\n"
        if p["content_type"]:
            head += b"Content-Type: " + p["content_type"].encode() + b"\r\n"
        chunks.append(b"--" + boundary + b"\r\n" + head + b"\r\n" + p["body"] + b"\r\n")
    body = b"".join(chunks) + b"--" + boundary + b"--\r\n"
    return body[: len(body) - damage] if damage else body


@FUZZ
@given(
    parts=st.lists(part, max_size=6),
    boundary=st.sampled_from([b"XyZ", b"----WebKitFormBoundary7MA4YWxk", b"a b", b"x" * 71]),
    damage=st.one_of(st.just(0), st.integers(1, 40)),
    content_type=st.sampled_from(
        [
            "multipart/form-data; boundary={b}",
            "multipart/form-data",
            "text/plain",
            'multipart/form-data; boundary="{b}"',
            "multipart/mixed; boundary={b}",
        ]
    ),
)
def test_fuzzed_uploads(fuzz_server: MockFilesServer, parts, boundary, damage, content_type) -> None:
    before = len(fuzz_server.emulator.files.store)
    body = encode(parts, boundary, damage)
    headers = {"Authorization": "Bearer fuzz", "Content-Type": content_type.format(b=boundary.decode())}
    r = httpx.post(fuzz_server.base_url + "/files", content=body, headers=headers, timeout=30)
    assert r.status_code in (200, 400, 413), (r.status_code, r.text[:300])
    assert "Traceback" not in r.text
    after = len(fuzz_server.emulator.files.store)
    if r.status_code == 200:
        assert after == before + 1
        created = r.json()
        stored = httpx.get(f"{fuzz_server.base_url}/files/{created['id']}/content", headers=headers).content
        assert len(stored) == created["bytes"]
    else:
        assert after == before, "a refused upload stored something"
        error = r.json()["error"]
        assert set(error) == {"message", "type", "param", "code"} and error["message"]


@FUZZ
@given(raw=st.binary(max_size=2000))
def test_fuzzed_raw_bodies(fuzz_server: MockFilesServer, raw: bytes) -> None:
    r = httpx.post(
        fuzz_server.base_url + "/files",
        content=raw,
        timeout=30,
        headers={"Authorization": "Bearer fuzz", "Content-Type": "multipart/form-data; boundary=XyZ"},
    )
    assert r.status_code in (200, 400, 413)
    assert set(r.json()) == ({"error"} if r.status_code != 200 else set(r.json()))


# --- the scenario loader -------------------------------------------------------------------------

KEYS = list(TOP_KEYS) + [
    "match",
    "endpoint",
    "status",
    "times",
    "after",
    "probability",
    "delay",
    "action",
    "min",
    "max",
    "upload",
    "query",
    "window",
    "keys",
    "max_files",
    "max_file_bytes",
    "default",
    "batch",
    "processing",
    "status_details",
    "headers",
    "error",
    "message",
    "hold",
    "cap",
    "token",
]
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 10**6),
    st.integers(-(2**80), 2**80),  # beyond 64 bits, where C integers and JSON encoders overflow
    st.sampled_from([2**63 - 1, 2**63, 2**64 + 1, 10**30, 10**400]),
    st.floats(allow_nan=True),
    st.text(max_size=10),
    st.sampled_from(["1s", "10MB", "files.create", "reset", "500", "-1ms", "1PiB", "9" * 400 + "s", "1e400MB"]),
)
documents = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(st.one_of(st.sampled_from(KEYS), st.text(max_size=6)), children, max_size=5),
    ),
    max_leaves=25,
)


def nest(document: dict, depth: int, key: str) -> dict:
    """The document with one key's value wrapped in ``depth`` lists (built inside the test, so
    that hypothesis reports the depth, not a structure too deep to print)."""
    value = document.get(key)
    for _ in range(depth):
        value = [value]
    return {**document, key: value} if depth else document


depths = st.one_of(st.just(0), st.integers(1, 3000))


def applies_cleanly(scenario: Scenario) -> None:
    """A scenario that loads can always be applied, served and shown."""
    assert isinstance(scenario, Scenario)
    scenario.resolve()
    Emulator(Settings(scenario=scenario))  # journal, limiter, fault streams: nothing overflows
    orjson.dumps(scenario.document)  # what GET /_mockfiles/scenario sends


@FUZZ
@given(document=st.dictionaries(st.sampled_from(KEYS), documents, max_size=6), depth=depths, key=st.sampled_from(KEYS))
def test_fuzzed_scenario_documents(document: dict, depth: int, key: str) -> None:
    try:
        scenario = load_scenario(nest(document, depth, key))
    except ScenarioError as exc:
        assert str(exc).startswith("<scenario>")
    else:
        applies_cleanly(scenario)


@FUZZ
@given(
    text=st.one_of(
        st.text(max_size=300),
        st.sampled_from(
            [
                "faults:\n  - status: 500\n    times: 2\n",
                "faults:\n- {action: reset, probability: 0.5}\n",
                "seed: 1\n",
                "limits: {max_files: 1, max_file_bytes: {batch: 1MB}}\n",
                "rate_limits: false\n",
                "a: [\n",
                "- 1\n",
                "*x",
            ]
        ),
    )
)
def test_fuzzed_scenario_text(text: str) -> None:
    try:
        scenario = scenario_from_text(text, "fuzz.yaml")
    except ScenarioError as exc:
        assert str(exc).startswith("fuzz.yaml")
    else:
        applies_cleanly(scenario)


@FUZZ
@given(
    document=st.dictionaries(st.sampled_from(KEYS), documents, max_size=6),
    depth=depths,
    key=st.sampled_from(KEYS),
    style=st.sampled_from(["flow", "block", "json"]),
)
def test_fuzzed_scenario_documents_as_text(document: dict, depth: int, key: str, style: str) -> None:
    """The same documents written out as YAML or JSON text: big numbers and deep nesting
    meet the text reader's limits, with a line."""
    document = nest(document, depth, key)
    try:
        if style == "json":
            text = json.dumps(document, default=str)
        else:
            text = yaml.safe_dump(document, default_flow_style=style == "flow", width=10**6)
    except RecursionError:  # the writers recurse; the reader is what is tested here
        return
    try:
        scenario = scenario_from_text(text, "fuzz.yaml")
    except ScenarioError as exc:
        assert str(exc).startswith("fuzz.yaml")
    else:
        applies_cleanly(scenario)


@FUZZ
@given(depth=st.integers(1, 5000), opener=st.sampled_from(["[", "{a: ", "- "]), key=st.sampled_from(KEYS))
def test_fuzzed_nesting_text(depth: int, opener: str, key: str) -> None:
    if opener == "- ":
        text = f"{key}:\n" + "".join("  " * (i + 1) + "- \n" for i in range(min(depth, 400)))
    else:
        text = f"{key}: " + opener * depth + "1" + ("]" if opener == "[" else "}") * depth + "\n"
    try:
        scenario = scenario_from_text(text, "fuzz.yaml")
    except ScenarioError as exc:
        assert str(exc).startswith("fuzz.yaml:")
    else:
        applies_cleanly(scenario)
