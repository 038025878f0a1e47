"""The ``chat:`` section of a scenario: answers the model routes give instead of the stand-in's,
and files they fail to parse.

```yaml
chat:
  answers:                                  # first match wins
    - match: {model: "qwen-long*", filename: "*.pdf", prompt: "*total*"}
      text: "The total is 42."              # this answer (the files are still checked and read)
    - match: {file_id: "file-fe-*", filename: "scan-*"}
      parse_error: true                     # reading a matching file fails as a parse failure
```

``match`` takes globs on the ``model``, on a file the request reads (``file_id``, ``filename``)
and on its ``prompt`` (every message's text), and the ``endpoint`` (``chat.completions.create``,
``responses.create``). Faults of these routes (a status, a delay, a stream cut after some events)
are ``faults:`` rules, which can match the same keys.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from mockfiles.core.registry import PROMPTS
from mockfiles.scenarios.located import Located, string, type_name

SECTION_KEYS = ("answers",)
RULE_KEYS = ("name", "match", "text", "parse_error")
MATCH_KEYS = ("endpoint", "model", "file_id", "filename", "prompt")


@dataclass(frozen=True)
class AnswerRule:
    index: int
    name: str | None = None
    endpoints: frozenset[str] | None = None
    model: str | None = None
    file_id: str | None = None
    filename: str | None = None
    prompt: str | None = None
    text: str | None = None
    parse_error: bool = False

    @property
    def label(self) -> str:
        return self.name or f"chat.answers[{self.index}]"

    def fits(self, endpoint: str, model: str, prompt: str) -> bool:
        """Whether the request-level keys match."""
        if self.endpoints is not None and endpoint not in self.endpoints:
            return False
        if self.model is not None and not fnmatch.fnmatchcase(model, self.model):
            return False
        return self.prompt is None or fnmatch.fnmatchcase(prompt, self.prompt)

    def fits_file(self, file_id: str, filename: str) -> bool:
        if self.file_id is not None and not fnmatch.fnmatchcase(file_id, self.file_id):
            return False
        return self.filename is None or fnmatch.fnmatchcase(filename, self.filename)

    @property
    def about_files(self) -> bool:
        return self.file_id is not None or self.filename is not None


@dataclass(frozen=True)
class ChatSettings:
    answers: tuple[AnswerRule, ...] = ()

    def answer_for(self, endpoint: str, model: str, prompt: str, files: Iterable[tuple[str, str]]) -> AnswerRule | None:
        """The first rule with a text whose keys match the request and (if it names files) one of
        the files it read (``(file_id, filename)`` pairs)."""
        read = list(files)
        for rule in self.answers:
            if rule.text is None or not rule.fits(endpoint, model, prompt):
                continue
            if not rule.about_files or any(rule.fits_file(i, n) for i, n in read):
                return rule
        return None

    def parse_fails(self, endpoint: str, model: str, prompt: str, file_id: str, filename: str) -> AnswerRule | None:
        """The first parse-failure rule that matches the request and this file."""
        for rule in self.answers:
            if rule.parse_error and rule.fits(endpoint, model, prompt) and rule.fits_file(file_id, filename):
                return rule
        return None


def parse_chat(node: Located) -> ChatSettings:
    entries = node.mapping(SECTION_KEYS)
    rules: tuple[AnswerRule, ...] = ()
    if "answers" in entries:
        rules = tuple(_rule(item) for item in entries["answers"].items())
    return ChatSettings(rules)


def _rule(item: Located) -> AnswerRule:
    entries = item.mapping(RULE_KEYS)
    rule: dict[str, Any] = {"index": item.index}
    if "name" in entries:
        rule["name"] = string(entries["name"])
    if "match" in entries:
        rule.update(_match(entries["match"]))
    if "text" in entries:
        rule["text"] = string(entries["text"])
    if "parse_error" in entries:
        flag = entries["parse_error"]
        if not isinstance(flag.value, bool):
            flag.fail(f"{flag.name} must be true or false, got {type_name(flag.value)}")
        rule["parse_error"] = flag.value
    if "text" not in rule and not rule.get("parse_error"):
        item.fail(f"{item.name} does nothing: give it a text or parse_error: true")
    if "text" in rule and rule.get("parse_error"):
        item.fail(f"{item.name}: text and parse_error cannot go together (a file that fails gets no answer)")
    if rule.get("parse_error") and not ("file_id" in rule or "filename" in rule):
        item.fail(f"{item.name}: parse_error needs match: {{file_id: …}} or {{filename: …}} (which files fail)")
    return AnswerRule(**rule)


def _match(node: Located) -> dict[str, Any]:
    entries = node.mapping(MATCH_KEYS)
    out: dict[str, Any] = {}
    for key in ("model", "file_id", "filename", "prompt"):
        if key in entries:
            out[key] = string(entries[key])
    if "endpoint" in entries:
        given = entries["endpoint"]
        chosen = set()
        for item in given.items() if isinstance(given.value, list) else [given]:
            if item.value not in PROMPTS:
                item.fail(f"unknown endpoint {item.value!r} in {item.name}; choose one of {', '.join(sorted(PROMPTS))}")
            chosen.add(item.value)
        out["endpoints"] = frozenset(chosen)
    return out
