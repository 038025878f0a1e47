"""The ``fine_tuning:`` section of a scenario: how long a job's phases last, the organization its
models are named for, and rules that decide how jobs end.

```yaml
fine_tuning:
  organization: my-org                       # ft:gpt-4o-mini-2024-07-18:my-org:suffix:abc12345
  timing: {validating_files: 30s, queued: 1m, running: 10m}
  jobs:                                      # first match wins
    - match: {training_file: "bad-*.jsonl"}  # globs on the files' names, model, suffix; method exact
      error: {code: invalid_file_format, message: "...", param: training_file}
    - match: {model: "gpt-4.1*"}
      stage: running                         # fails halfway through training instead
      error: {code: server_error}
    - match: {suffix: "slow-*"}
      timing: {running: 2h}                  # this job's own timing
      probability: 0.5                       # drawn from the scenario's seed and the job's id
```

Every phase lasts 0 s by default, as batches do: a test that creates a job and retrieves it, with
no clock moves, sees it ``succeeded``. A job keeps the settings it was created with.
"""

from __future__ import annotations

import fnmatch
import hashlib
from dataclasses import dataclass, field, replace
from typing import Any

from mockfiles.scenarios.located import Located, duration, number, string

SECTION_KEYS = ("organization", "timing", "jobs")
TIMING_KEYS = ("validating_files", "queued", "running")
RULE_KEYS = ("match", "probability", "error", "stage", "timing")
MATCH_KEYS = ("training_file", "validation_file", "model", "suffix", "method")
ERROR_KEYS = ("code", "message", "param")
STAGES = ("validating_files", "running")
METHODS = ("supervised", "dpo", "reinforcement")
DEFAULT_ORGANIZATION = "personal"  # what a personal account's models are named for
DEFAULT_MESSAGES = {
    "validating_files": "The job failed due to an invalid training file.",
    "running": "The job failed due to an internal error. Please try again.",
}


@dataclass(frozen=True)
class Timing:
    """Seconds on the emulator clock that each phase lasts."""

    validating_files: float = 0.0
    queued: float = 0.0  # also after every resume
    running: float = 0.0  # the whole training, spread over its steps


@dataclass(frozen=True)
class JobFacts:
    """What a rule can match of a job."""

    training_file: str  # the file's name
    validation_file: str | None
    model: str  # as the client named it
    snapshot: str  # the base model's snapshot
    suffix: str | None
    method: str
    job_id: str


@dataclass(frozen=True)
class JobRule:
    index: int
    identity: str  # the rule as written: seeds its probability
    globs: dict[str, str] = field(default_factory=dict)
    method: str | None = None
    probability: float | None = None
    error: dict[str, str | None] | None = None
    stage: str = "validating_files"
    timing: dict[str, float] = field(default_factory=dict)

    def matches(self, job: JobFacts) -> bool:
        if self.method is not None and job.method != self.method:
            return False
        for key, glob in self.globs.items():
            values = (job.model, job.snapshot) if key == "model" else (getattr(job, key),)
            if not any(v is not None and fnmatch.fnmatchcase(v, glob) for v in values):
                return False
        return True

    def fires(self, seed: int, job_id: str) -> bool:
        if self.probability is None:
            return True
        digest = hashlib.blake2b(f"{seed}:{self.identity}:{job_id}".encode(), digest_size=8).digest()
        return int.from_bytes(digest, "big") / 2**64 < self.probability

    def failure(self) -> tuple[str, str, str | None] | None:
        """The job's error (code, message, param) when this rule fails it."""
        if self.error is None:
            return None
        code = self.error.get("code") or "server_error"
        message = self.error.get("message") or DEFAULT_MESSAGES[self.stage]
        return code, message, self.error.get("param")


@dataclass(frozen=True)
class FineTuningSettings:
    organization: str = DEFAULT_ORGANIZATION
    timing: Timing = Timing()
    jobs: tuple[JobRule, ...] = ()

    def rule_for(self, seed: int, job: JobFacts) -> JobRule | None:
        for rule in self.jobs:
            if rule.matches(job) and rule.fires(seed, job.job_id):
                return rule
        return None

    def timing_for(self, rule: JobRule | None) -> Timing:
        return replace(self.timing, **rule.timing) if rule is not None else self.timing


def parse_fine_tuning(node: Located) -> FineTuningSettings:
    entries = node.mapping(SECTION_KEYS)
    out: dict[str, Any] = {}
    if "organization" in entries:
        org = string(entries["organization"])
        if ":" in org or len(org) > 64:
            entries["organization"].fail(f"{entries['organization'].name} must be at most 64 characters, without ':'")
        out["organization"] = org
    if "timing" in entries:
        out["timing"] = Timing(**_timing(entries["timing"]))
    if "jobs" in entries:
        out["jobs"] = tuple(_rule(item) for item in entries["jobs"].items())
    return FineTuningSettings(**out)


def _timing(node: Located) -> dict[str, float]:
    return {key: duration(value) for key, value in node.mapping(TIMING_KEYS).items()}


def _rule(item: Located) -> JobRule:
    entries = item.mapping(RULE_KEYS)
    rule: dict[str, Any] = {"index": item.index, "identity": item.identity}
    if "match" in entries:
        match = entries["match"].mapping(MATCH_KEYS)
        rule["globs"] = {key: string(value) for key, value in match.items() if key != "method"}
        if "method" in match:
            method = match["method"]
            if method.value not in METHODS:
                method.fail(f"unknown method {method.value!r} in {method.name}; choose one of {', '.join(METHODS)}")
            rule["method"] = method.value
    if "probability" in entries:
        rule["probability"] = number(entries["probability"], 0.0, 1.0)
    if "error" not in entries and "timing" not in entries:
        item.fail(f"{item.name} does nothing: give it an error (the job fails) or a timing")
    if "error" in entries:
        given = entries["error"].mapping(ERROR_KEYS)
        rule["error"] = {key: None if value.value is None else string(value) for key, value in given.items()}
    if "stage" in entries:
        stage = entries["stage"]
        if stage.value not in STAGES:
            stage.fail(f"unknown stage {stage.value!r} in {stage.name}; choose one of {', '.join(STAGES)}")
        if "error" not in entries:
            stage.fail(f"{stage.name} says where the job fails: give the rule an error too")
        rule["stage"] = stage.value
    if "timing" in entries:
        rule["timing"] = _timing(entries["timing"])
    return JobRule(**rule)
