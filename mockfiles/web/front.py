"""The front layer: what every request to an endpoint passes before its operation, in every
dialect, in this order:

1. **authentication**: the bearer key is the account (401 otherwise);
2. **the rate limit** of the endpoint's class (429 with ``retry-after`` otherwise);
3. **the fault decision**: the decision sources (the scenario's fault rules, ``Emulator.deciders``)
   are asked in turn, and the first decision is carried out by the transport layer. The scenario's
   rules decide an upload once its form is read (``admit_form``), so that they can match its
   purpose and filename, and a model request once its prompt is read (``admit_prompt``: its model,
   files and text): it is rate-limited before its body is read, faulted after; a source that does
   not read forms decides it on arrival. A model request's tokens are charged once its answer is
   known (``take_tokens``: the ``inference`` class's tokens per minute).

The application admits every request this way before its handler runs (routes name their
endpoint), so a new endpoint gets all three without a line of its own. A request a fault answers
instead of the operation (an error status, a reset, a timeout) gives back its rate-limit slot: a
test of retries expects the retry, not the injected failure, to meet the limit. An injected 429 is
dressed as a real refusal: the ``x-ratelimit-*`` headers say the window is full.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from mockfiles.admission.auth import authenticate_raw
from mockfiles.admission.decision import Decision, DecisionSource, RequestView, Stage
from mockfiles.admission.ratelimit import RateDecision
from mockfiles.core.accounts import account_id
from mockfiles.core.errors import InjectedRateLimit, MockFilesError, RateLimited
from mockfiles.core.record import Record
from mockfiles.core.registry import Endpoint
from mockfiles.emulator import Emulator
from mockfiles.files.service import Outcome
from mockfiles.web.effects import ProxyPage
from mockfiles.web.exchange import Exchange


class Front:
    def __init__(self, emulator: Emulator) -> None:
        self.emulator = emulator

    async def admit(self, ex: Exchange, endpoint: Endpoint) -> str:
        """Authenticate, take a rate-limit slot and carry out the arrival's fault decision;
        returns the account's key."""
        record = ex.record
        record.endpoint = endpoint.id
        emulator = self.emulator
        key = record.key = authenticate_raw(ex.authorization, emulator.keys)
        if emulator.limiter.limits is not None:
            self._limit(record, endpoint)
        deciders = emulator.arrival_deciders if endpoint.body in ("upload", "prompt") else emulator.deciders
        if "retry_test" in record.details:  # x-retry-test-id: its instructions come first (retry_decider.py)
            deciders = (emulator.retry_decider, *deciders)
        if deciders:
            await self._decide(deciders, ex, endpoint, "arrival")
        return key

    async def admit_form(self, ex: Exchange, purpose: str | None, filename: str | None) -> Outcome | None:
        """The fault decision of an upload whose form has been read; how its processing ends
        when a rule decides it."""
        deciders = self.emulator.form_deciders
        if deciders and not ex.decided:
            endpoint = Endpoint.named(ex.record.endpoint or "")
            if endpoint is not None:
                return await self._decide(deciders, ex, endpoint, "form", purpose, filename)
        return None

    async def admit_prompt(
        self, ex: Exchange, model: str, file_ids: tuple[str, ...], filenames: tuple[str, ...], prompt: str
    ) -> None:
        """The fault decision of a model request whose prompt has been read."""
        deciders = self.emulator.form_deciders
        if deciders and not ex.decided:
            endpoint = Endpoint.named(ex.record.endpoint or "")
            if endpoint is not None:
                asked = {"model": model, "file_ids": file_ids, "filenames": filenames, "prompt": prompt}
                await self._decide(deciders, ex, endpoint, "prompt", asked=asked)

    def take_tokens(self, ex: Exchange, tokens: int, model: str) -> None:
        """Charge a model request's tokens to its key's budget (the ``inference`` class's tokens per
        window), or refuse it with 429 when they do not fit."""
        record = ex.record
        decision = self.emulator.limiter.take_tokens(record.key or "", tokens, self.emulator.clock.pacing())
        if decision is None:
            return
        record.tokens = decision
        if decision.allowed:
            return
        record.action = "rate_limited"
        too_large = decision.retry_after == float("inf")
        wait = decision.reset if too_large else decision.retry_after
        err = RateLimited(retry_after=wait, limit=decision.limit, kind="tokens", endpoint=record.endpoint)
        err.reason = "request_too_large_tpm" if too_large else "rate_limited_tpm"
        err.fields.update(model=model, organization=account_id(record.key or ""), used=decision.used)
        err.fields["requested"] = decision.requested
        raise err

    # --- the steps ------------------------------------------------------------------------

    def _limit(self, record: Record, endpoint: Endpoint) -> None:
        emulator = self.emulator
        decision = emulator.limiter.check(record.key or "", endpoint.id, emulator.clock.pacing())
        if decision is None:
            return
        record.rate = decision
        if not decision.allowed:
            record.action = "rate_limited"
            err = RateLimited(
                retry_after=decision.retry_after,
                limit=decision.limit,
                kind=decision.kind,
                endpoint=endpoint.id,
                window=decision.window,
            )
            if decision.kind == "inference":  # requests per minute, worded as OpenAI words them
                err.reason = "rate_limited_rpm"
                err.fields["organization"] = account_id(record.key or "")
            raise err

    async def _decide(
        self,
        deciders: tuple[DecisionSource, ...],
        ex: Exchange,
        endpoint: Endpoint,
        stage: Stage,
        purpose: str | None = None,
        filename: str | None = None,
        asked: dict[str, Any] | None = None,
    ) -> Outcome | None:
        record, arrival = ex.record, ex.record.arrival
        view = RequestView(
            stage,
            endpoint.id,
            endpoint.body == "upload",
            arrival.method,
            arrival.path,
            arrival.dialect,
            record.key,
            ScopeHeaders(ex.scope["headers"]),
            purpose,
            filename,
            **(asked or {}),
        )
        for source in deciders:
            decision = source.decide(view)
            if decision is not None:
                ex.decided = ex.decided or not decision.shaping  # only slowed: its form can still be decided
                await self._carry_out(ex, endpoint, decision)
                return decision.outcome
        return None

    async def _carry_out(self, ex: Exchange, endpoint: Endpoint, decision: Decision) -> None:
        record = ex.record
        record.fault = decision.index
        record.details["rule"] = decision.label
        record.details.update(decision.notes)
        if decision.instead:
            self._refund(record)
        if decision.delay:
            record.details["delay_ms"] = round(decision.delay * 1000, 1)
            await ex.pause(decision.delay)
        record.action = decision.action
        if decision.rate:  # a bandwidth: the body is dribbled
            ex.dribble = (decision.body or "response", decision.rate)
            record.details["bandwidth"] = int(decision.rate)
        if decision.at_events is not None:  # a streamed answer: the transport counts its events
            ex.cut_events = decision.at_events
            return
        if decision.at_bytes is not None or decision.stall:  # part-way through a body: the transport counts it
            error = self._dressed(record, endpoint, decision.error) if decision.error is not None else None
            ex.count_body(decision, error)
            return
        if decision.error is not None:
            error = self._dressed(record, endpoint, decision.error)
            if decision.error_form == "html":
                raise ProxyPage(error.status)
            raise error
        if decision.drop == "reset":
            await ex.drop(hard=True)
        if decision.drop == "hold":
            await ex.hold(decision.hold)
        ex.after = decision.after

    def _refund(self, record: Record) -> None:
        """Give back the rate-limit slot the request took."""
        if record.rate is not None and record.key is not None:
            record.rate = self.emulator.limiter.refund(record.key, record.rate)

    def _dressed(self, record: Record, endpoint: Endpoint, err: MockFilesError) -> MockFilesError:
        """An injected 429 told as a real refusal of the endpoint's class, when it has a limit."""
        if not isinstance(err, InjectedRateLimit):
            return err
        limited = self.emulator.limiter.limit_for(endpoint.id)
        if limited is None:
            return err
        kind, limit, window, _ = limited
        wait = err.retry_after or 0.0
        record.rate = RateDecision(False, kind, limit, 0, wait, wait, window=window)
        dressed = err.limited(kind, limit, endpoint.id, window)
        if kind == "inference":
            dressed.reason = "rate_limited_rpm"
            dressed.fields["organization"] = account_id(record.key or "")
        return dressed


class ScopeHeaders(Mapping[str, str]):
    """A request's headers for decision sources: lower-case names, the first of a repeated one,
    read from the ASGI scope only if a source looks at them (most rules match no header)."""

    __slots__ = ("_raw", "_read")

    def __init__(self, raw: Iterable[tuple[bytes, bytes]]) -> None:
        self._raw = raw
        self._read: dict[str, str] | None = None

    def _headers(self) -> dict[str, str]:
        if self._read is None:
            self._read = {}
            for name, value in self._raw:
                self._read.setdefault(name.decode("latin-1"), value.decode("latin-1"))
        return self._read

    def __getitem__(self, name: str) -> str:
        found = self.get(name, "\0")
        if found == "\0":
            raise KeyError(name)
        return found

    def get(self, name: str, default: str = "") -> str:  # type: ignore[override]
        """One header, found by a scan of the raw ones (no mapping built, no KeyError raised and caught)."""
        key = name.encode("latin-1")
        for raw, value in self._raw:
            if raw == key:
                text: str = value.decode("latin-1")
                return text
        return default

    def __iter__(self) -> Iterator[str]:
        return iter(self._headers())

    def __len__(self) -> int:
        return len(self._headers())
