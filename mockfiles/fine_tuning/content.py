"""A training or validation file read as OpenAI reads it in ``validating_files``.

OpenAI accepts a ``fine-tune`` file whose lines are bad (it is ``processed``) and fails the job
built from it: ``status: failed`` with ``error {code, message, param}``. This module is that
check. Each line is one example, a JSON object in the format of the job's method:

- ``supervised``: ``{"messages": [...]}`` (with ``tools``, ``functions``, ``parallel_tool_calls``),
  every message with a known role, at least one from the assistant; for the legacy completion
  models ``{"prompt": "...", "completion": "..."}``;
- ``dpo``: ``{"input": {"messages": [...]}, "preferred_output": [...], "non_preferred_output": [...]}``;
- ``reinforcement``: ``{"messages": [...], ...}`` with at least one user message (any other field
  is the item the grader reads).

The first problem ends the check; its message names the example by its line in the file
("Example 6"), in the words real jobs were seen failing with (docs/fine_tuning.md). A file in
another method's format is said so for the whole file, as OpenAI does. A training file needs
at least 10 examples (``invalid_n_examples``), a validation file one. Blank lines are skipped.

The file is read as the store holds it, chunk by chunk, one line at a time; nothing keeps the
examples: only their count and an estimate of their tokens (inference/text.py's rule).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from mockfiles.batches.input import BOM, iter_lines
from mockfiles.files.store import StoredFile
from mockfiles.inference.text import content_text, tokens

ROLES = ("system", "developer", "user", "assistant", "tool", "function")
ROLE_TOKENS = {role: 3 + tokens(role) for role in ROLES}  # a message's overhead and its role
CHAT_KEYS = ("messages", "tools", "functions", "parallel_tool_calls")
DPO_KEYS = ("input", "preferred_output", "non_preferred_output")
FORMAT_OF = {"supervised": "fine-tune-chat", "dpo": "fine-tune-preference", "reinforcement": "fine-tune-reinforcement"}
MIN_TRAINING_EXAMPLES = 10
MIN_VALIDATION_EXAMPLES = 1


@dataclass(frozen=True)
class Examples:
    count: int
    tokens: int  # over every example, once (one epoch)


@dataclass(frozen=True)
class FileProblem:
    code: str
    message: str
    param: str  # training_file or validation_file


class BadExample(Exception):
    """One example's problem, in the words after "Invalid file format. "."""


def read_examples(
    chunks: Iterable[bytes], *, method: str, completions: bool, which: str, file_id: str
) -> Examples | FileProblem:
    """The file's examples, or the first problem found in them. ``which``: training or validation."""
    param = f"{which}_file"
    count = total = 0
    check = _check_completion if completions else CHECKS[method]
    for number, raw in enumerate(iter_lines(chunks), start=1):
        if not raw.strip():
            continue
        try:
            text = raw.decode("utf-8")
            if number == 1 and text.startswith(BOM):
                text = text[1:]
            example = json.loads(text)
        except UnicodeDecodeError:
            return _format(which, f"Example {number} cannot be parsed. Error: line is not valid UTF-8 (line {number})")
        except ValueError as exc:
            return _format(
                which, f"Example {number} cannot be parsed. Error: line contains invalid json: {exc} (line {number})"
            )
        if count == 0 and not completions:
            mismatch = _other_format(example, method, file_id)
            if mismatch is not None:
                return _format(which, mismatch)
        try:
            total += check(number, example)
        except BadExample as problem:
            return _format(which, str(problem))
        count += 1
    least = MIN_TRAINING_EXAMPLES if which == "training" else MIN_VALIDATION_EXAMPLES
    if count < least:
        message = f"{which.capitalize()} file has {count} example(s), but must have at least {least} examples"
        return FileProblem("invalid_n_examples", message, param)
    return Examples(count, total)


def read_files(
    training: StoredFile, validation: StoredFile | None, *, method: str, completions: bool
) -> Examples | FileProblem:
    """The training file's examples, or the first problem of the training file, then of the
    validation file."""
    read = read_examples(training.chunks, method=method, completions=completions, which="training", file_id=training.id)
    if validation is None or isinstance(read, FileProblem):
        return read
    checked = read_examples(
        validation.chunks, method=method, completions=completions, which="validation", file_id=validation.id
    )
    return checked if isinstance(checked, FileProblem) else read


def _format(which: str, detail: str) -> FileProblem:
    message = f"The job failed due to a file format error in the {which} file. Invalid file format. {detail}"
    return FileProblem("invalid_file_format", message, f"{which}_file")


def _other_format(example: Any, method: str, file_id: str) -> str | None:
    """The whole file is in another method's format (judged by its first example)."""
    if not isinstance(example, dict):
        return None
    if "preferred_output" in example or "non_preferred_output" in example:
        found = "dpo"
    elif isinstance(example.get("messages"), list) and example["messages"]:
        last = example["messages"][-1]
        answered = isinstance(last, dict) and last.get("role") == "assistant"
        found = "supervised" if answered or method != "reinforcement" else "reinforcement"
    else:
        return None
    if found == method:
        return None
    return (
        f"Input file {file_id} is in the {FORMAT_OF[found]} format, but the specified fine-tuning job is not "
        f"using '{found}' as the training method (provided method={method}). "
    )


