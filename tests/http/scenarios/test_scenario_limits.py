"""Scenarios that are too big, too deep or hold absurd numbers: refused with file:line
messages, the same way by `mockfiles check`, `serve --scenario`, the pytest marker and
`PUT /_mockfiles/scenario`, never with a traceback, a 500 or a stalled server."""

from __future__ import annotations

import select
import socket
import subprocess
import sys
from pathlib import Path

import httpx
import orjson
import pytest

from mockfiles import MockFilesServer, ScenarioError, load_scenario
from mockfiles.scenarios.scenario import scenario_from_text
from mockfiles.web.control.admin import MAX_SCENARIO_BYTES

pytest_plugins = ["pytester"]
pytestmark = pytest.mark.mockfiles(rate_limits=False)

HUGE = 2**64 + 1  # 18446744073709551617
PUT_SOURCE = "<PUT /_mockfiles/scenario>"

# (document, the message after "file:1: ") for every number a scenario can hold
NUMBERS = [
    (f"journal: {{cap: {HUGE}}}", f"journal.cap must be at most 1000000, got {HUGE}"),
    (f"seed: {HUGE}", f"seed must be at most 9223372036854775807, got {HUGE}"),
    (
        f"limits: {{max_total_bytes: {HUGE}}}",
        f"limits.max_total_bytes must be at most 1PiB (1125899906842624 bytes), got {HUGE}",
    ),
    (
        f"limits: {{max_file_bytes: {HUGE}}}",
        f"limits.max_file_bytes must be at most 1PiB (1125899906842624 bytes), got {HUGE}",
    ),
    (
        f"limits: {{max_file_bytes: {{batch: {HUGE}}}}}",
        f"limits.max_file_bytes.batch must be at most 1PiB (1125899906842624 bytes), got {HUGE}",
    ),
    ("limits: {max_file_bytes: 2PiB}", "limits.max_file_bytes must be at most 1PiB (1125899906842624 bytes), got 2PiB"),
    (
        "limits: {max_total_bytes: 2000TB}",
        "limits.max_total_bytes must be at most 1PiB (1125899906842624 bytes), got 2000TB",
    ),
    (f"limits: {{max_files: {HUGE}}}", f"limits.max_files must be at most 1000000000, got {HUGE}"),
    (f"faults: [{{status: 500, times: {HUGE}}}]", f"faults[0].times must be at most 1000000000, got {HUGE}"),
    (f"faults: [{{status: 500, after: {HUGE}}}]", f"faults[0].after must be at most 1000000000, got {HUGE}"),
    (f"faults: [{{delay: {HUGE}}}]", f"faults[0].delay must be at most 365d (31536000 seconds), got {HUGE}"),
    (
        "faults: [{delay: {min: 1s, max: 400d}}]",
        "faults[0].delay.max must be at most 365d (31536000 seconds), got 400d",
    ),
    (
        f"faults: [{{action: timeout, hold: {HUGE}}}]",
        f"faults[0].hold must be at most 365d (31536000 seconds), got {HUGE}",
    ),
    (f"rate_limits: {{upload: {HUGE}}}", f"rate_limits.upload must be at most 1000000000, got {HUGE}"),
    (f"rate_limits: {{window: {HUGE}}}", f"rate_limits.window must be at most 365d (31536000 seconds), got {HUGE}"),
    ("rate_limits: {window: .inf}", "rate_limits.window: a duration must be a finite number >= 0, got inf"),
    (
        f"processing: {{default: {{delay: {HUGE}}}}}",
        f"processing.default.delay must be at most 365d (31536000 seconds), got {HUGE}",
    ),
    (
        "processing: {batch: {delay: 1.0e+300}}",
        "processing.batch.delay must be at most 365d (31536000 seconds), got 1e+300",
    ),
    (
        "faults: [{delay: '" + "9" * 400 + "s'}]",
        "faults[0].delay: a duration must be a finite number, got '" + "9" * 400 + "s'",
    ),
    (
        "limits: {max_total_bytes: '" + "9" * 400 + "MB'}",
        "limits.max_total_bytes: a size must be a finite number, got '" + "9" * 400 + "MB'",
    ),
]
DEEP = "faults: " + "[" * 2000 + "]" * 2000 + "\n"
DEEP_MESSAGE = "nested too deeply: at most 64 levels of lists and mappings are allowed"


