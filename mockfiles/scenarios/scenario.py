"""Scenario documents: what a test or a developer wants the emulator to be.

A scenario is loaded from a YAML/JSON file, a string, or a dict, validated entirely
up front (every error names the file, the line and the key), and then applied to a
profile to give the limits the emulator enforces.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Union

from mockfiles.core.accounts import key_hint
from mockfiles.core.profiles import PROFILES, Profile, RateLimits, get_profile
from mockfiles.core.timeouts import KEEP_ALIVE, MAX_TIMEOUT
from mockfiles.exceptions import ScenarioError
from mockfiles.scenarios.batches import BatchSettings, parse_batches
from mockfiles.scenarios.chat import ChatSettings, parse_chat
from mockfiles.scenarios.document import from_mapping, parse_document, plain_copy
from mockfiles.scenarios.fault_rules import FaultRule, parse_faults
from mockfiles.scenarios.fine_tuning import FineTuningSettings, parse_fine_tuning
from mockfiles.scenarios.located import MAX_SEED, Located, duration, integer, read_each, size, string
from mockfiles.scenarios.vector_stores import VectorStoreSettings, parse_vector_stores

TOP_KEYS = (
    "profile",
    "seed",
    "auth",
    "rate_limits",
    "limits",
    "processing",
    "faults",
    "journal",
    "admin",
    "server",
    "batches",
    "vector_stores",
    "chat",
    "fine_tuning",
    "azure",
)
RATE_KEYS = ("upload", "query", "window", "batch", "batch_list", "batch_window", "inference")
INFERENCE_KEYS = {"requests": "inference", "tokens": "tokens", "window": "inference_window"}  # -> RateLimits
LIMIT_KEYS = ("max_files", "max_total_bytes", "max_file_bytes")
SERVER_KEYS = ("header_timeout", "body_timeout", "idle_reset")
KNOWN_PURPOSES = tuple(dict.fromkeys(p for make in PROFILES.values() for p in make().purposes))

JOURNAL_CAP_MAX = 1_000_000  # entries; each keeps its request's context (about 1.5 KB)
JOURNAL_BYTES_MIN, JOURNAL_BYTES_MAX = 64 * 1024, 16 * 1024**3  # journal.max_bytes
EXAMPLES = Path(__file__).with_name("examples")  # the example scenarios shipped with the package

ScenarioSource = Union["Scenario", Mapping[str, Any], str, os.PathLike[str]]


@dataclass(frozen=True)
class Scenario:
    source: str = "<scenario>"
    document: dict[str, Any] = field(default_factory=dict)
    profile: str | None = None
    seed: int | None = None
    keys: tuple[str, ...] | None = None
    rate_limits: dict[str, Any] | bool | None = None  # None: the profile's; False: off; else over the profile's
    limits: dict[str, Any] = field(default_factory=dict)  # only the keys the scenario sets
    processing: dict[str, float] = field(default_factory=dict)  # purpose or "default" -> delay
    faults: tuple[FaultRule, ...] = ()
    batches: BatchSettings = BatchSettings()
    vector_stores: VectorStoreSettings = VectorStoreSettings()
    chat: ChatSettings = ChatSettings()
    fine_tuning: FineTuningSettings = FineTuningSettings()
    journal_cap: int | None = None
    journal_bytes: int | None = None
    admin_token: str | None = None
    header_timeout: float | None = None  # the server's connection timeouts (mockfiles/timeouts.py)
    body_timeout: float | None = None
    idle_reset: float | None = None  # a kept-alive connection idle this long is reset when next used
    deployments: tuple[str, ...] | None = None  # Azure: the deployments a batch line's body.model may name
    # the profiles resolve() gave, by its arguments: a scenario and its profiles never change
    _resolved: dict[tuple[str | None, bool | None], Profile] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    def apply(self, profile: Profile) -> Profile:
        """The profile with this scenario's limits, processing delays and rate limits."""
        purposes = dict(profile.purposes)
        file_bytes = self.limits.get("max_file_bytes")
        for purpose, rules in purposes.items():
            max_bytes = file_bytes.get(purpose, rules.max_bytes) if isinstance(file_bytes, dict) else file_bytes
            delay = self.processing.get(purpose, self.processing.get("default", rules.processing_delay))
            purposes[purpose] = replace(
                rules, max_bytes=rules.max_bytes if max_bytes is None else max_bytes, processing_delay=delay
            )
        rate_limits = profile.rate_limits
        if self.rate_limits is False:
            rate_limits = None
        elif isinstance(self.rate_limits, dict):
            rate_limits = replace(rate_limits or RateLimits(), **self.rate_limits)
        return replace(
            profile,
            purposes=purposes,
            max_files=self.limits.get("max_files", profile.max_files),
            max_total_bytes=self.limits.get("max_total_bytes", profile.max_total_bytes),
            rate_limits=rate_limits,
        )

    def resolve(self, profile: str | None = None, rate_limits: bool | None = None) -> Profile:
        """The effective profile; explicit arguments win over the scenario's own choices."""
        resolved = self._resolved.get((profile, rate_limits))
        if resolved is None:
            resolved = self._resolved[profile, rate_limits] = self._resolve(profile, rate_limits)
        return resolved

    def _resolve(self, profile: str | None, rate_limits: bool | None) -> Profile:
        effective = self.apply(get_profile(profile or self.profile or "openai"))
        if rate_limits is False:
            effective = replace(effective, rate_limits=None)
        elif rate_limits is True and effective.rate_limits is None:
            effective = replace(effective, rate_limits=get_profile(effective.name).rate_limits)
        return effective


