"""Retry-test instructions: every form parses into what it means, every malformed one is refused
with a message that names it, and each applies only where it makes sense."""

from __future__ import annotations

import pytest

from mockfiles.retries.instructions import (
    DOWNLOAD_ENDPOINTS,
    UPLOAD_ENDPOINTS,
    Instruction,
    InstructionError,
    parse_instruction,
)

K = 1024

GOOD = [
    ("return-503", "files.retrieve", Instruction("return-503", "error", status=503)),
    ("return-400", "files.create", Instruction("return-400", "error", status=400)),
    ("return-599", "files.list", Instruction("return-599", "error", status=599)),
    (
        "return-429-retry-after-1s",
        "files.list",
        Instruction("return-429-retry-after-1s", "error", status=429, headers=(("retry-after", "1"),)),
    ),
    (
        "return-429-retry-after-300ms",
        "files.list",
        Instruction("return-429-retry-after-300ms", "error", status=429, headers=(("retry-after-ms", "300"),)),
    ),
    (
        "return-503-retry-after-0s",
        "files.list",
        Instruction("return-503-retry-after-0s", "error", status=503, headers=(("retry-after", "0"),)),
    ),
    (
        "return-503-should-retry-false",
        "files.create",
        Instruction("return-503-should-retry-false", "error", status=503, headers=(("x-should-retry", "false"),)),
    ),
    (
        "return-400-should-retry-true",
        "files.retrieve",
        Instruction("return-400-should-retry-true", "error", status=400, headers=(("x-should-retry", "true"),)),
    ),
    (
        "return-429-retry-after-2s-should-retry-true",
        "files.list",
        Instruction(
            "return-429-retry-after-2s-should-retry-true",
            "error",
            status=429,
            headers=(("retry-after", "2"), ("x-should-retry", "true")),
        ),
    ),
    (
        "return-503-after-256K",
        "files.create",
        Instruction("return-503-after-256K", "error", status=503, after_bytes=256 * K, body="request"),
    ),
    (
        "return-503-after-0K",
        "uploads.parts.create",
        Instruction("return-503-after-0K", "error", status=503, after_bytes=0, body="request"),
    ),
    ("return-html-502", "files.retrieve", Instruction("return-html-502", "html_error", status=502)),
    ("return-html-503", "files.content", Instruction("return-html-503", "html_error", status=503)),
    ("return-malformed-json", "files.retrieve", Instruction("return-malformed-json", "malformed_json", status=200)),
    ("reset", "files.delete", Instruction("reset", "reset")),
    ("reset-after-64K", "files.create", Instruction("reset-after-64K", "reset", after_bytes=64 * K, body="request")),
    ("reset-after-commit", "files.create", Instruction("reset-after-commit", "reset_after_commit")),
    ("reset-after-commit", "files.list", Instruction("reset-after-commit", "reset_after_commit")),
    (
        "broken-stream-after-4K",
        "files.content",
        Instruction("broken-stream-after-4K", "broken_stream", after_bytes=4 * K, body="response"),
    ),
    (
        "stall-for-2s-after-4K",
        "files.content",
        Instruction("stall-for-2s-after-4K", "stall", after_bytes=4 * K, body="response", seconds=2.0),
    ),
    (
        "stall-for-1500ms-after-128K",
        "files.create",
        Instruction("stall-for-1500ms-after-128K", "stall", after_bytes=128 * K, body="request", seconds=1.5),
    ),
    ("timeout", "files.retrieve", Instruction("timeout", "timeout", seconds=600.0)),
    ("delay-300ms", "files.list", Instruction("delay-300ms", "delay", seconds=0.3)),
    ("delay-1.5s", "batches.create", Instruction("delay-1.5s", "delay", seconds=1.5)),
    ("delay-0s", "files.list", Instruction("delay-0s", "delay", seconds=0.0)),
]


