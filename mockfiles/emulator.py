"""One emulator's whole state: clock, files, batches, uploads, vector stores, fine-tuning jobs, journal,
limits, faults; and its configuration (``Settings``, the active scenario, ``reset`` and ``use_scenario``).

The composition root of the domain: it builds the services from the scenario and the profile and
hands them out; the front layer (front.py) asks it who may call and what the faults decide. It
knows nothing of HTTP or event loops: requests held by a fault are released through the callbacks
given to ``on_release``. Two servers in one process each have their own Emulator and share nothing.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mockfiles.admission.chaos import Chaos, EarlyChaos
from mockfiles.admission.decision import DecisionSource
from mockfiles.admission.ratelimit import RateLimiter
from mockfiles.batches.saved import SavedBatches
from mockfiles.batches.service import Batches
from mockfiles.chat.models import Models
from mockfiles.chat.service import Chat
from mockfiles.core import ids
from mockfiles.core.clock import Clock, real_monotonic_clock
from mockfiles.core.journal import Journal
from mockfiles.core.profiles import Profile
from mockfiles.core.record import Record
from mockfiles.core.registry import NAMES
from mockfiles.core.scheduler import Scheduler
from mockfiles.core.timeouts import Timeouts
from mockfiles.exceptions import StartupError
from mockfiles.files.service import Files
from mockfiles.fine_tuning.saved import SavedFineTuning
from mockfiles.fine_tuning.service import FineTuning
from mockfiles.fine_tuning.serving import FineTunedModels
from mockfiles.persistence.changes import Joined
from mockfiles.persistence.datadir import DataDir
from mockfiles.retries.decider import RetryDecider
from mockfiles.retries.queues import RetryTests, RetryTestView
from mockfiles.retries.verdicts import CallDict, judge_entries
from mockfiles.scenarios.located import MAX_SEED
from mockfiles.scenarios.scenario import Scenario, ScenarioSource, load_scenario, token_problem
from mockfiles.uploads.saved import SavedUploads
from mockfiles.uploads.service import Uploads
from mockfiles.vector_stores.file_search import FileSearchTool
from mockfiles.vector_stores.saved import SavedVectorStores
from mockfiles.vector_stores.service import VectorStores

DEFAULT_FAULT_SEED = 0
DataPath = str | Path  # a data directory, as given
DEFAULT_JOURNAL_CAP = 10_000


@dataclass(frozen=True)
class Settings:
    """What the emulator is told at start-up; ``reset()`` comes back to it.

    Raises ValueError for a setting that could never work: an empty admin token (it would
    leave the admin routes open while looking set), an empty API key, a seed out of range.
    """

    scenario: ScenarioSource | None = None
    profile: str | None = None
    seed: int | None = None
    api_keys: tuple[str, ...] | None = None
    rate_limits: bool | None = None
    admin_token: str | None = None
    header_timeout: float | None = None  # seconds; None: the scenario's, else the default
    body_timeout: float | None = None
    data_dir: DataPath | None = None  # where the state is kept across restarts (None: in memory only)

    def __post_init__(self) -> None:
        if self.admin_token is not None:
            problem = token_problem(self.admin_token)
            if problem:
                raise ValueError(f"the admin token {problem}")
        if self.api_keys is not None and not all(isinstance(k, str) and k.strip() for k in self.api_keys):
            raise ValueError("API keys must be non-empty strings")
        if self.seed is not None and (isinstance(self.seed, bool) or not isinstance(self.seed, int)):
            raise ValueError(f"the seed must be an integer, got {self.seed!r}")
        if self.seed is not None and not 0 <= self.seed <= MAX_SEED:
            raise ValueError(f"the seed must be between 0 and {MAX_SEED}, got {self.seed}")


class Emulator:
    def __init__(self, settings: Settings = Settings()) -> None:
        self.settings = settings
        self.clock = Clock()
        self.scheduler = Scheduler(self.clock.now)  # the emulator's own work: batches' validation and results
        self.clock.on_advance(self.scheduler.kick)
        self.journal = Journal()
        self.lock = threading.RLock()  # held by each step of a request (web/serial.py), a reset, a scenario change
        self.scenario = Scenario()
        self.profile: Profile
        self.files: Files
        self.batches: Batches
        self.uploads: Uploads
        self.vector_stores: VectorStores
        self.models: Models  # the models the model routes answer for (fine-tuned ones are added here)
        self.chat: Chat  # the model routes (its ``tools`` take the Responses tools other services provide)
        self.fine_tuning: FineTuning
        self.limiter: RateLimiter
        self.chaos = Chaos((), DEFAULT_FAULT_SEED)
        self.deciders: tuple[DecisionSource, ...] = ()  # see use_deciders
        self.arrival_deciders: tuple[DecisionSource, ...] = ()  # asked for an upload before its body is read
        self.form_deciders: tuple[DecisionSource, ...] = ()  # asked for an upload once its form is read
        self._on_release: list[Callable[[], None]] = []
        self.retry_tests = RetryTests(NAMES)
        self.retry_decider = RetryDecider(self.retry_tests)  # asked first, for requests with x-retry-test-id
        self.timeouts = Timeouts()
        self.started_at = 0.0  # emulator time of the start or the last reset
        self.generation = 0  # grows at every reset: requests begun before one belong to a state that is gone
        self.options: dict[str, Any] = {}  # the explicit options of this configuration (those of the last reset)
        self.admin_token: str | None = None  # the bearer token the admin routes require (None: open)
        self.ignored: dict[str, str] = {}  # settings of the active scenario that do not apply, and why
        self.saved: DataDir | None = None  # the data directory, if the state is kept (persistence/)
        self.reset()
        if settings.data_dir is not None:
            self._open(settings.data_dir)

    # --- configuration ------------------------------------------------------------

    def reset(self, **overrides: Any) -> None:
        """Back to a fresh state: no files, empty journal, clock offset 0, the start-up
        settings (with ``overrides`` for this one configuration: scenario, profile,
        seed, api_keys, rate_limits)."""
        settings = {**self.settings.__dict__, **{k: v for k, v in overrides.items() if v is not None}}
        settings["scenario"] = overrides.get("scenario", self.settings.scenario)
        Settings(**settings)  # raises ValueError for a setting that cannot work
        scenario = load_scenario(settings["scenario"])  # raises ScenarioError before anything changes
        with self.lock:
            self.generation += 1
            self.release()
            self.scheduler.clear()  # the old state's work is dropped with it
            if self.saved is not None:
                self.saved.clear()
            self.clock.reset()
            self.started_at = self.clock.now()
            self.retry_tests.clear()
            # The admin token belongs to the configuration (start-up, or a reset's), never
            # to a scenario swapped in at run time: that could lock the operator out.
            self.admin_token = settings["admin_token"] or scenario.admin_token
            self._apply(scenario, settings, fresh=True)
            self.options = settings

    def use_scenario(self, source: ScenarioSource | None) -> Scenario:
        """Replace the active scenario. Stored files, the journal (cut to the new cap, newest
        kept), the clock and the rate-limit windows stay; the fault rules start afresh; the
        options given to the last reset (profile, seed, api_keys, rate_limits: a test's
        marker) still win over the scenario's own (see ``ignored``). docs/scenarios.md says
        exactly what changes and what stays."""
        scenario = load_scenario(source)
        settings = {**self.options, "scenario": source}
        with self.lock:
            self.release()
            self._apply(scenario, settings, fresh=False)
        return scenario

    def _apply(self, scenario: Scenario, settings: dict[str, Any], fresh: bool) -> None:
        self.ignored = overridden(scenario, settings, runtime=not fresh)
        self.scenario = scenario
        self.profile = scenario.resolve(settings["profile"], settings["rate_limits"])
        seed = settings["seed"] if settings["seed"] is not None else scenario.seed
        self.seed = seed
        keys = settings["api_keys"] if settings["api_keys"] is not None else scenario.keys
        self.keys = frozenset(keys) if keys is not None else None
        if fresh or not hasattr(self, "files"):
            rng = random.Random(seed if seed is not None else ids.unseeded())
            if hasattr(self, "vector_stores"):
                self.vector_stores.close()  # its search index goes with the old state
            self.files = Files(self.profile, self.clock, rng)
            self.batches = Batches(self.files, scenario.batches, seed, self.scheduler)
            self.batches.stored = self.flush  # results the scheduler writes go to the data directory at once
            self.batches.configure(scenario.batches, seed, scenario.deployments)
            self.uploads = Uploads(self.files)  # reads the profile through files: follows it
            self.vector_stores = VectorStores(self.files, scenario.vector_stores, seed)
            self.models = Models()
            self.chat = Chat(self.files, self.models, scenario.chat)
            self.chat.tools.register("file_search", FileSearchTool(self.vector_stores))
            self.fine_tuning = FineTuning(self.files, scenario.fine_tuning, seed, self.scheduler)
            self.fine_tuning.stored = self.flush
            self.batches.fine_tuned = self.fine_tuning.has_model
            self.models.add_source(FineTunedModels(self.fine_tuning, self.models))  # the model routes know them
            self.journal.clear(scenario.journal_cap or DEFAULT_JOURNAL_CAP, scenario.journal_bytes)
            self.limiter = RateLimiter(self.profile.rate_limits)
            if self.saved is not None:
                for joined in self.joined().values():
                    joined.track(self.saved.changes)
        else:
            self.files.profile = self.profile
            self.journal.resize(scenario.journal_cap or DEFAULT_JOURNAL_CAP, scenario.journal_bytes)
            self.limiter.limits = self.profile.rate_limits  # the windows' history stays: see RateLimiter
            self.batches.configure(scenario.batches, seed, scenario.deployments)
            self.vector_stores.configure(scenario.vector_stores, seed)
            self.chat.configure(scenario.chat)
            self.fine_tuning.configure(scenario.fine_tuning, seed)
        since = real_monotonic_clock()() if fresh else self.timeouts.idle_since
        self.timeouts = effective_timeouts(settings, scenario, since)
        self.chaos = Chaos(scenario.faults, seed if seed is not None else DEFAULT_FAULT_SEED, self.since_reset)
        early = (EarlyChaos(self.chaos),) if self.chaos.early else ()
        self.use_deciders((self.chaos, *early) if self.chaos.rules else ())

    # --- a data directory (persistence/, docs/persistence.md) ---------------------------

    def joined(self) -> dict[str, Joined]:
        """The stores whose state a data directory keeps, by name (a new API's store joins here)."""
        return {
            "files": self.files.store,  # first: the others' records link to its files
            "batches": SavedBatches(self.batches),
            "uploads": SavedUploads(self.uploads),
            "vector_stores": SavedVectorStores(self.vector_stores),
            "fine_tuning": SavedFineTuning(self.fine_tuning),
        }

    def _open(self, path: DataPath) -> None:
        """Open the data directory (``DataDirError`` if it is not this version's) and take its state back."""
        joined = self.joined()
        saved = DataDir(path, [kind for store in joined.values() for kind in store.kinds])
        try:
            loaded, state = saved.load()
            with self.lock, self.files.lock:
                if state is not None:
                    self.clock.restore(state["clock"])
                    self.files.rng.setstate(state["rng"])
                    for name, store in joined.items():
                        store.restore(loaded, state["counters"][name])
                    self.started_at = self.clock.now()
                for store in joined.values():
                    store.track(saved.changes)
                self.clock.moved = saved.touch
                self.saved = saved
        except BaseException:
            saved.close()
            raise

    def _state(self) -> dict[str, Any]:
        """What a data directory keeps besides the records (read under the Files lock)."""
        counters = {name: store.counters() for name, store in self.joined().items()}
        return {"clock": self.clock.offset, "rng": self.files.rng.getstate(), "counters": counters}

    @property
    def behind(self) -> bool:
        """Whether changes wait to be written to the data directory (never, without one)."""
        return self.saved is not None and self.saved.behind

    def flush(self) -> None:
        """Write the pending changes to the data directory in one transaction (blocks: call it off
        the event loop). The edge calls it before an answer that follows a change goes out."""
        if self.saved is not None:
            self.saved.flush(self.files.lock, self._state)

    def advance(self, seconds: float) -> float:
        """Move the clock forward (kept in the data directory, if any); returns the new time."""
        now = self.clock.advance(seconds)
        self.flush()
        return now

    def check_open(self) -> None:
        """Raise StartupError if the data directory was let go (a stopped server's)."""
        if self.saved is not None and self.saved.closed:
            raise StartupError("a stopped server lets go of its data directory: make a new MockFilesServer on it")

    def close(self) -> None:
        """Write what is pending and let go of the data directory (a stopped server's)."""
        if self.saved is not None and not self.saved.closed:
            self.flush()
            self.saved.close()

    # --- what the request layers ask ------------------------------------------------

    def use_deciders(self, sources: tuple[DecisionSource, ...]) -> None:
        """The decision sources, asked in turn for each request's fault decision (front.py): all of
        them on a request's arrival, except that the sources that read forms decide an upload once
        its form is read."""
        self.deciders = sources
        self.arrival_deciders = tuple(s for s in sources if not s.reads_forms)
        self.form_deciders = tuple(s for s in sources if s.reads_forms)

    # --- retry tests and the calls of the journal ------------------------------------

    def calls(self, retry_test: str | None = None) -> list[CallDict]:
        """The journal's requests grouped into logical calls, each with its verdict (verdicts.py);
        with ``retry_test``, only that test's."""
        return judge_entries(self.journal.entries(), retry_test=retry_test)

    def retry_test_view(self, view: RetryTestView) -> RetryTestView:
        """A retry test's view with its calls filled in."""
        view["calls"] = self.calls(view["id"])
        return view

    def since_reset(self) -> float:
        """Seconds on the emulator clock since the server started or was last reset (fault rules'
        ``between`` windows count from there; ``advance()`` moves it)."""
        return self.clock.now() - self.started_at

    def is_current(self, generation: int) -> bool:
        """False for a request that began before the last reset (``generation`` is its arrival's)."""
        return generation == self.generation

    def record(self, record: Record) -> None:
        """Journal a request, once, unless it belongs to a state a reset has replaced."""
        arrival = record.arrival
        if arrival.journaled and record.recorded_at is None and arrival.generation == self.generation:
            record.recorded_at, record.recorded_wall = self.clock.now_and_wall()
            self.journal.record(record)

    def on_release(self, callback: Callable[[], None]) -> None:
        """Call ``callback`` (from any thread) whenever held requests must let go: at every reset,
        scenario change and shutdown. The transport layer holds requests for ``timeout`` faults."""
        self._on_release.append(callback)

    def release(self) -> None:
        for callback in self._on_release:
            callback()

    def shutdown(self) -> None:
        self.release()
        self.scheduler.close()


def effective_timeouts(settings: dict[str, Any], scenario: Scenario, idle_since: float = 0.0) -> Timeouts:
    """The connection timeouts: what the server was started with, else the scenario's, else the
    defaults; connections' idle time counts from ``idle_since`` at most (the last reset)."""
    default = Timeouts()
    header = settings["header_timeout"] or scenario.header_timeout or default.header
    body = settings["body_timeout"] or scenario.body_timeout or default.body
    return Timeouts(header=header, body=body, idle_reset=scenario.idle_reset, idle_since=idle_since)


def overridden(scenario: Scenario, settings: dict[str, Any], *, runtime: bool) -> dict[str, str]:
    """The settings a scenario makes that do not apply, each with the reason: the explicit
    settings (command line, ``MockFilesServer`` arguments, marker options) win over a
    scenario's, and a scenario swapped in at run time cannot change the admin token."""
    ignored: dict[str, str] = {}
    if runtime and scenario.admin_token is not None:
        ignored["admin.token"] = (
            "the admin token is set at start-up (--admin-token, admin_token=, or the start-up scenario); "
            "a scenario put at run time cannot change it"
        )
    elif scenario.admin_token not in (None, settings["admin_token"]) and settings["admin_token"] is not None:
        ignored["admin.token"] = "the admin token given at start-up (--admin-token, admin_token=) wins"
    if scenario.profile not in (None, settings["profile"]) and settings["profile"] is not None:
        ignored["profile"] = f"the profile given at start-up ({settings['profile']}) wins"
    if scenario.seed not in (None, settings["seed"]) and settings["seed"] is not None:
        ignored["seed"] = f"the seed given at start-up ({settings['seed']}) wins"
    keys = settings["api_keys"]
    if scenario.keys is not None and keys is not None and set(scenario.keys) != set(keys):
        ignored["auth.keys"] = "the API keys given at start-up (--api-key, api_keys=) win"
    if settings["rate_limits"] is False and scenario.rate_limits not in (None, False):
        ignored["rate_limits"] = "rate limits were turned off at start-up (--no-rate-limits, rate_limits=False)"
    elif settings["rate_limits"] is True and scenario.rate_limits is False:
        ignored["rate_limits"] = "rate limits were turned on at start-up (rate_limits=True)"
    return ignored