def _object(number: int, example: Any, allowed: tuple[str, ...] | None, required: tuple[str, ...]) -> dict[str, Any]:
    if not isinstance(example, dict):
        raise BadExample(f"Example {number} is not a JSON object.")
    for key in required:
        if key not in example:
            raise BadExample(f"Example {number} is missing key '{key}'.")
    if allowed is not None:
        for key in example:
            if key not in allowed:
                raise BadExample(f'Example {number} contains an extra "{key}".')
    return example


def _messages(number: int, value: Any, where: str, *, roles: tuple[str, ...] = ROLES) -> tuple[int, set[str]]:
    """Check a list of messages: their tokens, as a chat request's prompt counts them, and their roles.
    (The path most examples take, a string content, is kept short: it runs 300,000 times for a
    100,000-example file.)"""
    if type(value) is not list or not value:
        raise BadExample(f"Example {number}'s '{where}' must be a non-empty list of messages.")
    total = 3
    seen: set[str] = set()
    for m, message in enumerate(value, start=1):
        if type(message) is not dict:
            raise BadExample(f"Example {number}, message {m} is not a JSON object.")
        role = message.get("role")
        if role not in roles:
            if role is None:
                raise BadExample(f"Example {number}, message {m} Discriminator 'role' is missing in value")
            allowed = ", ".join(f"'{r}'" for r in roles)
            raise BadExample(f"Example {number}, message {m} has role {role!r}; expected one of {allowed}.")
        seen.add(role)
        content = message.get("content")
        if type(content) is str and len(message) == 2:
            total += ROLE_TOKENS[role] + _text_tokens(content)
            continue
        total += ROLE_TOKENS[role] + _other_message(number, m, role, content, message)
    return total, seen


def _text_tokens(text: str) -> int:
    """``inference.text.tokens`` with a shortcut for ASCII text (most of it)."""
    return max(1, -(-len(text) // 4)) if text.isascii() else tokens(text)


def _other_message(number: int, m: int, role: str, content: Any, message: dict[str, Any]) -> int:
    """The tokens of a message with parts, tool calls or a weight, once checked."""
    called = role == "assistant" and (message.get("tool_calls") or message.get("function_call"))
    if content is None and not called:
        raise BadExample(f"Example {number}, message {m} is missing key 'content'.")
    if content is not None and not isinstance(content, (str, list)):
        raise BadExample(f"Example {number}, message {m} has content that is neither a string nor a list of parts.")
    if "weight" in message and (role != "assistant" or message["weight"] not in (0, 1)):
        raise BadExample(f"Example {number}, message {m} has a weight: only assistant messages take one, 0 or 1.")
    text, extra = content_text(content)
    total = (_text_tokens(text) if text else 0) + extra
    if called:
        total += tokens(json.dumps(message.get("tool_calls") or message.get("function_call")))
    return total


def _check_chat(number: int, example: Any) -> int:
    example = _object(number, example, CHAT_KEYS, ("messages",))
    total, roles = _messages(number, example["messages"], "messages")
    if "assistant" not in roles:
        raise BadExample(f"Example {number} is missing an assistant message.")
    return total + (tokens(json.dumps(example["tools"])) if example.get("tools") else 0)


def _check_preference(number: int, example: Any) -> int:
    example = _object(number, example, DPO_KEYS, DPO_KEYS)
    given = example["input"]
    if not isinstance(given, dict):
        raise BadExample(f"Example {number}'s 'input' is not a JSON object.")
    for key in given:
        if key not in CHAT_KEYS:
            raise BadExample(f"Example {number}'s 'input' contains an extra \"{key}\".")
    if "messages" not in given:
        raise BadExample(f"Example {number}'s 'input' is missing key 'messages'.")
    total = _messages(number, given["messages"], "input.messages")[0]
    for key in ("preferred_output", "non_preferred_output"):
        total += _messages(number, example[key], key, roles=("assistant",))[0]
    return total


def _check_reinforcement(number: int, example: Any) -> int:
    example = _object(number, example, None, ("messages",))
    total, roles = _messages(number, example["messages"], "messages")
    if "user" not in roles:
        raise BadExample(f"Example {number} is missing a user message.")
    return total


def _check_completion(number: int, example: Any) -> int:
    example = _object(number, example, ("prompt", "completion"), ("prompt", "completion"))
    for key in ("prompt", "completion"):
        if not isinstance(example[key], str):
            raise BadExample(f"Example {number}'s '{key}' must be a string.")
    return tokens(example["prompt"]) + tokens(example["completion"])


CHECKS = {"supervised": _check_chat, "dpo": _check_preference, "reinforcement": _check_reinforcement}