@pytest.mark.parametrize(("text", "endpoint", "expected"), GOOD, ids=[f"{t}@{e}" for t, e, _ in GOOD])
def test_every_instruction_parses_into_what_it_means(text: str, endpoint: str, expected: Instruction) -> None:
    assert parse_instruction(text, endpoint) == expected


BAD = [
    (
        "retrun-503",
        "files.list",
        "unknown instruction 'retrun-503'; did you mean 'return-503'? Instructions: return-<status>, "
        "return-<status>-retry-after-<n>s, return-<status>-retry-after-<n>ms, return-<status>-should-retry-true|false, "
        "return-<status>-after-<N>K, return-html-<status>, return-malformed-json, reset, reset-after-<N>K, "
        "reset-after-commit, broken-stream-after-<N>K, stall-for-<dur>-after-<N>K, timeout, delay-<dur>",
    ),
    ("explode", "files.list", "unknown instruction 'explode'; instructions: return-<status>, "),
    ("return-503 ", "files.list", "unknown instruction 'return-503 '; did you mean 'return-503'?"),
    ("RETURN-503", "files.list", "unknown instruction 'RETURN-503'"),
    ("return-reset-connection", "files.list", "unknown instruction 'return-reset-connection'"),
    ("return-200", "files.list", "'return-200': 200 is not an error status; use 400 to 599"),
    ("return-302", "files.list", "'return-302': 302 is not an error status; use 400 to 599"),
    ("return-600", "files.list", "'return-600': 600 is not an error status; use 400 to 599"),
    ("return-5030", "files.list", "'return-5030': 5030 is not an error status; use 400 to 599"),
    ("return-html-200", "files.list", "'return-html-200': 200 is not an error status; use 400 to 599"),
    (
        "return-429-retry-after-1.5s",
        "files.list",
        "'return-429-retry-after-1.5s': Retry-After takes whole numbers up to a day; write e.g. -retry-after-2s or -retry-after-1500ms",
    ),
    ("return-429-retry-after-1m", "files.list", "unknown instruction 'return-429-retry-after-1m'"),
    ("return-429-retry-after", "files.list", "unknown instruction 'return-429-retry-after'"),
    ("return-503-should-retry-maybe", "files.list", "unknown instruction 'return-503-should-retry-maybe'"),
    (
        "return-503-should-retry-false-retry-after-1s",
        "files.list",
        "unknown instruction 'return-503-should-retry-false-retry-after-1s'",
    ),
    ("return-503-after-256KB", "files.create", "unknown instruction 'return-503-after-256KB'"),
    ("return-503-after-256k", "files.create", "unknown instruction 'return-503-after-256k'"),
    ("reset-after-K", "files.create", "unknown instruction 'reset-after-K'"),
    ("broken-stream", "files.content", "unknown instruction 'broken-stream'"),
    ("stall-for-2s", "files.content", "unknown instruction 'stall-for-2s'"),
    ("stall-for-2-after-4K", "files.content", "unknown instruction 'stall-for-2-after-4K'"),
    ("delay", "files.list", "unknown instruction 'delay'"),
    ("delay-fast", "files.list", "unknown instruction 'delay-fast'"),
    ("delay--1s", "files.list", "unknown instruction 'delay--1s'"),
    ("delay-601s", "files.list", "'delay-601s': 601s is longer than 600 s, the longest hold"),
    ("stall-for-700000ms-after-1K", "files.content", "'stall-for-700000ms-after-1K': 700000ms is longer than 600 s"),
    ("reset-after-2000000K", "files.create", "'reset-after-2000000K': 2000000K is more than any body"),
    ("", "files.list", "unknown instruction ''"),
]


@pytest.mark.parametrize(("text", "endpoint", "message"), BAD, ids=[t or "empty" for t, _, _ in BAD])
def test_malformed_instructions_are_refused_with_a_message_naming_them(text: str, endpoint: str, message: str) -> None:
    with pytest.raises(InstructionError) as info:
        parse_instruction(text, endpoint)
    assert str(info.value).startswith(message)
    assert info.value.instruction == text


