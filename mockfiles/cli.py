"""``mockfiles serve``, ``mockfiles env`` and ``mockfiles check``."""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from types import FrameType

from mockfiles._version import __version__
from mockfiles.announce import ready_document, remove_ready_file, startup_lines, write_ready_file
from mockfiles.core.profiles import PROFILES
from mockfiles.core.timeouts import MAX_TIMEOUT, SHUTDOWN_GRACE
from mockfiles.core.units import parse_duration
from mockfiles.emulator import Emulator, Settings
from mockfiles.environment import DEFAULT_API_KEY, DEFAULT_URL, FORMATS, Target, shell_lines, variables
from mockfiles.exceptions import DataDirError, ScenarioError, StartupError
from mockfiles.scenarios.scenario import example_names, example_scenario, load_scenario


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="mockfiles", description="A local emulator of the OpenAI-compatible Files API.")
    root.add_argument("--version", action="version", version=f"mockfiles {__version__}")
    commands = root.add_subparsers(dest="command", required=True)

    run = commands.add_parser("serve", help="run the emulator until Ctrl-C")
    run.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    run.add_argument("--port", type=int, default=8000, help="port to bind; 0 picks a free one (default 8000)")
    run.add_argument("--scenario", metavar="FILE", help="a YAML scenario file, or a shipped example's name")
    run.add_argument(
        "--profile", choices=sorted(PROFILES), help="service to emulate (default: the scenario's, else openai)"
    )
    run.add_argument("--seed", type=int, help="seed for fault probabilities and ids (overrides the scenario's)")
    run.add_argument(
        "--api-key",
        action="append",
        dest="api_keys",
        metavar="KEY",
        help="accept only this key (repeatable); default: any non-empty key",
    )
    run.add_argument("--no-rate-limits", action="store_true", help="turn the per-key rate limits off")
    run.add_argument("--quiet", action="store_true", help="log warnings only (no access log)")
    run.add_argument("--admin-token", metavar="TOKEN", help="require 'Authorization: Bearer TOKEN' on /_mockfiles/*")
    run.add_argument(
        "--cors-origin",
        action="append",
        dest="cors_origins",
        metavar="ORIGIN",
        help="let pages of ORIGIN (e.g. http://localhost:5173, http://localhost:*, or *) call the API "
        "(repeatable; default: any origin when bound to loopback, none otherwise)",
    )
    run.add_argument(
        "--allowed-host",
        action="append",
        dest="allowed_hosts",
        metavar="NAME",
        help="a name the admin routes answer to besides IP addresses, localhost and this machine's "
        "(repeatable; *.example.com for a domain, * for any)",
    )
    run.add_argument(
        "--ready-file",
        type=Path,
        metavar="PATH",
        help="once accepting connections, write the URLs there as JSON (removed on exit), for test runners",
    )
    run.add_argument(
        "--data-dir",
        type=Path,
        metavar="PATH",
        help="keep every account's files, batches and Uploads there across restarts (default: in memory only)",
    )
    run.add_argument(
        "--header-timeout",
        type=timeout,
        metavar="DURATION",
        help="time for a request's line and headers to arrive, e.g. 30s (default 30s; answered 408)",
    )
    run.add_argument(
        "--body-timeout",
        type=timeout,
        metavar="DURATION",
        help="longest wait for the next byte of a request body, e.g. 60s (default 60s; answered 408)",
    )

    run.add_argument(
        "--shutdown-timeout",
        type=timeout,
        metavar="DURATION",
        default=SHUTDOWN_GRACE,
        help="on SIGTERM or Ctrl-C, how long requests in flight may take to finish, e.g. 30s (default 5s)",
    )

    env = commands.add_parser(
        "env",
        help='print the environment that points client libraries at a server (eval "$(mockfiles env)")',
        description="Print the variables that point the openai and dashscope SDKs at a running server "
        "(OPENAI_BASE_URL, OPENAI_API_KEY, DASHSCOPE_*) as shell commands, or run COMMAND with them set.",
    )
    where = env.add_mutually_exclusive_group()
    where.add_argument("--url", help=f"the server's root URL (default {DEFAULT_URL})")
    where.add_argument("--port", type=int, help="the port of a server on 127.0.0.1, instead of --url")
    where.add_argument("--ready-file", type=Path, metavar="PATH", help="the URL and profile from serve's ready file")
    env.add_argument("--profile", choices=sorted(PROFILES), help="the server's profile (default: openai)")
    env.add_argument("--api-key", metavar="KEY", help=f"the key clients send (default {DEFAULT_API_KEY})")
    env.add_argument("--format", choices=FORMATS, default="sh", help="the shell to write for (default sh)")
    env.add_argument("--unset", action="store_true", help="print the commands that remove the variables")
    env.add_argument("run", nargs="*", metavar="-- COMMAND", help="run COMMAND with the variables set")

    check = commands.add_parser(
        "check",
        help="validate scenario files, reporting every error with its line",
        description="Validate scenario files, reporting every error of each with its line. A bare name is one "
        f"of the example scenarios shipped with mockfiles: {', '.join(example_names())}.",
    )
    check.add_argument("files", nargs="+", metavar="FILE", help="a scenario file, or a shipped example's name")
    return root


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.command == "check":
        return check(args.files)
    if args.command == "env":
        return print_environment(args)
    return run_server(args)


