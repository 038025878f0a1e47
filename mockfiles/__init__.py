"""mockfiles: a local emulator of the OpenAI-compatible Files API.

The names below are imported when first used (PEP 562), so that ``import mockfiles.files.store`` or
``mockfiles check`` loads no web framework: only ``MockFilesServer`` brings in Starlette, uvicorn
and python-multipart.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from mockfiles._version import __version__

if TYPE_CHECKING:
    from mockfiles.core.accounts import account_id
    from mockfiles.scenarios.scenario import Scenario, load_scenario
    from mockfiles.server import MockFilesServer

from mockfiles.exceptions import (
    DataDirError,
    MockFilesException,
    RetryConformanceError,
    ScenarioError,
    StartupError,
)

__all__ = [
    "MockFilesServer",
    "account_id",
    "Scenario",
    "load_scenario",
    "MockFilesException",
    "ScenarioError",
    "StartupError",
    "DataDirError",
    "RetryConformanceError",
    "__version__",
]

_HOMES = {
    "MockFilesServer": "server",
    "account_id": "core.accounts",
    "Scenario": "scenarios.scenario",
    "load_scenario": "scenarios.scenario",
}


def __getattr__(name: str) -> object:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value: object = getattr(importlib.import_module(f".{home}", __name__), name)
    globals()[name] = value  # found once; later lookups are plain attribute reads
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