def nested_lists(depth: int) -> list:
    root = inner = []
    for _ in range(depth - 1):
        child: list = []
        inner.append(child)
        inner = child
    return root


def message_for(text: str, source: str = "x.yaml") -> str:
    with pytest.raises(ScenarioError) as info:
        scenario_from_text(text, source)
    return str(info.value)


# --- check, and the loader behind every way in -----------------------------------------------


@pytest.mark.parametrize(("text", "message"), NUMBERS, ids=[m.split(" ")[0] for _, m in NUMBERS])
def test_every_number_has_an_upper_bound(text: str, message: str) -> None:
    assert message_for(text) == f"x.yaml:1: {message}"


@pytest.mark.parametrize(("text", "message"), NUMBERS[:3], ids=["cap", "seed", "bytes"])
def test_a_dict_scenario_gets_the_same_bound(text: str, message: str) -> None:
    import yaml

    with pytest.raises(ScenarioError) as info:
        load_scenario(yaml.safe_load(text))
    assert str(info.value) == f"<scenario>: {message}"


def test_numbers_at_their_bounds_are_fine_and_show_as_json() -> None:
    scenario = scenario_from_text(
        "seed: 9223372036854775807\njournal: {cap: 1000000}\nlimits: {max_files: 1000000000, max_total_bytes: 1PiB}\n"
        "faults: [{status: 503, times: 1000000000, after: 1000000000, delay: 365d, headers: {x-big: 99999999999999999999999}}]\n",
        "x.yaml",
    )
    scenario.resolve()
    shown = orjson.loads(orjson.dumps(scenario.document))  # what GET /_mockfiles/scenario sends
    assert shown["seed"] == 2**63 - 1
    assert shown["faults"][0]["headers"]["x-big"] == "99999999999999999999999"  # beyond 64 bits: as text


def test_check_refuses_a_huge_number_without_a_traceback(tmp_path: Path) -> None:
    path = tmp_path / "big.yaml"
    path.write_text(f"seed: 1\njournal:\n  cap: {HUGE}\n")
    result = subprocess.run(["mockfiles", "check", str(path)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        f"{path}:3: journal.cap must be at most 1000000, got {HUGE}",
        f"{path}: 1 error",
    ]


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        (DEEP, 1, DEEP_MESSAGE),
        ("faults:\n" + "".join("  " * i + "- \n" for i in range(1, 100)), 65, DEEP_MESSAGE),
        ("x: " + "{a: " * 100 + "1" + "}" * 100 + "\n", 1, DEEP_MESSAGE),
        ("faults: &a [*a]\n", 1, "the alias *a is inside the value it names: a document cannot contain itself"),
        ("a: *nowhere\n", 1, "not valid YAML: found undefined alias *nowhere"),
        ("seed: 1\n---\nseed: 2\n", 2, "not valid YAML: expected a single document, but found another one"),
        (
            "faults: !!set {a, b}\n",
            1,
            "the tag tag:yaml.org,2002:set is not supported in a scenario; use plain lists and mappings",
        ),
        ("? [a, b]\n: 1\n", 1, "a mapping key must be a plain value (a string), not a list or a mapping"),
    ],
    ids=[
        "flow-2000",
        "block-99",
        "mappings-100",
        "self-alias",
        "undefined-alias",
        "two-documents",
        "set-tag",
        "list-key",
    ],
)
def test_documents_that_cannot_be_read_are_refused_with_file_and_line(text: str, line: int, message: str) -> None:
    assert message_for(text) == f"x.yaml:{line}: {message}"


def test_an_alias_bomb_is_refused_before_it_expands() -> None:
    lines = ["a: &a [x, x, x, x, x, x, x, x, x, x]"]
    for i, name in enumerate("bcdefghi"):
        lines.append(f"{name}: &{name} [" + ", ".join([f"*{'abcdefghi'[i]}"] * 10) + "]")
    assert (
        message_for("\n".join(lines) + "\n")
        == "x.yaml:6: too large: more than 1,000,000 values once aliases are expanded"
    )