NO_SCENARIO = Scenario()  # what runs when no scenario is given (shared: a scenario never changes)


def load_scenario(source: ScenarioSource | None) -> Scenario:
    """A Scenario from a file path, a dict, or a Scenario; raises ScenarioError."""
    if source is None:
        return NO_SCENARIO
    if isinstance(source, Scenario):
        return source
    if isinstance(source, Mapping):
        return parse_scenario(from_mapping(source))
    path = Path(source)
    if not path.is_file():
        path = example_scenario(str(source)) or path
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        examples = ", ".join(example_names())
        raise ScenarioError(str(path), None, f"no such scenario file, nor a shipped example ({examples})") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError(str(path), None, f"cannot read the scenario file: {exc}") from None
    return scenario_from_text(text, str(path))


def example_scenario(name: str) -> Path | None:
    """The shipped example scenario called ``name`` (``flaky_uploads``, or ``flaky_uploads.yaml``);
    None when there is none, or when ``name`` is a path (``scenarios/flaky_uploads.yaml``)."""
    if not name or any(c in name for c in "/\\") or name.startswith("."):
        return None
    path = EXAMPLES / (name if name.endswith(".yaml") else name + ".yaml")
    return path if path.is_file() else None


def example_names() -> list[str]:
    """The shipped example scenarios' names, as ``scenario=`` takes them."""
    return sorted(path.stem for path in EXAMPLES.glob("*.yaml"))


def scenario_from_text(text: str, source: str = "<scenario>") -> Scenario:
    """A Scenario from YAML or JSON text (an empty text is the empty scenario)."""
    return parse_scenario(parse_document(text, source))


def parse_scenario(doc: Located) -> Scenario:
    """The scenario a document describes; every problem in it is found before it is refused
    (``ScenarioError.problems``), each section and value checked on its own."""
    sections = doc.mapping(TOP_KEYS)
    out: dict[str, Any] = {"source": doc.source}
    for name in TOP_KEYS:  # in this order: the profile is known before the limits that depend on it
        node = sections.get(name)
        if node is not None:
            with node.noting():
                SECTIONS[name](node, out)
    doc.raise_problems()
    out["document"] = _shown(plain_copy(doc.value, doc.source, for_json=True))
    return Scenario(**out)


def _profile(node: Located, out: dict[str, Any]) -> None:
    if not isinstance(node.value, str) or node.value not in PROFILES:
        node.fail(f"unknown profile {node.value!r} in profile; choose one of {', '.join(PROFILES)}")
    out["profile"] = node.value


def _auth(node: Located, out: dict[str, Any]) -> None:
    auth = node.mapping(("keys",))
    if "keys" in auth:
        keys = []
        for item in auth["keys"].items():
            with item.noting():
                keys.append(string(item))
        out["keys"] = tuple(keys)


def _journal(node: Located, out: dict[str, Any]) -> None:
    journal = node.mapping(("cap", "max_bytes"))
    if "cap" in journal:
        out["journal_cap"] = integer(journal["cap"], minimum=1, maximum=JOURNAL_CAP_MAX)
    if "max_bytes" in journal:
        out["journal_bytes"] = max_bytes = size(journal["max_bytes"], maximum=JOURNAL_BYTES_MAX)
        if max_bytes < JOURNAL_BYTES_MIN:
            journal["max_bytes"].fail(f"journal.max_bytes must be at least 64KiB, got {journal['max_bytes'].value}")


def _admin(node: Located, out: dict[str, Any]) -> None:
    admin = node.mapping(("token",))
    if "token" in admin:
        token = admin["token"]
        problem = token_problem(token.value) if isinstance(token.value, str) else None
        if problem:
            token.fail(f"{token.name} {problem}")
        out["admin_token"] = string(token)


def _azure(node: Located, out: dict[str, Any]) -> None:
    azure = node.mapping(("deployments",))
    if "deployments" in azure:
        deployments = []
        for item in azure["deployments"].items():
            with item.noting():
                deployments.append(string(item))
        out["deployments"] = tuple(deployments)


def _server(node: Located, out: dict[str, Any]) -> None:
    for key, value in node.mapping(SERVER_KEYS).items():
        with value.noting():
            out[key] = _timeout(value)
            if key == "idle_reset" and out[key] >= KEEP_ALIVE:
                value.fail(
                    f"{value.name} must be below {KEEP_ALIVE:g}s: the server closes connections idle that long itself"
                )


