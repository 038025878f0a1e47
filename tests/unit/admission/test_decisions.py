"""Fault decisions on their own (no HTTP): which rule fires for a request, and the frozen Decision
it gives; then the seam between deciding and acting, driven through the ASGI application with a
connection handle of the test's own."""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Any

import pytest

from mockfiles.admission.chaos import Chaos, decision_of
from mockfiles.admission.decision import Decision, RequestView
from mockfiles.core.errors import InjectedError, InjectedRateLimit
from mockfiles.emulator import Emulator, Settings
from mockfiles.files.service import Outcome
from mockfiles.scenarios.scenario import load_scenario
from mockfiles.web.app import MockFilesApp


def chaos(*rules: dict[str, Any], seed: int = 0) -> Chaos:
    return Chaos(load_scenario({"faults": list(rules)}).faults, seed)


def view(endpoint: str = "files.list", stage: str = "arrival", **fields: Any) -> RequestView:
    upload = endpoint == "files.create"
    base = RequestView(stage, endpoint, upload, "GET", "/v1/files", "openai", "sk-a", {})  # type: ignore[arg-type]
    return base._replace(**fields)


def test_no_rule_no_decision() -> None:
    assert chaos().decide(view()) is None
    assert chaos({"match": {"endpoint": "files.delete"}, "status": 500}).decide(view()) is None


def test_a_status_rule_answers_instead_with_its_error() -> None:
    decision = chaos({"name": "boom", "status": 503}).decide(view())
    assert decision is not None and decision.instead
    assert (decision.label, decision.action, decision.index, decision.delay) == ("boom", "status 503", 0, 0.0)
    assert isinstance(decision.error, InjectedError) and decision.error.status == 503
    assert decision.error.message == "The server is overloaded or not ready yet."


def test_an_injected_429_is_a_rate_limit_refusal_advising_the_rules_wait() -> None:
    decision = chaos({"status": 429, "headers": {"retry-after-ms": "250"}}).decide(view())
    assert decision is not None and isinstance(decision.error, InjectedRateLimit)
    assert decision.error.retry_after == 0.25 and decision.error.headers == {"retry-after-ms": "250"}


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        ({"action": "reset"}, {"action": "reset", "drop": "reset", "instead": True}),
        ({"action": "timeout", "hold": "3s"}, {"action": "timeout", "drop": "hold", "hold": 3.0, "instead": True}),
        ({"action": "truncate"}, {"action": "truncate", "after": "truncate", "instead": False}),
        (
            {"action": "reset_after_commit"},
            {"action": "reset_after_commit", "after": "reset_after_commit", "instead": False},
        ),
        ({"delay": "250ms"}, {"action": "delay", "delay": 0.25, "instead": False}),
    ],
)
def test_each_kind_of_rule_gives_its_decision(rule: dict[str, Any], expected: dict[str, Any]) -> None:
    decision = chaos(rule).decide(view())
    assert decision is not None
    assert {key: getattr(decision, key) for key in expected} == expected


def test_an_upload_is_decided_once_its_form_is_read() -> None:
    rules = chaos(
        {
            "match": {"endpoint": "files.create", "filename": "bad*"},
            "processing": {"status": "error", "status_details": "no"},
        }
    )
    assert rules.decide(view("files.create")) is None  # on arrival: the form is not read yet
    assert rules.decide(view("files.create", "form", filename="good.txt")) is None
    decision = rules.decide(view("files.create", "form", purpose="assistants", filename="bad.txt"))
    assert decision is not None and decision.outcome == Outcome("error", "no", None) and not decision.instead
    assert decision.action == "processing error"


def test_times_and_after_count_matching_requests() -> None:
    rules = chaos({"status": 500, "after": 1, "times": 2})
    fired = [rules.decide(view()) is not None for _ in range(5)]
    assert fired == [False, True, True, False, False]


def test_probabilities_repeat_with_the_seed_and_each_rule_draws_its_own_stream() -> None:
    def pattern(seed: int, *extra: dict[str, Any]) -> list[bool]:
        rules = chaos(*extra, {"status": 500, "probability": 0.5, "match": {"endpoint": "files.list"}}, seed=seed)
        return [rules.decide(view()) is not None for _ in range(40)]

    assert pattern(7) == pattern(7) and pattern(7) != pattern(8)
    # a rule added before it, matching other requests, leaves its pattern alone
    assert pattern(7, {"status": 500, "probability": 0.5, "match": {"endpoint": "files.delete"}}) == pattern(7)


