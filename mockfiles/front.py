"""The front layer: what every request to an endpoint passes before its operation, in every
dialect, in this order:

1. **authentication**: the bearer key is the account (401 otherwise);
2. **the rate limit** of the endpoint's class (429 with ``retry-after`` otherwise);
3. **the fault decision**: the decision sources (the scenario's fault rules, ``Emulator.deciders``)
   are asked in turn, and the first decision is carried out by the transport layer. An upload is
   decided once its form is read (``admit_form``), so that rules can match its purpose and
   filename: it is rate-limited before its body is read, faulted after.

The application admits every request this way before its handler runs (routes name their
endpoint), so a new endpoint gets all three without a line of its own. A request a fault answers
instead of the operation (an error status, a reset, a timeout) gives back its rate-limit slot: a
test of retries expects the retry, not the injected failure, to meet the limit. An injected 429 is
dressed as a real refusal: the ``x-ratelimit-*`` headers say the window is full.
"""

from __future__ import annotations

from .auth import authenticate
from .decisions import Decision, RequestView, Stage
from .emulator import Emulator
from .endpoints import Endpoint
from .errors import InjectedRateLimit, MockFilesError, RateLimited
from .lifecycle import Outcome
from .ratelimit import RateDecision
from .record import Record
from .transport import Exchange


class Front:
    def __init__(self, emulator: Emulator) -> None:
        self.emulator = emulator

    async def admit(self, ex: Exchange, endpoint: Endpoint) -> str:
        """Authenticate, take a rate-limit slot and carry out the arrival's fault decision;
        returns the account's key."""
        record = ex.record
        record.endpoint = endpoint.id
        emulator = self.emulator
        key = record.key = authenticate(ex.header(b"authorization"), emulator.keys)
        if emulator.limiter.limits is not None:
            self._limit(record, endpoint)
        if emulator.deciders:
            await self._decide(ex, endpoint, "arrival")
        return key

    async def admit_form(self, ex: Exchange, purpose: str | None, filename: str | None) -> Outcome | None:
        """The fault decision of an upload whose form has been read; how its processing ends
        when a rule decides it."""
        if not ex.decided and self.emulator.deciders:
            endpoint = Endpoint.named(ex.record.endpoint or "")
            if endpoint is not None:
                return await self._decide(ex, endpoint, "form", purpose, filename)
        return None

    # --- the steps ------------------------------------------------------------------------

    def _limit(self, record: Record, endpoint: Endpoint) -> None:
        emulator = self.emulator
        decision = emulator.limiter.check(record.key or "", endpoint.id, emulator.clock.pacing())
        if decision is None:
            return
        record.rate = decision
        if not decision.allowed:
            record.action = "rate_limited"
            raise RateLimited(
                retry_after=decision.retry_after, limit=decision.limit, kind=decision.kind, endpoint=endpoint.id
            )

    async def _decide(
        self, ex: Exchange, endpoint: Endpoint, stage: Stage, purpose: str | None = None, filename: str | None = None
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
            headers_of(ex),
            purpose,
            filename,
        )
        for source in self.emulator.deciders:
            decision = source.decide(view)
            if decision is not None:
                ex.decided = True
                await self._carry_out(ex, endpoint, decision)
                return decision.outcome
        return None

    async def _carry_out(self, ex: Exchange, endpoint: Endpoint, decision: Decision) -> None:
        if decision.counted:
            raise NotImplementedError(f"the transport does not carry out {decision.action!r} yet")
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
        if decision.error is not None:
            raise self._dressed(record, endpoint, decision.error)
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
        kind, limit = limited
        wait = err.retry_after or 0.0
        record.rate = RateDecision(False, kind, limit, 0, wait, wait)
        return err.limited(kind, limit, endpoint.id)


def headers_of(ex: Exchange) -> dict[str, str]:
    """The request's headers for a decision source: lower-case names, the first of a repeated one."""
    headers: dict[str, str] = {}
    for name, value in ex.scope["headers"]:
        headers.setdefault(name.decode("latin-1"), value.decode("latin-1"))
    return headers
