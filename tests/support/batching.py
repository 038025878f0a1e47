"""Helpers for the Batches domain tests: an emulator, input files, batches as OpenAI shows them, and
reading results back."""

from __future__ import annotations

import json
from typing import Any

from openai.types import Batch

from mockfiles.batches.service import Batches
from mockfiles.batches.view import BatchView
from mockfiles.emulator import Emulator, Settings
from mockfiles.files.service import Files
from mockfiles.scenarios.scenario import ScenarioSource
from mockfiles.web.dialects.openai import OpenAIDialect
from tests.support.helpers import batch_line, jsonl

CHAT = "/v1/chat/completions"
OPENAI = OpenAIDialect()
KEY = "sk-test"


def chat_line(custom_id: str, text: str | None = None, model: str = "gpt-4o-mini") -> dict[str, Any]:
    line = batch_line(custom_id, model=model)
    line["body"]["messages"] = [{"role": "user", "content": text if text is not None else f"say {custom_id}"}]
    return line


def chat_file(*custom_ids: str) -> bytes:
    return jsonl(*(chat_line(c) for c in custom_ids))


class World:
    """One emulator, its clock, and shortcuts for one account's batches. Reading its ``files`` or
    ``batches`` first waits for the work due by now (ended batches' results), as the edge has a
    request wait for its account's (scheduler.py)."""

    def __init__(
        self, scenario: ScenarioSource | None = None, profile: str | None = None, seed: int | None = None
    ) -> None:
        self.emulator = Emulator(Settings(scenario=scenario, profile=profile, seed=seed))

    def settle(self) -> None:
        assert self.emulator.scheduler.settle(timeout=120), "the emulator's due work did not end"

    @property
    def files(self) -> Files:
        self.settle()
        return self.emulator.files

    @property
    def batches(self) -> Batches:
        self.settle()
        return self.emulator.batches

    def advance(self, seconds: float) -> None:
        self.emulator.clock.advance(seconds)

    def upload(self, content: bytes, purpose: str = "batch", account: str = KEY, filename: str = "in.jsonl") -> str:
        return self.files.create(account, purpose=purpose, filename=filename, chunks=[content], size=len(content)).id

    def create(self, content: bytes, endpoint: str = CHAT, account: str = KEY, **params: Any) -> dict[str, Any]:
        file_id = self.upload(content, account=account)
        params.setdefault("completion_window", "24h")
        return shown(self.batches.create(account, input_file_id=file_id, endpoint=endpoint, **params))

    def get(self, batch_id: str, account: str = KEY) -> dict[str, Any]:
        return typed(shown(self.batches.get(account, batch_id)))

    def lines(self, file_id: str | None, account: str = KEY) -> list[dict[str, Any]]:
        assert file_id is not None
        return [json.loads(line) for line in self.files.get(account, file_id).content().splitlines()]


def shown(batch: BatchView) -> dict[str, Any]:
    """The service's view of a batch as OpenAI's dialect words it (the Batch object)."""
    return OPENAI.batch_object(batch)


def typed(batch: dict[str, Any]) -> dict[str, Any]:
    """The batch, after checking the SDK's Batch model takes it strictly with no unknown field."""
    parsed = Batch.model_validate(batch, strict=True)
    assert set(batch) == set(Batch.model_fields), set(batch) ^ set(Batch.model_fields)
    assert not parsed.model_extra
    return batch