def test_anchors_and_merge_keys_still_work() -> None:
    scenario = scenario_from_text(
        "faults:\n  - &base {match: {endpoint: files.create}, status: 503, times: 1}\n"
        "  - {<<: *base, status: 502}\n  - <<: [*base]\n    name: third\n",
        "x.yaml",
    )
    assert [(r.status, r.times, r.name) for r in scenario.faults] == [(503, 1, None), (502, 1, None), (503, 1, "third")]
    with pytest.raises(ScenarioError, match=r"^x.yaml:2: unknown key 'statuz' in faults\[0\]"):
        scenario_from_text("faults:\n  - {<<: {status: 500}, statuz: 1}\n", "x.yaml")


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ({"faults": nested_lists(5000)}, DEEP_MESSAGE),
        ({"faults": nested_lists(65)}, DEEP_MESSAGE),
    ],
    ids=["5000", "65"],
)
def test_deep_dicts_are_refused_without_recursion(document: dict, message: str) -> None:
    with pytest.raises(ScenarioError) as info:
        load_scenario(document)
    assert str(info.value) == f"<scenario>: {message}"


def test_a_dict_that_contains_itself_is_refused() -> None:
    document: dict = {"faults": []}
    document["faults"].append(document)
    with pytest.raises(ScenarioError, match=r"^<scenario>: faults\[0\] contains itself$"):
        load_scenario(document)