def check(paths: Sequence[str]) -> int:
    """Every file checked, and every error of each reported on its own line, ``FILE:LINE: message``
    (as compilers do, so editors can jump to them); 1 when any file has errors."""
    failed = 0
    for path in paths:
        try:
            load_scenario(path)
        except ScenarioError as exc:
            failed += 1
            for problem in exc.problems:
                print(problem, file=sys.stderr)
            count = len(exc.problems)
            print(f"{path}: {count} error{'s' if count > 1 else ''}", file=sys.stderr)
            continue
        example = None if Path(path).is_file() else example_scenario(path)
        print(f"{path}: ok" + (f" (the shipped example {example})" if example is not None else ""))
    return 1 if failed else 0


def print_environment(args: argparse.Namespace) -> int:
    """``mockfiles env``: the variables as shell commands, or COMMAND run with them."""
    try:
        target = env_target(args)
    except ValueError as exc:
        print(f"mockfiles env: {exc}", file=sys.stderr)
        return 2
    wanted = variables(target)
    if args.run:
        try:
            return subprocess.run(args.run, env={**os.environ, **wanted}).returncode
        except OSError as exc:
            print(f"mockfiles env: cannot run {args.run[0]}: {exc.strerror or exc}", file=sys.stderr)
            return 127
    if args.unset and args.format == "dotenv":
        print("mockfiles env: --unset needs a shell (sh, fish or powershell), not dotenv", file=sys.stderr)
        return 2
    print(shell_lines(wanted, args.format, unset=args.unset))
    return 0


