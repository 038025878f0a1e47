"""The mockfiles pytest plugin (registered under the ``pytest11`` entry point).

Fixtures:
  mockfiles_server  one emulator for the whole session (per xdist worker)
  mockfiles         that server with a fresh state for each test, configured by
                    ``@pytest.mark.mockfiles(scenario=..., profile=..., seed=...,
                    api_keys=..., rate_limits=...)``
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from mockfiles import MockFilesServer, ScenarioError

MARKER_OPTIONS = ("scenario", "profile", "seed", "api_keys", "rate_limits")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "mockfiles(scenario=None, profile=None, seed=None, api_keys=None, rate_limits=None): "
        "configure the test's mockfiles server (scenario: a path or a dict)",
    )


@pytest.fixture(scope="session")
def mockfiles_server() -> Iterator[MockFilesServer]:
    with MockFilesServer() as server:
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
    try:
        mockfiles_server.reset(**options)
    except ScenarioError as exc:
        pytest.fail(f"mockfiles scenario: {exc}", pytrace=False)
    yield mockfiles_server
