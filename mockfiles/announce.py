"""What ``mockfiles serve`` tells the world once it accepts connections: the start-up lines
for a person, and the ready file for a program (a Node, Go or Java test runner that starts the
server and waits for it).

Every dialect is always mounted; a profile is meant for some of them (``openai``: OpenAI's
``/v1``; ``dashscope``: DashScope's compatible mode and native API; ``azure``: the server's root as
AzureOpenAI's ``azure_endpoint``, and ``/openai/v1``), and both say which.
"""

from __future__ import annotations

import functools
import ipaddress
import json
import os
import tempfile
from pathlib import Path
from typing import Any

from mockfiles._version import __version__
from mockfiles.environment import Target, variables

# (dialect, the service it speaks for, what a client sets to the base URL, the mount point)
DIALECTS = (
    ("openai", "OpenAI", "OpenAI SDK base_url", "/v1"),
    ("dashscope-compatible", "DashScope compatible mode", "OpenAI SDK base_url", "/compatible-mode/v1"),
    ("dashscope-native", "DashScope native API", "dashscope SDK base_http_api_url", "/api/v1"),
    ("azure", "Azure OpenAI", "AzureOpenAI azure_endpoint", ""),
    ("azure-v1", "Azure OpenAI v1", "OpenAI SDK base_url", "/openai/v1"),
)
MEANT_FOR = {
    "openai": ("openai",),
    "dashscope": ("dashscope-compatible", "dashscope-native"),
    "azure": ("azure", "azure-v1"),
}
ADMIN_PREFIX = "/_mockfiles"


def all_interfaces(host: str) -> bool:
    """``0.0.0.0``, ``::`` (or empty): the server listens on every interface, an address no client
    can connect to (Windows and some proxies refuse it), so the URLs shown use loopback instead."""
    if host in ("", "*"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_unspecified
    except ValueError:
        return False


@functools.lru_cache(maxsize=64)
def connectable_url(host: str, port: int) -> str:
    """The server's root as a client on this machine reaches it: loopback for a wildcard host."""
    if all_interfaces(host):
        host = "::1" if ":" in host else "127.0.0.1"
    return f"http://{f'[{host}]' if ':' in host else host}:{port}"


def base_urls(url: str) -> dict[str, str]:
    """Each dialect's base URL on the server at ``url``."""
    return {name: url + mount for name, _, _, mount in DIALECTS}


def env_command(url: str, profile: str, keys_restricted: bool = False) -> str:
    """The command that sets a shell's environment for this server (``mockfiles env``): its URL
    unless it is the default one, its profile unless it is openai, and, when only some keys are
    accepted, a place for one of them (never the key itself)."""
    words = ["mockfiles env"]
    if url != "http://127.0.0.1:8000":
        words.append(f"--url {url}")
    if profile != "openai":
        words.append(f"--profile {profile}")
    if keys_restricted:
        words.append("--api-key KEY")
    return f'eval "$({" ".join(words)})"'


def startup_lines(
    url: str,
    profile: str,
    admin_protected: bool,
    host: str = "",
    keys_restricted: bool = False,
    cors_origins: tuple[str, ...] = ("*",),
) -> str:
    """Where to point each kind of client, which of them the profile is meant for, the shell
    command that sets their environment, the console, which web pages may call the API, and
    whether the admin routes are open;
    with a wildcard ``host``, that it listens on every interface (``url`` is then loopback's)."""
    meant = MEANT_FOR.get(profile, ())
    lines = [f"mockfiles serving on {url} (profile {profile})"]
    if host and all_interfaces(host):
        lines[0] += f", listening on all interfaces ({host}): use this machine's address from elsewhere"
    for name, service, setting, mount in DIALECTS:
        mark = f"  <- profile {profile}" if name in meant else ""
        lines.append(f"  {service + ':':27} {setting + ' ':33}{url}{mount}{mark}")
    lines.append(f"  {'app environment:':27} {'shell':33}{env_command(url, profile, keys_restricted)}")
    lines.append(f"  {'web console:':27} {'':33}{url}{ADMIN_PREFIX}/")
    lines.append(f"  {'browsers (CORS):':27} {cors_words(cors_origins)}")
    if admin_protected:
        lines.append("  admin routes (/_mockfiles/*): need 'Authorization: Bearer <admin token>'")
    else:
        lines.append("  admin routes (/_mockfiles/*): open, no token needed (--admin-token TOKEN closes them)")
    return "\n".join(lines)


def cors_words(origins: tuple[str, ...]) -> str:
    """Which web pages may call the API (browsers.py)."""
    if "*" in origins:
        return "the API answers pages of any origin (--cors-origin ORIGIN limits it)"
    if not origins:
        return "the API answers no page of another origin (--cors-origin ORIGIN opens it)"
    return "the API answers pages of " + ", ".join(origins)


def ready_document(
    url: str, profile: str, admin_protected: bool, host: str = "127.0.0.1", keys_restricted: bool = False
) -> dict[str, Any]:
    """The ready file's content (docs/console.md lists its keys). ``environment`` holds the variables
    that point client libraries here; with only some keys accepted, the key variables are left out."""
    environment = variables(Target(url, profile))
    if keys_restricted:
        environment = {name: value for name, value in environment.items() if not name.endswith("_API_KEY")}
    return {
        "url": url,
        "host": host,
        "base_urls": base_urls(url),
        "profile": profile,
        "profile_dialects": list(MEANT_FOR.get(profile, ())),
        "admin_url": url + ADMIN_PREFIX,
        "console_url": url + ADMIN_PREFIX + "/",
        "admin_open": not admin_protected,
        "environment": environment,
        "pid": os.getpid(),
        "version": __version__,
    }


def write_ready_file(path: Path, document: dict[str, Any]) -> None:
    """Write ``document`` as JSON at ``path`` all at once: into a temporary file beside it, then
    renamed over it, so that a reader polling for the file never sees half of it."""
    text = json.dumps(document, indent=2) + "\n"
    fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def remove_ready_file(path: Path) -> None:
    path.unlink(missing_ok=True)