def _timeout(node: Located) -> float:
    seconds = duration(node, positive=True)
    if seconds > MAX_TIMEOUT:
        node.fail(f"{node.name} must be at most 1d, got {node.value!r}")
    return seconds


def _shown(document: dict[str, Any]) -> dict[str, Any]:
    """The document as ``GET /_mockfiles/scenario`` shows it (it is valid by now): API keys
    and the admin token masked, like everything the admin routes show."""
    auth, admin = document.get("auth"), document.get("admin")
    if isinstance(auth, dict) and isinstance(auth.get("keys"), list):
        auth["keys"] = [key_hint(k) for k in auth["keys"]]
    if isinstance(admin, dict) and isinstance(admin.get("token"), str):
        admin["token"] = key_hint(admin["token"])
    for rule in document.get("faults") or ():
        match = rule.get("match")
        if isinstance(match, dict) and "key" in match:
            keys = match["key"]
            match["key"] = [key_hint(k) for k in keys] if isinstance(keys, list) else key_hint(keys)
    return document


def token_problem(token: str) -> str | None:
    """Why a string cannot be an admin token (None if it can): it is sent as
    ``Authorization: Bearer TOKEN``, so an empty one or one with spaces could never match."""
    if not isinstance(token, str) or not token:
        return "must not be empty"
    if not all("!" <= c <= "~" for c in token):
        return "must be printable ASCII without spaces"
    return None


def _rate_limits(node: Located) -> dict[str, Any] | bool:
    """The values the scenario sets, over the profile's (``true``: the profile's as they are)."""
    if node.value is True:
        return {}
    if node.value is False:
        return False
    limits: dict[str, Any] = {}
    for key, entry in node.mapping(RATE_KEYS).items():
        if key == "inference":  # the model routes: {requests, tokens, window}
            for name, value in entry.mapping(tuple(INFERENCE_KEYS)).items():
                field = INFERENCE_KEYS[name]
                limits[field] = duration(value, positive=True) if name == "window" else _per_window(value)
        else:
            limits[key] = duration(entry, positive=True) if key.endswith("window") else _per_window(entry)
    return limits


def _per_window(node: Located) -> int | None:
    if node.value is False or node.value is None:
        return None
    return integer(node, minimum=1)


def _purposes_for(profile: str | None) -> tuple[str, ...]:
    return tuple(get_profile(profile).purposes) if profile else KNOWN_PURPOSES


def _limits(node: Located, profile: str | None) -> dict[str, Any]:
    limits: dict[str, Any] = {}
    for key, value in node.mapping(LIMIT_KEYS).items():
        with value.noting():
            _limit(key, value, profile, limits)
    return limits


def _limit(key: str, value: Located, profile: str | None, limits: dict[str, Any]) -> None:
    if key == "max_files":
        limits[key] = None if value.value is None else integer(value, minimum=0)
    elif key == "max_total_bytes":
        limits[key] = None if value.value is None else size(value)
    elif isinstance(value.value, dict):
        per_purpose = value.mapping(_purposes_for(profile))
        limits[key] = read_each(per_purpose, dict.fromkeys(per_purpose, size))
    else:
        limits[key] = size(value)


def _processing(node: Located, profile: str | None) -> dict[str, float]:
    delays: dict[str, float] = {}
    for purpose, entry in node.mapping(("default", *_purposes_for(profile))).items():
        with entry.noting():
            settings = entry.mapping(("delay",))
            if "delay" in settings:
                delays[purpose] = duration(settings["delay"])
    return delays


def _put(key: str, read: Callable[[Located], Any]) -> Callable[[Located, dict[str, Any]], None]:
    def put(node: Located, out: dict[str, Any]) -> None:
        out[key] = read(node)

    return put


def _with_profile(key: str, read: Callable[[Located, str | None], Any]) -> Callable[[Located, dict[str, Any]], None]:
    """A section whose reading depends on the scenario's profile (read before it: ``TOP_KEYS`` order)."""

    def put(node: Located, out: dict[str, Any]) -> None:
        out[key] = read(node, out.get("profile"))

    return put


SECTIONS: dict[str, Callable[[Located, dict[str, Any]], None]] = {
    "profile": _profile,
    "seed": _put("seed", lambda node: integer(node, minimum=0, maximum=MAX_SEED)),
    "auth": _auth,
    "rate_limits": _put("rate_limits", lambda node: _rate_limits(node)),
    "limits": _with_profile("limits", lambda node, profile: _limits(node, profile)),
    "processing": _with_profile("processing", lambda node, profile: _processing(node, profile)),
    "faults": _put("faults", lambda node: tuple(parse_faults(node))),
    "batches": _put("batches", parse_batches),
    "chat": _put("chat", parse_chat),
    "vector_stores": _put("vector_stores", parse_vector_stores),
    "fine_tuning": _put("fine_tuning", parse_fine_tuning),
    "journal": _journal,
    "admin": _admin,
    "azure": _azure,
    "server": _server,
}
