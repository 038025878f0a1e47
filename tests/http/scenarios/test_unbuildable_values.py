"""Values YAML reads but cannot build (a 13th month, ``!!int abc``, integers of 4,300+ digits) and
retry-test instructions holding numbers of 4,300 digits: refused with the file, the line and the key
by `mockfiles check`, with a 400 by the control routes, and in one line by `serve`: never a
traceback, a 500 or a value quietly turned into something else."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from mockfiles import MockFilesServer, ScenarioError
from mockfiles.scenarios.scenario import scenario_from_text

pytestmark = pytest.mark.mockfiles(rate_limits=False)

DIGITS = "1" * 4400
HEX = "0x" + "f" * 4000  # 16,000 bits: 4,817 decimal digits
BINARY = "0b" + "1" * 15000
SHOWN = "…"  # a message repeats the first 64 characters of a long value, then this
TOO_LONG = "is too long; a scenario's integers have at most 4,300 digits"

# (the document, the line, what follows "file:line: ")
VALUES = [
    (
        "seed: 2024-13-45\n",
        1,
        "seed: 2024-13-45 reads as a date, but is not one (month must be in 1..12); quote it if it is meant as text",
    ),
    (
        "seed: 1\nfaults:\n  - status: 503\n    name: 2024-02-30 10:00:00\n",
        4,
        "faults[0].name: 2024-02-30 10:00:00 reads as a date, but is not one (day is out of range for month); "
        "quote it if it is meant as text",
    ),
    ("seed: !!int abc\n", 1, "seed: !!int 'abc' is not an integer"),
    ("seed: !!bool abc\n", 1, "seed: !!bool 'abc' is not a boolean (true or false)"),
    ("seed: !!float abc\n", 1, "seed: !!float 'abc' is not a number"),
    ("seed: !!timestamp abc\n", 1, "seed: !!timestamp 'abc' is not a date"),
    (
        "seed: !!binary abc@\n",
        1,
        "seed: !!binary 'abc@' is not base64 data (failed to decode base64 data: Incorrect padding)",
    ),
    (f"seed: {DIGITS}\n", 1, f"seed: the integer {DIGITS[:64]}{SHOWN} {TOO_LONG}"),
    (f"seed: -{DIGITS}\n", 1, f"seed: the integer -{DIGITS[:63]}{SHOWN} {TOO_LONG}"),
    (f"seed: {HEX}\n", 1, f"seed: the integer {HEX[:64]}{SHOWN} {TOO_LONG}"),
    (f"seed: {BINARY}\n", 1, f"seed: the integer {BINARY[:64]}{SHOWN} {TOO_LONG}"),
    (f"faults:\n  - status: 503\n    times: {HEX}\n", 3, f"faults[0].times: the integer {HEX[:64]}{SHOWN} {TOO_LONG}"),
    (
        "faults:\n  - status: 503\n    headers: {x-n: !!int 0x}\n",
        3,
        "faults[0].headers.x-n: !!int '0x' is not an integer",
    ),
    ("faults:\n  - [!!bool maybe]\n", 2, "faults[0][0]: !!bool 'maybe' is not a boolean (true or false)"),
    ("faults:\n  - !!int x: 1\n", 2, "a key in faults[0]: !!int 'x' is not an integer"),
    # numbers YAML builds but that go beyond every bound: the message repeats 64 digits, not 4,000
    (f"seed: {'9' * 4000}\n", 1, f"seed must be at most 9223372036854775807, got {'9' * 64}{SHOWN}"),
    (
        f"seed: !!int {HEX[:1002]}\n",
        1,
        f"seed must be at most 9223372036854775807, got {str(int(HEX[:1002], 16))[:64]}{SHOWN}",
    ),
    ("seed: !!null abc\n", 1, "seed must be an integer, got nothing (null)"),
]
IDS = [
    "month-13",
    "feb-30",
    "int-abc",
    "bool-abc",
    "float-abc",
    "timestamp-abc",
    "binary",
    "4400-digits",
    "negative",
    "hex",
    "binary-int",
    "hex-times",
    "int-0x-header",
    "bool-in-list",
    "int-key",
    "4000-nines",
    "hex-1000",
    "null",
]


@pytest.mark.parametrize(("text", "line", "message"), VALUES, ids=IDS)
def test_the_loader_names_file_line_and_key(text: str, line: int, message: str) -> None:
    with pytest.raises(ScenarioError) as info:
        scenario_from_text(text, "x.yaml")
    assert str(info.value) == f"x.yaml:{line}: {message}"


@pytest.mark.parametrize(("text", "line", "message"), VALUES, ids=IDS)
def test_check_prints_one_line_and_the_count(tmp_path: Path, text: str, line: int, message: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    result = subprocess.run(
        [sys.executable, "-m", "mockfiles", "check", str(path)], capture_output=True, text=True, timeout=60
    )
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr == f"{path}:{line}: {message}\n{path}: 1 error\n"


@pytest.mark.parametrize(("text", "line", "message"), [VALUES[0], VALUES[3], VALUES[9]], ids=["date", "bool", "hex"])
def test_serve_says_it_in_one_line_and_exits_2(tmp_path: Path, text: str, line: int, message: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    result = subprocess.run(
        [sys.executable, "-m", "mockfiles", "serve", "--port", "0", "--quiet", "--scenario", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == f"mockfiles: {path}:{line}: {message}\n"


@pytest.mark.parametrize(("text", "line", "message"), VALUES, ids=IDS)
def test_put_and_check_routes_answer_400(mockfiles: MockFilesServer, text: str, line: int, message: str) -> None:
    admin = mockfiles.url + "/_mockfiles/scenario"
    kept = "faults: [{status: 503, match: {endpoint: files.list}}]\n"
    assert httpx.put(admin, content=kept).status_code == 200
    expected = {
        "message": f"<PUT /_mockfiles/scenario>:{line}: {message}",
        "type": "invalid_request_error",
        "param": "scenario",
        "code": None,
    }
    for answer in (httpx.put(admin, content=text), httpx.post(admin + "/check", content=text)):
        assert answer.status_code == 400, answer.text
        assert answer.json()["error"] == expected
    assert httpx.get(admin).json()["scenario"] == {"faults": [{"status": 503, "match": {"endpoint": "files.list"}}]}


# --- retry-test instructions ---------------------------------------------------------------------

LONG = "5" * 4400
INSTRUCTIONS = [
    (f"return-{LONG}", "files.list", f"{LONG[:64]}{SHOWN} is not an error status; use 400 to 599"),
    (f"return-html-{LONG}", "files.list", f"{LONG[:64]}{SHOWN} is not an error status; use 400 to 599"),
    (f"return-503-after-{LONG}K", "files.create", f"{LONG[:64]}{SHOWN}K is more than any body the emulator takes"),
    (f"reset-after-{LONG}K", "files.create", f"{LONG[:64]}{SHOWN}K is more than any body the emulator takes"),
    (f"broken-stream-after-{LONG}K", "files.content", f"{LONG[:64]}{SHOWN}K is more than any body the emulator"),
    (f"stall-for-1s-after-{LONG}K", "files.content", f"{LONG[:64]}{SHOWN}K is more than any body the emulator"),
    (f"stall-for-{LONG}s-after-1K", "files.content", f"{LONG[:64]}{SHOWN}s is longer than 600 s"),
    (f"delay-{LONG}ms", "files.list", f"{LONG[:64]}{SHOWN}ms is longer than 600 s"),
    (f"return-429-retry-after-{LONG}s", "files.list", "Retry-After takes whole numbers up to a day"),
    (f"return-429-retry-after-{LONG}ms", "files.list", "Retry-After takes whole numbers up to a day"),
    ("return-429-retry-after-86401s", "files.list", "Retry-After takes whole numbers up to a day"),
    ("return-429-retry-after-86400001ms", "files.list", "Retry-After takes whole numbers up to a day"),
]


@pytest.mark.parametrize(("instruction", "endpoint", "says"), INSTRUCTIONS, ids=lambda v: str(v)[:26])
def test_instructions_with_huge_numbers_are_a_400(
    mockfiles: MockFilesServer, instruction: str, endpoint: str, says: str
) -> None:
    answer = httpx.post(
        mockfiles.url + "/_mockfiles/retry-tests", json={"instructions": {endpoint: [instruction]}}, timeout=30
    )
    assert answer.status_code == 400, answer.text
    error = answer.json()["error"]
    assert error["param"] == f"instructions.{endpoint}[0]"
    assert says in error["message"]
    assert len(error["message"]) < 400  # the 4,400 digits are not repeated
    assert httpx.get(mockfiles.url + "/_mockfiles/retry-tests").json()["data"] == []


def test_a_day_of_retry_after_and_leading_zeros_are_fine(mockfiles: MockFilesServer) -> None:
    document = {"files.list": ["return-429-retry-after-86400s", "return-0503-retry-after-" + "0" * 5000 + "86400000ms"]}
    answer = httpx.post(mockfiles.url + "/_mockfiles/retry-tests", json={"instructions": document}, timeout=30)
    assert answer.status_code == 200, answer.text
    test_id = answer.json()["id"]
    with httpx.Client(base_url=mockfiles.url + "/v1", headers={"Authorization": "Bearer sk-x"}) as http:
        first = http.get("/files", headers={"x-retry-test-id": test_id})
        second = http.get("/files", headers={"x-retry-test-id": test_id})
    assert (first.status_code, first.headers["retry-after"]) == (429, "86400")
    assert (second.status_code, second.headers["retry-after-ms"]) == (503, "86400000")