@pytest.mark.parametrize("value", [503, None, ["return-503"], {"x": 1}, True])
def test_an_instruction_must_be_a_string(value: object) -> None:
    with pytest.raises(InstructionError, match="an instruction must be a string like 'return-503', got"):
        parse_instruction(value, "files.list")


MISPLACED = [
    (
        "broken-stream-after-4K",
        "files.create",
        "'broken-stream-after-4K' breaks a downloaded body; it applies to files.content, not files.create",
    ),
    (
        "broken-stream-after-4K",
        "files.retrieve",
        "'broken-stream-after-4K' breaks a downloaded body; it applies to files.content, not files.retrieve",
    ),
    (
        "return-503-after-4K",
        "files.list",
        "'return-503-after-4K' acts part-way through an upload; it applies to files.create, uploads.parts.create, "
        "not files.list",
    ),
    (
        "return-503-after-4K",
        "files.content",
        "'return-503-after-4K' acts part-way through an upload; it applies to files.create, uploads.parts.create, "
        "not files.content",
    ),
    (
        "reset-after-64K",
        "batches.create",
        "'reset-after-64K' acts part-way through an upload; it applies to files.create, uploads.parts.create, "
        "not batches.create",
    ),
    (
        "stall-for-2s-after-4K",
        "files.retrieve",
        "'stall-for-2s-after-4K' stalls a body counted in KiB; it applies to uploads (files.create, "
        "uploads.parts.create) and downloads (files.content), not files.retrieve; use delay-<dur> for a slow answer",
    ),
    (
        "return-malformed-json",
        "files.content",
        "'return-malformed-json' mangles a JSON answer; files.content answers with the file's bytes, not JSON",
    ),
]


@pytest.mark.parametrize(("text", "endpoint", "message"), MISPLACED, ids=[f"{t}@{e}" for t, e, _ in MISPLACED])
def test_instructions_apply_only_where_they_make_sense(text: str, endpoint: str, message: str) -> None:
    with pytest.raises(InstructionError) as info:
        parse_instruction(text, endpoint)
    assert str(info.value) == message


def test_which_endpoints_carry_bodies_is_the_callers_to_say() -> None:
    """A new endpoint with a file body (say, a future batch output download) is declared, not hard-coded."""
    with pytest.raises(InstructionError):
        parse_instruction("broken-stream-after-1K", "batches.output")
    parsed = parse_instruction("broken-stream-after-1K", "batches.output", downloads={"batches.output"})
    assert parsed.body == "response" and parsed.after_bytes == 1024
    assert "files.create" in UPLOAD_ENDPOINTS and "files.content" in DOWNLOAD_ENDPOINTS


@pytest.mark.parametrize(
    ("text", "endpoint", "performs"),
    [
        ("return-503", "files.create", False),
        ("return-503-after-4K", "files.create", False),
        ("return-html-503", "files.create", False),
        ("reset", "files.create", False),
        ("reset-after-4K", "files.create", False),
        ("timeout", "files.create", False),
        ("reset-after-commit", "files.create", True),
        ("return-malformed-json", "files.create", True),
        ("delay-1s", "files.create", True),
        ("stall-for-1s-after-4K", "files.create", True),
        ("broken-stream-after-4K", "files.content", True),
    ],
)
def test_whether_the_operation_happens(text: str, endpoint: str, performs: bool) -> None:
    assert parse_instruction(text, endpoint).performs_operation is performs


def test_an_instruction_shows_as_a_plain_dict() -> None:
    assert parse_instruction("return-429-retry-after-300ms", "files.list").to_dict() == {
        "instruction": "return-429-retry-after-300ms",
        "kind": "error",
        "status": 429,
        "headers": {"retry-after-ms": "300"},
    }
    assert parse_instruction("stall-for-2s-after-4K", "files.content").to_dict() == {
        "instruction": "stall-for-2s-after-4K",
        "kind": "stall",
        "after_bytes": 4096,
        "body": "response",
        "seconds": 2.0,
    }
