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
  mockfiles_env     ``mockfiles``, with OPENAI_BASE_URL, OPENAI_API_KEY and the dashscope SDK's
                    settings pointed at it for the test (restored after it): for application
                    code that builds its own clients

A relative ``scenario=`` path is looked for next to the test file first, then in the
rootdir, then in the working directory: a suite finds its scenarios wherever pytest is
started from. A bare name (``scenario="flaky_uploads"``) no file answers to is one of the
example scenarios shipped with the package (``mockfiles/scenarios/examples/``).

Retry conformance (docs/retries.md):
  @pytest.mark.mockfiles(check_retries=True)
                    fails the test when a call it made has a retry problem (its verdict)
  retry_case        parametrizes the test over the shipped conformance cases: the test calls
                    its own client with ``retry_case.headers`` inside ``with retry_case.capture():``
                    and the case is checked once it returns; the session ends with which passed
  --mockfiles-report
                    prints one table of every test's calls, attempts and retry problems
"""

from __future__ import annotations

import difflib
import inspect
import os
from collections.abc import Generator, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

import pluggy
import pytest

from mockfiles.exceptions import RetryConformanceError, ScenarioError

# The rest of mockfiles (its server, Starlette, uvicorn, the retry cases) is imported when a test
# first asks for a fixture: a session none of whose tests does pays nothing for the plugin.
if TYPE_CHECKING:
    from mockfiles.retries.cases import Case
    from mockfiles.retries.run import CaseRun
    from mockfiles.retries.verdicts import CallDict
    from mockfiles.server import MockFilesServer, ServerOptions

MARKER_OPTIONS = ("scenario", "profile", "seed", "api_keys", "rate_limits", "in_process")
CHECK_OPTIONS = ("check_retries",)  # marker options the plugin acts on itself (not the server's)


def pytest_configure(config: pytest.Config) -> None:
    config.pluginmanager.register(Collected(config), "mockfiles-collected")
    config.addinivalue_line(
        "markers",
        "mockfiles(scenario=None, profile=None, seed=None, api_keys=None, rate_limits=None, in_process=None): "
        "configure the test's mockfiles server (scenario: a path or a dict; in_process: clients without a socket); "
        "check_retries=True fails the test when a call it made has a retry problem",
    )


@pytest.fixture(scope="session")
def mockfiles_options() -> ServerOptions:
    """How the session's server starts: ``MockFilesServer``'s keyword arguments. Override it in a
    conftest.py (session scope), e.g. ``return {"profile": "dashscope", "admin_token": "t"}``;
    each test's reset comes back to these, and its marker's options go over them."""
    return {}


STARTED_WITH = pytest.StashKey["ServerOptions"]()  # the options the session's server started with


@pytest.fixture(scope="session")
def mockfiles_server(mockfiles_options: ServerOptions, pytestconfig: pytest.Config) -> Iterator[MockFilesServer]:
    from mockfiles.server import MockFilesServer

    pytestconfig.stash[STARTED_WITH] = mockfiles_options
    known = tuple(inspect.signature(MockFilesServer).parameters)  # its keyword arguments (a class's has no self)
    problem = unknown_names(list(mockfiles_options), known)
    if problem is not None:
        raise pytest.UsageError(f"mockfiles_options: {problem}")
    try:
        server = MockFilesServer(**mockfiles_options)
    except (TypeError, ValueError) as exc:  # an unknown option, or one that cannot work (ScenarioError too)
        raise pytest.UsageError(f"mockfiles_options: {exc}") from None
    with server:
        yield server


@pytest.fixture
def mockfiles(
    mockfiles_server: MockFilesServer, mockfiles_options: ServerOptions, request: pytest.FixtureRequest
) -> Iterator[MockFilesServer]:
    options = {**folder_options(mockfiles_options, request.config), **marker_options(request.node)}
    for name in CHECK_OPTIONS:
        options.pop(name, None)
    in_process = options.pop("in_process", None)
    scenario = options.get("scenario")
    if isinstance(scenario, (str, os.PathLike)):
        options["scenario"] = scenario_path(Path(scenario), request)
    refusal = None  # failed outside the except clause, so that the report has no chained traceback
    try:
        mockfiles_server.reset(**options)
    except ScenarioError as exc:
        more = len(exc.problems) - 1
        refusal = f"mockfiles scenario: {exc}"
        if more:
            refusal += f" (and {more} more problem{'s' if more > 1 else ''})"
    except ValueError as exc:  # a marker option that cannot work (an empty key, a seed out of range)
        refusal = f"mockfiles: {exc}"
    if refusal is not None:
        pytest.fail(refusal, pytrace=False)
    session_default = mockfiles_server.in_process
    if in_process is not None:
        mockfiles_server.in_process = bool(in_process)
    try:
        yield mockfiles_server
    finally:
        mockfiles_server.in_process = session_default
    if request.config.getoption("mockfiles_report", False):
        request.node.user_properties.append((CALLS_PROPERTY, mockfiles_server.calls()))


@pytest.fixture
def mockfiles_env(mockfiles: MockFilesServer) -> Iterator[MockFilesServer]:
    """``mockfiles``, with the environment pointed at it for the test: ``OPENAI_BASE_URL`` and
    ``OPENAI_API_KEY`` (so that application code's own ``OpenAI()`` reaches it), the ``dashscope``
    SDK's ``DASHSCOPE_*`` variables and module settings; all put back after the test."""
    with mockfiles.patch_environment():
        yield mockfiles


def folder_options(options: ServerOptions, config: pytest.Config) -> dict[str, object]:
    """What a ``mockfiles_options`` of a directory's conftest.py changes for its tests. A session
    has one server, started with the options of the first test that asks for it: another
    directory's options may differ in ``in_process`` only (how its tests' clients reach the server,
    set per test as a marker's would be; a marker goes over it). Any other difference fails the
    test with one line, whichever test came first: it could not take effect."""
    first = config.stash.get(STARTED_WITH, options)
    if options is first:
        return {}
    given: dict[str, object] = dict(options)
    started_with: dict[str, object] = dict(first)
    changed = sorted(name for name in {*given, *started_with} if given.get(name) != started_with.get(name))
    if not changed:
        return {}
    if changed == ["in_process"]:
        return {"in_process": bool(given.get("in_process", False))}
    others = ", ".join(name for name in changed if name != "in_process")
    pytest.fail(
        f"mockfiles_options: this test's ({given}) are not those the session's server started with "
        f"({started_with}), and {others} cannot change per test: a session has one server, started with "
        "the options of the first test that asks for it. Give them in the rootdir's conftest.py, or per "
        "test or module with @pytest.mark.mockfiles(...); a directory's own mockfiles_options may change "
        "in_process only.",
        pytrace=False,
    )


def marker_options(node: pytest.Item) -> dict[str, object]:
    """The options of the test's ``mockfiles`` markers, the closest winning. A marker that cannot
    be read fails the test with one line (``pytest.fail``), as a bad scenario does."""
    options: dict[str, object] = {}
    for marker in reversed(list(node.iter_markers("mockfiles"))):  # closest marker wins
        problem = marker_problem(marker.args, marker.kwargs)
        if problem is not None:
            pytest.fail(f"@pytest.mark.mockfiles: {problem}", pytrace=False)
        options.update(marker.kwargs)
    return options


def marker_problem(args: tuple[object, ...], kwargs: Mapping[str, object]) -> str | None:
    """What is wrong with a marker's arguments (None when nothing is): positional arguments, or
    options it does not know, each with the option it most likely meant."""
    known = MARKER_OPTIONS + CHECK_OPTIONS
    if args:
        return f"takes keyword arguments only ({', '.join(known)}), got {len(args)} positional"
    return unknown_names(list(kwargs), known)


def unknown_names(names: list[str], known: tuple[str, ...]) -> str | None:
    """The names not ``known`` (None when there are none), each with the known one it most
    likely meant, and the known ones."""
    unknown = [name for name in names if name not in known]
    if not unknown:
        return None
    guesses = {name: difflib.get_close_matches(name, known, n=1) for name in unknown}
    if len(unknown) == 1:
        [(name, hint)] = guesses.items()
        said = f"unknown option '{name}'" + (f"; did you mean '{hint[0]}'?" if hint else "")
    else:
        said = "unknown options " + ", ".join(
            f"'{name}'" + (f" (did you mean '{hint[0]}'?)" if hint else "") for name, hint in guesses.items()
        )
    return f"{said} (options: {', '.join(known)})"


def scenario_path(path: Path, request: pytest.FixtureRequest) -> Path:
    """Where a marker's scenario file is: as given if absolute; else the first of the test
    file's directory, the rootdir and the working directory that has it; else the shipped example
    of that name (``scenario="flaky_uploads"``)."""
    from mockfiles.scenarios.scenario import example_names, example_scenario

    if path.is_absolute():
        return path
    test_file: Path = request.node.path
    places = dict.fromkeys([test_file.parent, request.config.rootpath, Path.cwd()])
    for place in places:
        if (place / path).is_file():
            return place / path
    example = example_scenario(str(path))
    if example is not None:
        return example
    looked = ", ".join(str(place) for place in places)
    examples = ", ".join(example_names())
    pytest.fail(
        f"mockfiles scenario: no such scenario file {str(path)!r} (looked in {looked}), "
        f"nor a shipped example ({examples})",
        pytrace=False,
    )


# --- retry conformance -------------------------------------------------------------------------

CALLS_PROPERTY = "mockfiles_calls"  # user properties travel from xdist workers with their reports
CASE_PROPERTY = "mockfiles_retry_case"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("mockfiles")
    group.addoption(
        "--mockfiles-report",
        action="store_true",
        dest="mockfiles_report",
        help="print one table of the calls every test made to mockfiles, their attempts and retry problems",
    )


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "retry_case" in metafunc.fixturenames:
        from mockfiles.retries.cases import load_cases

        cases = load_cases()
        metafunc.parametrize("retry_case", cases, ids=[c.id for c in cases], indirect=True)


@pytest.fixture
def retry_case(mockfiles: MockFilesServer, request: pytest.FixtureRequest) -> CaseRun:
    """One shipped conformance case on a fresh server: call your client with ``retry_case.headers``
    (and ``retry_case.timeout`` as its read timeout) inside ``with retry_case.capture():``."""
    from mockfiles.retries.run import CaseRun

    case: Case = request.param
    return CaseRun(mockfiles, case)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, pluggy.Result[None], None]:
    """After the test body: check its retry case, and its calls' verdicts when asked to."""
    outcome = yield
    funcargs: dict[str, object] = getattr(item, "funcargs", {})
    if "mockfiles" not in funcargs and "retry_case" not in funcargs:
        return  # a test that did not use the plugin (nor made it import the rest of mockfiles)
    from mockfiles.retries.report import problems_message
    from mockfiles.retries.run import CaseRun
    from mockfiles.server import MockFilesServer

    run = funcargs.get("retry_case")
    failures: list[str] = []
    if isinstance(run, CaseRun) and outcome.exception is None:
        report = run.check()
        item.user_properties.append((CASE_PROPERTY, [item.originalname, run.id, report.passed, list(report.known)]))  # type: ignore[attr-defined]
        if not report.passed:
            failures.append(report.message())
    server = funcargs.get("mockfiles")
    if isinstance(server, MockFilesServer) and outcome.exception is None and marker_options(item).get("check_retries"):
        message = problems_message(server.calls())
        if message is not None:
            failures.append(message)
    if failures:
        outcome.force_exception(RetryConformanceError("\n".join(failures)))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pluggy.Result[pytest.TestReport], None]:
    """A retry problem is reported as its message alone: it is raised from this plugin's hook, so
    its traceback would show pytest's and pluggy's frames, none of them the test's."""
    outcome = yield
    if call.excinfo is not None and isinstance(call.excinfo.value, RetryConformanceError):
        outcome.get_result().longrepr = f"{call.excinfo.typename}: {call.excinfo.value}"