def test_check_refuses_a_deep_document_without_a_traceback(tmp_path: Path) -> None:
    path = tmp_path / "deep.yaml"
    path.write_text(DEEP)
    result = subprocess.run(["mockfiles", "check", str(path)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert result.stderr.splitlines() == [f"{path}:1: {DEEP_MESSAGE}", f"{path}: 1 error"]


# --- serve --scenario -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "message"),
    [(f"journal: {{cap: {HUGE}}}\n", f"journal.cap must be at most 1000000, got {HUGE}"), (DEEP, DEEP_MESSAGE)],
    ids=["huge", "deep"],
)
def test_serve_refuses_the_scenario_and_exits_2(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    result = subprocess.run(
        [sys.executable, "-m", "mockfiles", "serve", "--port", "0", "--scenario", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.strip() == f"mockfiles: {path}:1: {message}"


# --- the pytest marker ------------------------------------------------------------------------


def test_the_marker_fails_the_test_with_the_message(pytester: pytest.Pytester) -> None:
    pytester.makefile(".yaml", deep=DEEP)
    pytester.makepyfile(
        test_bad=f"""
import pytest

@pytest.mark.mockfiles(scenario={{"journal": {{"cap": {HUGE}}}}})
def test_huge(mockfiles):
    pass

@pytest.mark.mockfiles(scenario="deep.yaml")
def test_deep(mockfiles):
    pass

@pytest.mark.mockfiles(seed={HUGE})
def test_seed(mockfiles):
    pass
"""
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(errors=3)
    result.stdout.fnmatch_lines(
        [
            f"*mockfiles scenario: <scenario>: journal.cap must be at most 1000000, got {HUGE}*",
            f"*mockfiles scenario: *deep.yaml:1: {DEEP_MESSAGE}*",
            f"*mockfiles: the seed must be between 0 and 9223372036854775807, got {HUGE}*",
        ],
        consecutive=False,
    )
    assert "Traceback" not in result.stdout.str() and "RecursionError" not in result.stdout.str()


# --- PUT /_mockfiles/scenario -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (f"seed: {HUGE}\n", f"{PUT_SOURCE}:1: seed must be at most 9223372036854775807, got {HUGE}"),
        (f"journal: {{cap: {HUGE}}}\n", f"{PUT_SOURCE}:1: journal.cap must be at most 1000000, got {HUGE}"),
        (DEEP, f"{PUT_SOURCE}:1: {DEEP_MESSAGE}"),
        ('{"faults": ' + "[" * 3000 + "]" * 3000 + "}", f"{PUT_SOURCE}:1: {DEEP_MESSAGE}"),
    ],
    ids=["seed", "cap", "deep-yaml", "deep-json"],
)
def test_put_refuses_with_400_and_get_keeps_working(mockfiles: MockFilesServer, text: str, message: str) -> None:
    admin = mockfiles.url + "/_mockfiles/scenario"
    assert httpx.put(admin, content="faults: [{status: 503, match: {endpoint: files.list}}]\n").status_code == 200
    r = httpx.put(admin, content=text)
    assert r.status_code == 400
    assert r.json()["error"] == {"message": message, "type": "invalid_request_error", "param": "scenario", "code": None}
    shown = httpx.get(admin)
    assert shown.status_code == 200
    assert shown.json()["scenario"] == {"faults": [{"status": 503, "match": {"endpoint": "files.list"}}]}


def test_put_refuses_a_scenario_over_the_cap_with_413(mockfiles: MockFilesServer) -> None:
    admin = mockfiles.url + "/_mockfiles/scenario"
    body = b"# " + b"x" * MAX_SCENARIO_BYTES + b"\n"
    r = httpx.put(admin, content=body, timeout=60)
    assert r.status_code == 413
    assert r.json()["error"] == {
        "message": "A scenario may be at most 4096 KiB (4194304 bytes).",
        "type": "invalid_request_error",
        "param": None,
        "code": "request_too_large",
    }

    def chunks():  # no Content-Length: refused once the cap is crossed
        for _ in range(5):
            yield b"#" * (1024 * 1024) + b"\n"

    assert httpx.put(admin, content=chunks(), timeout=60).status_code == 413
    assert httpx.get(admin).json()["scenario"] == {}


def test_other_bodies_of_the_admin_routes_are_bounded(mockfiles: MockFilesServer) -> None:
    r = httpx.post(mockfiles.url + "/_mockfiles/clock", content=b'{"advance": 1' + b" " * 70_000 + b"}")
    assert r.status_code == 413 and r.json()["error"]["code"] == "request_too_large"


def big_scenario(rules: int) -> bytes:
    return ("faults:\n" + "".join(f"- {{status: 500, after: {i}}}\n" for i in range(rules))).encode()


def test_a_big_scenario_is_parsed_while_other_requests_are_served(mockfiles: MockFilesServer) -> None:
    """50,000 rules (1.4 MB) take a second or more to parse; health checks go on meanwhile
    (they used to wait for the whole parse: the event loop was busy with it)."""
    body = big_scenario(50_000)
    head = b"PUT /_mockfiles/scenario HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: %d\r\n\r\n" % len(body)
    served = 0
    with socket.create_connection((mockfiles.host, mockfiles.port)) as put, httpx.Client() as health:
        put.sendall(head + body)
        while not select.select([put], [], [], 0)[0]:
            assert health.get(mockfiles.url + "/_mockfiles/health").status_code == 200
            served += 1
        answer = b""
        while b"\r\n\r\n" not in answer:
            answer += put.recv(65536)
    assert answer.startswith(b"HTTP/1.1 200"), answer[:200]
    assert served >= 10, f"only {served} health checks were answered while the scenario was parsed"
    assert len(mockfiles.emulator.scenario.faults) == 50_000


@pytest.mark.parametrize(("text", "message"), [n for n in NUMBERS if str(HUGE) in n[0]], ids=lambda v: str(v)[:30])
def test_the_json_schema_has_the_same_bounds(text: str, message: str) -> None:
    import json
    from importlib import resources

    import jsonschema
    import yaml

    schema = json.loads(resources.files("mockfiles.scenarios").joinpath("schema.json").read_text())
    with pytest.raises(jsonschema.ValidationError, match="is greater than the maximum"):
        jsonschema.validate(yaml.safe_load(text), schema)


def test_the_merge_key_is_text_where_it_is_not_a_key() -> None:
    scenario = scenario_from_text("faults: [{status: 500, name: <<}]\n", "x.yaml")
    assert scenario.faults[0].name == "<<"
    assert (
        message_for("faults: [{<<: 5, status: 500}]\n") == "x.yaml:1: << (merge) needs a mapping or a list of mappings"
    )
