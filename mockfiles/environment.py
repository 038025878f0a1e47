"""The environment that points client libraries at an emulator, so that application code which
builds its own clients (``OpenAI()``, ``dashscope.Files.upload(...)``) reaches it without a word
about mockfiles: the variables each library reads, and, for a library that reads them once when
it is imported, the module attributes it keeps them in.

Used by the pytest fixture ``mockfiles_env`` (set for one test, restored after it),
``MockFilesServer.environment()`` / ``patch_environment()``, and ``mockfiles env`` (shell
exports: ``eval "$(mockfiles env)"``).

Each client library is one ``Client`` in ``CLIENTS``: a dialect whose SDK reads its own variables
(Azure OpenAI's ``AZURE_OPENAI_ENDPOINT``, ``AZURE_OPENAI_API_KEY``, ``OPENAI_API_VERSION``) adds
its ``Client`` there, and the fixture, the server's methods and ``mockfiles env`` all set it.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import shlex
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

DEFAULT_API_KEY = "sk-mockfiles-test"  # what the emulator's clients send when no keys are configured
DEFAULT_URL = "http://127.0.0.1:8000"  # where `mockfiles serve` listens by default
# The mount an OpenAI SDK goes to, by profile: the profile's OpenAI-compatible dialect.
OPENAI_MOUNTS = {"openai": "/v1", "dashscope": "/compatible-mode/v1"}


@dataclass(frozen=True)
class Target:
    """Where the clients should go: the server's root URL, its profile, and the key to send."""

    url: str
    profile: str = "openai"
    api_key: str = DEFAULT_API_KEY


@dataclass(frozen=True)
class Client:
    """One client library: the environment variables it reads, and, when it reads them only once
    at import, its ``module`` and the attributes of it that hold them."""

    name: str
    variables: Callable[[Target], dict[str, str]]
    module: str | None = None
    attributes: Callable[[Target], dict[str, str]] | None = None


def _openai(target: Target) -> dict[str, str]:
    """The official SDKs (Python and Node), and what builds on them (litellm, LangChain...)."""
    mount = OPENAI_MOUNTS.get(target.profile, "/v1")
    return {"OPENAI_BASE_URL": target.url + mount, "OPENAI_API_KEY": target.api_key}


def _dashscope(target: Target) -> dict[str, str]:
    """The ``dashscope`` SDK: 1.x reads these at import, 2.x when it sends."""
    return {
        "DASHSCOPE_HTTP_BASE_URL": target.url + "/api/v1",
        "DASHSCOPE_COMPATIBLE_BASE_URL": target.url + "/compatible-mode/v1",
        "DASHSCOPE_API_KEY": target.api_key,
    }


def _dashscope_attributes(target: Target) -> dict[str, str]:
    variables = _dashscope(target)
    return {
        "base_http_api_url": variables["DASHSCOPE_HTTP_BASE_URL"],
        "base_compatible_api_url": variables["DASHSCOPE_COMPATIBLE_BASE_URL"],
        "api_key": variables["DASHSCOPE_API_KEY"],
    }


CLIENTS: tuple[Client, ...] = (
    Client("openai", _openai),
    Client("dashscope", _dashscope, module="dashscope", attributes=_dashscope_attributes),
)


def variables(target: Target) -> dict[str, str]:
    """Every client library's variables, pointed at ``target``."""
    out: dict[str, str] = {}
    for client in CLIENTS:
        out.update(client.variables(target))
    return out


def module_attributes(target: Target) -> list[tuple[Any, str, str]]:
    """``(module, attribute, value)`` for each library that keeps its settings in its module and
    is installed. It is imported here, before any variable is set, so that what it read at import
    is what it had without the emulator, and what ``patched`` restores."""
    out = []
    for client in CLIENTS:
        if client.module is None or client.attributes is None:
            continue
        if importlib.util.find_spec(client.module) is None:
            continue
        module = importlib.import_module(client.module)
        out += [(module, name, value) for name, value in client.attributes(target).items()]
    return out


@contextmanager
def patched(target: Target) -> Iterator[dict[str, str]]:
    """The variables set in ``os.environ`` and the module attributes set, within; both put back as
    they were on the way out (a variable that was not set is removed)."""
    wanted = variables(target)
    attributes = module_attributes(target)  # imported before the variables change
    saved_variables = {name: os.environ.get(name) for name in wanted}
    saved_attributes = [(module, name, getattr(module, name, None)) for module, name, _ in attributes]
    try:
        os.environ.update(wanted)
        for module, name, value in attributes:
            setattr(module, name, value)
        yield wanted
    finally:
        for module, name, old in saved_attributes:
            setattr(module, name, old)
        for name, old_value in saved_variables.items():
            if old_value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = old_value


# --- as shell commands ----------------------------------------------------------------------------

FORMATS = ("sh", "fish", "powershell", "dotenv")


def _fish_quote(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _powershell_quote(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _dotenv_quote(value: str) -> str:
    plain = all(c.isalnum() or c in "-_./:@+,=" for c in value)
    return value if plain else '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


SETTERS: dict[str, Callable[[str, str], str]] = {
    "sh": lambda name, value: f"export {name}={shlex.quote(value)}",
    "fish": lambda name, value: f"set -gx {name} {_fish_quote(value)};",
    "powershell": lambda name, value: f"$env:{name} = {_powershell_quote(value)}",
    "dotenv": lambda name, value: f"{name}={_dotenv_quote(value)}",
}
UNSETTERS: dict[str, Callable[[str], str]] = {
    "sh": lambda name: f"unset {name}",
    "fish": lambda name: f"set -e {name};",
    "powershell": lambda name: f"Remove-Item Env:{name} -ErrorAction SilentlyContinue",
}


def shell_lines(wanted: Mapping[str, str], form: str = "sh", unset: bool = False) -> str:
    """The commands that set (or ``unset``) the variables in a shell of the given form."""
    if unset:
        return "\n".join(UNSETTERS[form](name) for name in wanted)
    return "\n".join(SETTERS[form](name, value) for name, value in wanted.items())
