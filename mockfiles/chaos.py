"""Applying a scenario's fault rules to live requests.

Deciding is deterministic: each rule counts the requests it matched and draws its
probabilities and delays from its own random stream, seeded from the scenario's
seed and the rule's position, so adding a rule never changes another's pattern.
"""

from __future__ import annotations

import asyncio
import random
import socket
import struct
import threading
from collections.abc import Callable, Mapping
from typing import Any

from .context import RequestContext
from .error_table import injected_defaults
from .errors import InjectedError, InjectedRateLimit, MockFilesError
from .faults import FaultRule
from .lifecycle import Outcome


class Dropped(Exception):
    """The connection was closed on purpose: there is no response to send."""


class Chaos:
    def __init__(self, rules: tuple[FaultRule, ...], seed: int) -> None:
        self.rules = rules
        self.seen = [0] * len(rules)
        self.fired = [0] * len(rules)
        self.seed = seed
        self.twins = [twin for _, twin in _twins(rules)]
        # Each rule's random stream, made when the rule first draws from it: a Mersenne
        # Twister holds 2.5 KB, which 50,000 rules that never draw need not pay for.
        self.rngs: list[random.Random | None] = [None] * len(rules)
        self._lock = threading.Lock()
        self._holds: set[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = set()

    def pick(self, request: Mapping[str, Any]) -> tuple[FaultRule, float] | None:
        """The first rule that fires for this request, with the delay it adds."""
        with self._lock:
            for i, rule in enumerate(self.rules):
                if not rule.match.matches(request):
                    continue
                self.seen[i] += 1
                if self.seen[i] <= rule.after:
                    continue
                if rule.times is not None and self.fired[i] >= rule.times:
                    continue
                rng = self.rngs[i] or self._stream(i)
                if rule.probability is not None and rng.random() >= rule.probability:
                    continue
                self.fired[i] += 1
                delay = 0.0
                if rule.delay is not None:
                    low, high = rule.delay
                    delay = low if low == high else rng.uniform(low, high)
                return rule, delay
        return None

    def _stream(self, i: int) -> random.Random:
        rng = self.rngs[i] = random.Random(f"mockfiles:{self.seed}:{self.rules[i].identity}:{self.twins[i]}")
        return rng

    async def apply(
        self,
        ctx: RequestContext,
        request: Callable[[], Mapping[str, Any]],
        is_current: Callable[[], bool],
        instead: Callable[[], None] = lambda: None,
    ) -> Outcome | None:
        """Run the first firing rule's effect before the operation; ``request`` makes the
        view of the request that rules match on (only built when there are rules);
        ``instead`` is called as soon as a rule that answers instead of the operation (a
        status, ``reset``, ``timeout``) fires.

        Raises InjectedError or Dropped; returns a processing Outcome for uploads that
        a rule sends to ``error``; marks ``ctx.action`` for effects that happen after
        the operation (``truncate``, ``reset_after_commit``).
        """
        if not self.rules:
            return None
        picked = self.pick(request())
        if picked is None:
            return None
        rule, delay = picked
        ctx.fault = rule.index
        ctx.details["rule"] = rule.label
        if rule.status is not None or rule.action in ("reset", "timeout"):
            instead()
        if delay:
            ctx.details["delay_ms"] = round(delay * 1000, 1)
            await asyncio.sleep(delay)
            await drop_stale(ctx, is_current())  # the server may have been reset meanwhile
        if rule.status is not None:
            ctx.action = f"status {rule.status}"
            raise injected_error(rule)
        if rule.action == "reset":
            ctx.action = "reset"
            await ctx.connection.drop(hard=True)
            raise Dropped()
        if rule.action == "timeout":
            ctx.action = "timeout"
            ctx.connection.before_drop()  # the entry is visible while the request is held
            await self._hold(ctx, rule.hold)
            await ctx.connection.drop(hard=False)
            raise Dropped()
        if rule.action in ("truncate", "reset_after_commit"):
            ctx.action = rule.action
        if rule.processing is not None:
            ctx.action = f"processing {rule.processing.status}"
            return Outcome(rule.processing.status, rule.processing.status_details, rule.processing.delay)
        if ctx.action is None:
            ctx.action = "delay"
        return None

    async def _hold(self, ctx: RequestContext, seconds: float) -> None:
        """Wait until the client gives up, the server resets or stops, or ``seconds`` pass."""
        loop = asyncio.get_running_loop()
        released = asyncio.Event()
        entry = (loop, released)
        with self._lock:
            self._holds.add(entry)
        try:
            waiters = [asyncio.ensure_future(released.wait()), asyncio.ensure_future(ctx.connection.closed())]
            _, pending = await asyncio.wait(waiters, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
            for task in waiters:
                task.cancel()
        finally:
            with self._lock:
                self._holds.discard(entry)

    def release(self) -> None:
        """Let every held request go (on reset and shutdown); safe from any thread."""
        with self._lock:
            holds = list(self._holds)
        for loop, event in holds:
            if not loop.is_closed():
                loop.call_soon_threadsafe(event.set)


async def drop_stale(ctx: RequestContext, current: bool) -> None:
    """A request that began before a reset must not touch the state after it: drop it."""
    if not current:
        ctx.action = "dropped_by_reset"
        await ctx.connection.drop(hard=True)
        raise Dropped()


def _twins(rules: tuple[FaultRule, ...]) -> list[tuple[FaultRule, int]]:
    """Each rule with how many identical rules come before it (their streams must differ)."""
    seen: dict[str, int] = {}
    out = []
    for rule in rules:
        out.append((rule, seen.get(rule.identity, 0)))
        seen[rule.identity] = seen.get(rule.identity, 0) + 1
    return out


def injected_error(rule: FaultRule) -> MockFilesError:
    status = rule.status or 500
    if status == 429:
        return InjectedRateLimit(retry_after=advised_wait(rule.headers), given=rule.error, headers=rule.headers)
    type_, code, message = injected_defaults(status, f"Injected error {status}.")
    given = rule.error
    return InjectedError(
        status,
        message=given.get("message") or message,
        type=given.get("type") or type_,
        code=given["code"] if "code" in given else code,
        param=given.get("param"),
        headers=rule.headers,
    )


DEFAULT_RETRY_AFTER = 1.0  # seconds an injected 429 asks the client to wait, unless its headers say otherwise


def advised_wait(headers: Mapping[str, str]) -> float:
    """The wait a rule's headers advise (``retry-after-ms``, else ``retry-after`` in
    seconds), so that an injected 429's message says the same; 1 s when they say nothing."""
    for name, scale in (("retry-after-ms", 0.001), ("retry-after", 1.0)):
        try:
            seconds = float(headers[name]) * scale
        except (KeyError, ValueError):
            continue
        if seconds >= 0 and seconds != float("inf"):
            return seconds
    return DEFAULT_RETRY_AFTER


class Connection:
    """The client's TCP connection, for faults that answer with no response at all.

    Reaches the transport through uvicorn's ``send`` callable; under another server
    (or an in-memory transport) dropping falls back to raising, which yields a 500.
    """

    __slots__ = ("_send", "_receive", "_disconnected")

    def __init__(self, send: Any, receive: Any) -> None:
        self._send = send
        self._receive = receive
        self._disconnected = False

    def before_drop(self) -> None:
        """Called before the connection is dropped (and while a request is held)."""

    @property
    def _transport(self) -> Any:
        return getattr(getattr(self._send, "__self__", None), "transport", None)

    async def drop(self, hard: bool) -> None:
        """Close the connection (a TCP reset when ``hard``), then wait until it is gone."""
        transport = self._transport
        if transport is None:
            raise RuntimeError("this server gives no access to the connection; cannot drop it")
        self.before_drop()
        if hard:
            sock = transport.get_extra_info("socket")
            if sock is not None:
                try:
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                except OSError:
                    pass
            transport.abort()
        else:
            transport.close()
        await asyncio.wait_for(self.closed(), timeout=5)

    def client_gone(self) -> bool:
        """Whether the client has closed the connection: uvicorn's request cycle knows (under
        another server, a client is taken to be there)."""
        return self._disconnected or getattr(getattr(self._send, "__self__", None), "disconnected", False) is True

    async def closed(self) -> None:
        """Wait for the client to be gone (reading and discarding any body left)."""
        while not self._disconnected:
            message = await self._receive()
            if message["type"] == "http.disconnect":
                self._disconnected = True

    def close_after_flush(self) -> None:
        if self._transport is not None:
            self._transport.close()
