"""Content checks that real services run while a file is "processing".

A failed check does not reject the upload: the file ends in ``status: error`` with
``status_details`` naming the line and the problem, as the real services do.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator


def iter_lines(chunks: Iterable[bytes]) -> Iterator[bytes]:
    """The lines of a file held as chunks, without joining the chunks into one copy."""
    pending = b""
    for chunk in chunks:
        start = 0
        while True:
            end = chunk.find(b"\n", start)
            if end < 0:
                pending += chunk[start:]
                break
            yield pending + chunk[start:end]
            pending = b""
            start = end + 1
    if pending:
        yield pending


def check_content(kind: str | None, chunks: Iterable[bytes], batch_urls: tuple[str, ...]) -> str | None:
    """None when the content is acceptable, else the ``status_details`` of the failure."""
    if kind == "batch":
        return _check_jsonl(chunks, _BatchLine(batch_urls))
    if kind == "fine-tune":
        return _check_jsonl(chunks, _fine_tune_line)
    return None


def _check_jsonl(chunks: Iterable[bytes], check_line: Callable[[dict[str, object]], str | None]) -> str | None:
    count = 0
    for number, raw in enumerate(iter_lines(chunks), start=1):
        count = number
        line = raw.rstrip(b"\r")
        if not line.strip():
            return f"line {number}: empty line"
        try:
            text = line.decode("utf-8")
        except UnicodeDecodeError:
            return f"line {number}: not valid UTF-8"
        try:
            obj = json.loads(text)
        except ValueError:
            return f"line {number}: invalid JSON"
        if not isinstance(obj, dict):
            return f"line {number}: expected a JSON object"
        problem = check_line(obj)
        if problem:
            return f"line {number}: {problem}"
    if count == 0:
        return "the file has no lines"
    return None


class _BatchLine:
    """One request of a Batch input file: custom_id, method, url, body."""

    def __init__(self, urls: tuple[str, ...]) -> None:
        self.urls = urls
        self.seen: set[str] = set()
        self.url: str | None = None

    def __call__(self, obj: dict[str, object]) -> str | None:
        custom_id = obj.get("custom_id")
        if not isinstance(custom_id, str) or not custom_id:
            return "missing or non-string custom_id"
        if custom_id in self.seen:
            return f"duplicate custom_id {json.dumps(custom_id)}"
        self.seen.add(custom_id)
        if obj.get("method") != "POST":
            return f"method must be POST, got {json.dumps(obj.get('method'))}"
        url = obj.get("url")
        if url not in self.urls:
            return f"url must be one of {', '.join(self.urls)}, got {json.dumps(url)}"
        if self.url is None:
            self.url = url  # type: ignore[assignment]
        elif url != self.url:
            return f"all requests must use the same url; expected {self.url}, got {url}"
        body = obj.get("body")
        if not isinstance(body, dict):
            return "body must be a JSON object"
        if not isinstance(body.get("model"), str) or not body["model"]:
            return "body.model is required"
        return None


def _fine_tune_line(obj: dict[str, object]) -> str | None:
    """Chat format (``messages``), preference format, or legacy prompt/completion."""
    if "messages" in obj:
        messages = obj["messages"]
        if not isinstance(messages, list) or not messages:
            return "messages must be a non-empty list"
        for i, message in enumerate(messages):
            if not isinstance(message, dict) or not isinstance(message.get("role"), str):
                return f"messages[{i}] must be an object with a string role"
        return None
    if "input" in obj and "preferred_output" in obj and "non_preferred_output" in obj:
        return None
    if isinstance(obj.get("prompt"), str) and isinstance(obj.get("completion"), str):
        return None
    return "expected a chat example with 'messages', or 'prompt' and 'completion'"