def test_match_fields_are_the_views() -> None:
    rules = chaos({"match": {"dialect": "dashscope-native", "header": {"x-case": "a*"}, "key": "sk-a"}, "status": 500})
    assert rules.decide(view()) is None
    assert rules.decide(view(dialect="dashscope-native", headers={"x-case": "abc"})) is not None


def test_decisions_are_frozen_values() -> None:
    decision = decision_of(chaos({"status": 500}).rules[0], 1.5)
    with pytest.raises(dataclasses.FrozenInstanceError):
        decision.delay = 0  # type: ignore[misc]
    assert Decision("x", "delay").instead is False


# --- deciding apart from acting: the connection handle is the transport's only way out ----------


class MemoryConnection:
    """A connection handle of the test's own, as an in-memory server would give one."""

    def __init__(self) -> None:
        self.resets = 0
        self.closes = 0

    def reachable(self) -> bool:
        return True

    def client_gone(self) -> bool:
        return False

    def reset(self) -> None:
        self.resets += 1

    def close(self) -> None:
        self.closes += 1


def drive(
    app: MockFilesApp, method: str, path: str, headers: list[tuple[bytes, bytes]] | None = None
) -> list[dict[str, Any]]:
    sent: list[dict[str, Any]] = []
    scope = {
        "type": "http",
        "method": method,
        "path": path,
        "query_string": b"",
        "root_path": "",
        "scheme": "http",
        "headers": headers or [(b"authorization", b"Bearer sk-a")],
        "server": ("x", 1),
        "client": ("y", 2),
        "http_version": "1.1",
    }
    messages = [{"type": "http.request", "body": b"", "more_body": False}, {"type": "http.disconnect"}]

    async def receive() -> dict[str, Any]:
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    return sent


def test_a_reset_decision_reaches_the_connection_through_its_handle_and_sends_nothing() -> None:
    connections: list[MemoryConnection] = []

    def connect(send: object) -> MemoryConnection:
        connections.append(MemoryConnection())
        return connections[-1]

    emulator = Emulator(Settings(scenario={"faults": [{"match": {"endpoint": "files.list"}, "action": "reset"}]}))
    app = MockFilesApp(emulator, connections=connect)
    assert drive(app, "GET", "/v1/files") == []
    assert [(c.resets, c.closes) for c in connections] == [(1, 0)]
    [entry] = emulator.journal.entries()
    assert (entry["action"], entry["status"], entry["rule"]) == ("reset", None, "faults[0]")
    answered = drive(app, "GET", "/v1/files/file-x")  # not matched: answered as usual
    assert answered[0]["status"] == 404 and connections[-1].resets == 0


class ByHeader:
    """A second decision source, as retry tests will be: it decides for requests that carry its header."""

    reads_forms = False

    def __init__(self, decision: Decision) -> None:
        self.decision = decision
        self.asked: list[str] = []

    def decide(self, view: RequestView) -> Decision | None:
        self.asked.append(view.stage)
        return self.decision if "x-second-source" in view.headers else None


def test_a_second_decision_source_is_asked_first_and_its_decision_carried_out() -> None:
    error = InjectedError(503, message="from the queue", type="server_error", code=None, param=None)
    source = ByHeader(Decision("return-503", "status 503", error=error, notes=(("instruction", "return-503"),)))
    emulator = Emulator(Settings(scenario={"faults": [{"match": {"endpoint": "files.list"}, "status": 500}]}))
    emulator.use_deciders((source, emulator.chaos))
    app = MockFilesApp(emulator, connections=lambda send: MemoryConnection())
    scope_headers = [(b"authorization", b"Bearer sk-a"), (b"x-second-source", b"t1")]
    sent = drive(app, "GET", "/v1/files", scope_headers)
    assert sent[0]["status"] == 503 and b"from the queue" in sent[1]["body"]
    assert drive(app, "GET", "/v1/files")[0]["status"] == 500  # the scenario's rule, for requests without it
    first = emulator.journal.entries()[0]
    assert (first["rule"], first["action"], first["instruction"], first["fault"]) == (
        "return-503",
        "status 503",
        "return-503",
        None,
    )
    assert source.asked == ["arrival", "arrival"]