def env_target(args: argparse.Namespace) -> Target:
    """Where ``mockfiles env`` points: ``--url``, ``--port`` or the ready file, the profile, the key."""
    profile = args.profile
    if args.ready_file is not None:
        try:
            ready = json.loads(args.ready_file.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ValueError(f"no ready file at {args.ready_file} (is serve --ready-file running?)") from None
        except (OSError, ValueError) as exc:
            raise ValueError(f"cannot read the ready file {args.ready_file}: {exc}") from None
        url, profile = ready["url"], profile or ready.get("profile")
    elif args.port is not None:
        if not 0 < args.port <= 65_535:
            raise ValueError(f"--port must be 1–65535, got {args.port}")
        url = f"http://127.0.0.1:{args.port}"
    else:
        url = args.url or DEFAULT_URL
    url = url.rstrip("/")
    if not url.startswith(("http://", "https://")):
        raise ValueError(f"--url must be an http:// or https:// URL, got {url!r}")
    for mount in ("/v1", "/compatible-mode/v1", "/api/v1", "/_mockfiles"):
        if url.endswith(mount):
            raise ValueError(f"--url is the server's root ({url.removesuffix(mount)}), not a base URL ({url})")
    if args.api_key == "":
        raise ValueError("--api-key must not be empty")
    return Target(url, profile or "openai", args.api_key or DEFAULT_API_KEY)


def run_server(args: argparse.Namespace) -> int:
    from mockfiles.server import serve  # the web stack, only when serving
    from mockfiles.web.browsers import BrowserPolicy, is_loopback
    from mockfiles.web.listen import check_port

    try:
        check_port(args.port)
        settings = Settings(
            scenario=args.scenario,
            profile=args.profile,
            seed=args.seed,
            api_keys=tuple(args.api_keys) if args.api_keys is not None else None,
            rate_limits=False if args.no_rate_limits else None,
            admin_token=args.admin_token,
            header_timeout=args.header_timeout,
            body_timeout=args.body_timeout,
            data_dir=args.data_dir,
        )
        emulator = Emulator(settings)
        browsers = BrowserPolicy.for_server(args.host, args.cors_origins, args.allowed_hosts)
    except ScenarioError as exc:
        for problem in exc.problems:
            print(f"mockfiles: {problem}", file=sys.stderr)
        return 2
    except (ValueError, DataDirError) as exc:
        print(f"mockfiles: {exc}", file=sys.stderr)
        return 2

    if not is_loopback(args.host) and emulator.admin_token is None:
        print(
            f"mockfiles: warning: listening on {args.host}, beyond this machine, with the admin routes "
            "(/_mockfiles/*: reset, scenario, every account's files) open to anyone who can reach it; "
            "give --admin-token to protect them (they answer to IP addresses, localhost and this machine's name; "
            "--allowed-host NAME adds a name)",
            file=sys.stderr,
        )

    ready_file: Path | None = args.ready_file
    protected = emulator.admin_token is not None
    keys_restricted = emulator.keys is not None

    def announce(url: str) -> None:
        if ready_file is not None:
            try:
                document = ready_document(url, emulator.profile.name, protected, args.host, keys_restricted)
                write_ready_file(ready_file, document)
            except OSError as exc:  # stops the server: a harness waiting for the file would wait forever
                raise StartupError(f"cannot write the ready file {ready_file}: {exc.strerror or exc}") from None
        lines = startup_lines(url, emulator.profile.name, protected, args.host, keys_restricted, browsers.cors_origins)
        print(lines, flush=True)
        if args.data_dir is not None:
            print(f"  state kept in {args.data_dir} ({len(emulator.files.store)} files)", flush=True)

    if ready_file is not None and not ready_file.parent.is_dir():
        print(f"mockfiles: --ready-file {ready_file}: no such directory {str(ready_file.parent)!r}", file=sys.stderr)
        return 2
    if ready_file is not None and ready_file.is_dir():
        print(f"mockfiles: --ready-file {ready_file}: is a directory", file=sys.stderr)
        return 2
    if ready_file is not None:
        remove_ready_file(ready_file)  # a stale one would say a server is there before this one is
    previous = signal.signal(signal.SIGTERM, terminated)
    try:
        serve(
            emulator,
            args.host,
            args.port,
            announce=announce,
            quiet=args.quiet,
            grace=args.shutdown_timeout,
            browsers=browsers,
        )
    except StartupError as exc:
        print(f"mockfiles: {exc}", file=sys.stderr)
        return 2
    except (KeyboardInterrupt, Terminated):
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
        emulator.close()
        if ready_file is not None:
            remove_ready_file(ready_file)
    return 0


class Terminated(Exception):
    """SIGTERM: uvicorn shuts down gracefully, then raises the signal again, here."""


def terminated(signum: int, frame: FrameType | None) -> None:
    raise Terminated


def timeout(text: str) -> float:
    """A duration as in scenarios (``30s``, ``700ms``, ``2m``, or seconds), above 0 and at most a day."""
    try:
        seconds = parse_duration(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    if not 0 < seconds <= MAX_TIMEOUT:
        raise argparse.ArgumentTypeError(f"must be longer than 0 and at most 1d, got {text!r}")
    return seconds


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
