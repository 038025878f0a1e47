"""mockfiles: a local emulator of the OpenAI-compatible Files API.

The names below are imported when first used (PEP 562), so that ``import mockfiles.store`` or
``mockfiles check`` loads no web framework: only ``MockFilesServer`` brings in Starlette, uvicorn
and python-multipart.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from .version import __version__

if TYPE_CHECKING:
    from .accounts import account_id
    from .located import ScenarioError
    from .scenario import Scenario, load_scenario
    from .server import MockFilesServer, StartupError

__all__ = ["MockFilesServer", "account_id", "Scenario", "ScenarioError", "StartupError", "load_scenario", "__version__"]

_HOMES = {
    "MockFilesServer": "server",
    "StartupError": "server",
    "account_id": "accounts",
    "Scenario": "scenario",
    "ScenarioError": "located",
    "load_scenario": "scenario",
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
