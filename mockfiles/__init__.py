"""mockfiles: a local emulator of the OpenAI-compatible Files API."""

from __future__ import annotations

__version__ = "0.1.0"

from .accounts import account_id  # noqa: E402
from .located import ScenarioError  # noqa: E402
from .scenario import Scenario, load_scenario  # noqa: E402
from .server import MockFilesServer, StartupError  # noqa: E402

__all__ = ["MockFilesServer", "account_id", "Scenario", "ScenarioError", "StartupError", "load_scenario", "__version__"]