class Collected:
    """What the session's tests reported (from every xdist worker): calls, and retry cases."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.calls: list[CallDict] = []
        self.cases: list[tuple[str, str, bool, list[str]]] = []

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        for name, value in report.user_properties:
            if name == CALLS_PROPERTY and report.when == "teardown":
                self.calls.extend(value)  # type: ignore[arg-type]
            elif name == CASE_PROPERTY and report.when == "call":
                self.cases.append(tuple(value))  # type: ignore[arg-type]

    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        if self.cases:
            terminalreporter.write_sep("=", "mockfiles retry cases")
            for line in case_summary(self.cases):
                terminalreporter.write_line(line)
        if self.config.getoption("mockfiles_report", False):
            from mockfiles.retries.report import table

            terminalreporter.write_sep("=", "mockfiles calls")
            terminalreporter.write_line(table(self.calls))


def case_summary(results: list[tuple[str, str, bool, list[str]]]) -> list[str]:
    """Per test function: how many cases its client passed, and which it failed."""
    from mockfiles.retries.cases import load_cases

    by_test: dict[str, list[tuple[str, bool, list[str]]]] = {}
    for test, case, passed, known in results:
        by_test.setdefault(test, []).append((case, passed, known))
    lines = []
    order = {case.id: i for i, case in enumerate(load_cases())}
    for test, rows in by_test.items():
        rows.sort(key=lambda row: order.get(row[0], len(order)))
        count = sum(ok for _, ok, _ in rows)
        lines.append(f"{test}: {count} of {len(rows)} retry cases passed")
        for case, ok, known in rows:
            state = "passed" if ok else "FAILED"
            if ok and known:
                state += " (known: " + ", ".join(dict.fromkeys(k.split(":", 1)[0] for k in known)) + ")"
            lines.append(f"  {case:<36} {state}")
    return lines
