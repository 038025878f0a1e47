"""One emulator's whole state: clock, files, journal, limits, faults.

Two servers in one process each have their own Emulator and share nothing.
"""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass
from typing import Any

from .auth import authenticate
from .chaos import Chaos
from .clock import Clock
from .context import RequestContext
from .errors import RateLimited
from .journal import Journal
from .lifecycle import Files
from .profiles import Profile
from .ratelimit import RateLimiter
from .scenario import Scenario, ScenarioSource, load_scenario
from .uploads import Uploads

DEFAULT_FAULT_SEED = 0


@dataclass(frozen=True)
class Settings:
    """What the emulator is told at start-up; ``reset()`` comes back to it."""

    scenario: ScenarioSource | None = None
    profile: str | None = None
    seed: int | None = None
    api_keys: tuple[str, ...] | None = None
    rate_limits: bool | None = None
    admin_token: str | None = None


class Emulator:
    def __init__(self, settings: Settings = Settings()) -> None:
        self.settings = settings
        self.clock = Clock()
        self.journal = Journal()
        self._lock = threading.RLock()
        self.scenario = Scenario()
        self.profile: Profile
        self.files: Files
        self.uploads: Uploads
        self.limiter: RateLimiter
        self.chaos = Chaos((), DEFAULT_FAULT_SEED)
        self.generation = 0  # grows at every reset: requests begun before one belong to a state that is gone
        self.reset()

    # --- configuration ------------------------------------------------------------

    def reset(self, **overrides: Any) -> None:
        """Back to a fresh state: no files, empty journal, clock offset 0, the start-up
        settings (with ``overrides`` for this one configuration: scenario, profile,
        seed, api_keys, rate_limits)."""
        settings = {**self.settings.__dict__, **{k: v for k, v in overrides.items() if v is not None}}
        settings["scenario"] = overrides.get("scenario", self.settings.scenario)
        scenario = load_scenario(settings["scenario"])  # raises ScenarioError before anything changes
        with self._lock:
            self.generation += 1
            self.chaos.release()
            self.clock.reset()
            self._apply(scenario, settings, fresh=True)

    def use_scenario(self, source: ScenarioSource | None) -> Scenario:
        """Replace the active scenario; stored files, the journal and the clock stay."""
        scenario = load_scenario(source)
        settings = {**self.settings.__dict__, "scenario": source}
        with self._lock:
            self.chaos.release()
            self._apply(scenario, settings, fresh=False)
        return scenario

    def _apply(self, scenario: Scenario, settings: dict[str, Any], fresh: bool) -> None:
        self.scenario = scenario
        self.profile = scenario.resolve(settings["profile"], settings["rate_limits"])
        seed = settings["seed"] if settings["seed"] is not None else scenario.seed
        self.seed = seed
        keys = settings["api_keys"] if settings["api_keys"] is not None else scenario.keys
        self.keys = frozenset(keys) if keys is not None else None
        if fresh or not hasattr(self, "files"):
            rng = random.Random(seed) if seed is not None else random.Random()
            self.files = Files(self.profile, self.clock, rng)
            self.uploads = Uploads(self.files)  # reads the profile through files: follows it
            self.journal.clear(scenario.journal_cap or 10_000)
        else:
            self.files.profile = self.profile
        self.limiter = RateLimiter(self.profile.rate_limits)
        self.chaos = Chaos(scenario.faults, seed if seed is not None else DEFAULT_FAULT_SEED)

    # --- the thin layer in front of every operation ----------------------------------

    def authenticate(self, ctx: RequestContext, authorization: str | None) -> str:
        ctx.key = authenticate(authorization, self.keys)
        return ctx.key

    def is_current(self, ctx: RequestContext) -> bool:
        """False for a request that began before the last reset."""
        return ctx.generation == self.generation

    def check_rate(self, ctx: RequestContext) -> None:
        """Take a rate-limit slot for the request or refuse it with 429."""
        assert ctx.key is not None and ctx.endpoint is not None
        if self.limiter.limits is None:
            return
        decision = self.limiter.check(ctx.key, ctx.endpoint, self.clock.now())
        if decision is None:
            return
        ctx.rate = decision
        if not decision.allowed:
            ctx.action = "rate_limited"
            raise RateLimited(
                f"Rate limit of {decision.limit} {decision.kind} requests per second reached.",
                retry_after=decision.retry_after,
                limit=decision.limit,
                kind=decision.kind,
            )

    @property
    def admin_token(self) -> str | None:
        """The bearer token the admin routes require (None: they are open)."""
        return self.settings.admin_token or self.scenario.admin_token

    def shutdown(self) -> None:
        self.chaos.release()
