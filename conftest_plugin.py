"""The mockfiles pytest plugin (registered under the ``pytest11`` entry point).

Fixtures:
  mockfiles_options the session server's ``MockFilesServer`` keyword arguments (none by
                    default); override it in a conftest.py to start the server otherwise
  mockfiles_server  one emulator for the whole session (per xdist worker)
  mockfiles         that server with a fresh state for each test, configured by
                    ``@pytest.mark.mockfiles(scenario=..., profile=..., seed=...,
                    api_keys=..., rate_limits=..., in_process=...)`` over the session's
                    options (``in_process=True``: ``client()`` and ``async_client()`` reach
                    the server without a socket unless told otherwise)

A relative ``scenario=`` path is looked for next to the test file first, then in the
rootdir, then in the working directory: a suite finds its scenarios wherever pytest is
started from.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from mockfiles import MockFilesServer, ScenarioError
from mockfiles.server import ServerOptions

MARKER_OPTIONS = ("scenario", "profile", "seed", "api_keys", "rate_limits", "in_process")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "mockfiles(scenario=None, profile=None, seed=None, api_keys=None, rate_limits=None, in_process=None): "
        "configure the test's mockfiles server (scenario: a path or a dict; in_process: clients without a socket)",
    )


@pytest.fixture(scope="session")
def mockfiles_options() -> ServerOptions:
    """How the session's server starts: ``MockFilesServer``'s keyword arguments. Override it in a
    conftest.py (session scope), e.g. ``return {"profile": "dashscope", "admin_token": "t"}``;
    each test's reset comes back to these, and its marker's options go over them."""
    return {}


@pytest.fixture(scope="session")
def mockfiles_server(mockfiles_options: ServerOptions) -> Iterator[MockFilesServer]:
    try:
        server = MockFilesServer(**mockfiles_options)
    except (TypeError, ValueError) as exc:  # an unknown option, or one that cannot work (ScenarioError too)
        raise pytest.UsageError(f"mockfiles_options: {exc}") from None
    with server:
        yield server


@pytest.fixture
def mockfiles(mockfiles_server: MockFilesServer, request: pytest.FixtureRequest) -> Iterator[MockFilesServer]:
    options: dict[str, object] = {}
    for marker in reversed(list(request.node.iter_markers("mockfiles"))):  # closest marker wins
        if marker.args:
            raise pytest.UsageError("@pytest.mark.mockfiles takes keyword arguments only")
        unknown = set(marker.kwargs) - set(MARKER_OPTIONS)
        if unknown:
            raise pytest.UsageError(
                f"@pytest.mark.mockfiles: unknown option(s) {', '.join(sorted(unknown))}; "
                f"expected {', '.join(MARKER_OPTIONS)}"
            )
        options.update(marker.kwargs)
    in_process = options.pop("in_process", None)
    scenario = options.get("scenario")
    if isinstance(scenario, (str, os.PathLike)):
        options["scenario"] = scenario_path(Path(scenario), request)
    try:
        mockfiles_server.reset(**options)
    except ScenarioError as exc:
        pytest.fail(f"mockfiles scenario: {exc}", pytrace=False)
    except ValueError as exc:  # a marker option that cannot work (an empty key, a seed out of range)
        pytest.fail(f"mockfiles: {exc}", pytrace=False)
    session_default = mockfiles_server.in_process
    if in_process is not None:
        mockfiles_server.in_process = bool(in_process)
    try:
        yield mockfiles_server
    finally:
        mockfiles_server.in_process = session_default


def scenario_path(path: Path, request: pytest.FixtureRequest) -> Path:
    """Where a marker's scenario file is: as given if absolute; else the first of the test
    file's directory, the rootdir and the working directory that has it."""
    if path.is_absolute():
        return path
    test_file: Path = request.node.path
    places = dict.fromkeys([test_file.parent, request.config.rootpath, Path.cwd()])
    for place in places:
        if (place / path).is_file():
            return place / path
    looked = ", ".join(str(place) for place in places)
    pytest.fail(f"mockfiles scenario: no such scenario file {str(path)!r} (looked in {looked})", pytrace=False)
