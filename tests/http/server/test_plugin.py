"""The pytest plugin, used the way a downstream suite uses it: installed, no conftest."""

from __future__ import annotations

import pytest

pytest_plugins = ["pytester"]

DOWNSTREAM = """
import openai
import pytest


def test_fixture_gives_a_fresh_server(mockfiles):
    client = openai.OpenAI(base_url=mockfiles.base_url, api_key=mockfiles.api_key)
    assert list(client.files.list()) == []
    client.files.create(file=b"left behind", purpose="assistants")


def test_state_does_not_leak_between_tests(mockfiles):
    client = mockfiles.client()
    assert list(client.files.list()) == []
    assert mockfiles.requests()[-1]["endpoint"] == "files.list"


def test_session_server_is_shared(mockfiles, mockfiles_server):
    assert mockfiles is mockfiles_server


@pytest.mark.mockfiles(profile="dashscope")
def test_marker_profile(mockfiles):
    assert mockfiles.emulator.profile.name == "dashscope"


@pytest.mark.mockfiles(scenario={"auth": {"keys": ["only-me"]}})
def test_marker_scenario_dict(mockfiles):
    assert mockfiles.api_key == "only-me"
    with pytest.raises(openai.AuthenticationError):
        mockfiles.client(api_key="someone-else", max_retries=0).files.list()


def test_marker_does_not_stick(mockfiles):
    assert mockfiles.emulator.profile.name == "openai"
    assert mockfiles.emulator.keys is None


@pytest.mark.parametrize("n", range(6))
def test_many(mockfiles, n):
    c = mockfiles.client()
    c.files.create(file=str(n).encode(), purpose="assistants")
    assert len(list(c.files.list())) == 1
"""


def test_downstream_suite_uses_the_fixture_with_no_conftest(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_downstream=DOWNSTREAM)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=12)


def test_downstream_suite_under_xdist(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_downstream=DOWNSTREAM.replace("def test_session_server_is_shared", "def _skip"))
    result = pytester.runpytest_subprocess("-n", "2", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=11)


def test_marker_with_a_bad_scenario_fails_the_test_clearly(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_bad="""
import pytest

@pytest.mark.mockfiles(scenario={"rate_limits": {"uplod": 3}})
def test_it(mockfiles):
    pass
"""
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        ["*mockfiles scenario: <scenario>: unknown key 'uplod' in rate_limits; did you mean 'upload'?*"]
    )


def test_marker_with_several_problems_says_the_first_and_how_many_more(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_bad="""
import pytest

@pytest.mark.mockfiles(scenario={"seed": "x", "rate_limits": {"uplod": 3}, "journal": {"cap": 0}})
def test_it(mockfiles):
    pass
"""
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        ["*mockfiles scenario: <scenario>: seed must be an integer, got 'x' (and 2 more problems)*"]
    )


def test_marker_with_a_bad_fault_rule_says_it_once(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_bad="""
import pytest

@pytest.mark.mockfiles(scenario={"faults": [{"match": {"endpoint": "files.create"}, "statuz": 503}]})
def test_it(mockfiles):
    pass
"""
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(errors=1)
    output = result.stdout.str()
    report = output.split("short test summary info")[0]  # the summary repeats it in one line (in full under CI=true)
    assert report.count("unknown key 'statuz'") == 1, output
    assert "During handling" not in output and "Traceback" not in output


def test_a_typo_in_a_marker_option_is_one_line_with_a_guess(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_typo="""
import pytest

@pytest.mark.mockfiles(scenaro="flaky.yaml", rate_limit=False)
def test_it(mockfiles):
    pass

@pytest.mark.mockfiles("flaky.yaml")
def test_positional(mockfiles):
    pass

@pytest.mark.mockfiles(zzz=1)
def test_far_off(mockfiles):
    pass

@pytest.mark.mockfiles(profil="dashscope")
def test_one(mockfiles):
    pass
"""
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(errors=4)
    output = result.stdout.str()
    options = "scenario, profile, seed, api_keys, rate_limits, in_process, check_retries"
    report = output.split("short test summary info")[0]
    for line in (
        "@pytest.mark.mockfiles: unknown options 'scenaro' (did you mean 'scenario'?), "
        f"'rate_limit' (did you mean 'rate_limits'?) (options: {options})",
        f"@pytest.mark.mockfiles: takes keyword arguments only ({options}), got 1 positional",
        f"@pytest.mark.mockfiles: unknown option 'zzz' (options: {options})",
        f"@pytest.mark.mockfiles: unknown option 'profil'; did you mean 'profile'? (options: {options})",
    ):
        assert report.count(line) == 1, output
    assert "Traceback" not in output and "conftest_plugin.py" not in output and "UsageError" not in output


def test_marker_scenario_from_a_file(pytester: pytest.Pytester) -> None:
    pytester.makefile(".yaml", limits="limits:\n  max_files: 1\n")
    pytester.makepyfile(
        test_file="""
import openai
import pytest

@pytest.mark.mockfiles(scenario="limits.yaml", rate_limits=False)
def test_it(mockfiles):
    c = mockfiles.client(max_retries=0)
    c.files.create(file=b"1", purpose="assistants")
    with pytest.raises(openai.BadRequestError, match="File count limit"):
        c.files.create(file=b"2", purpose="assistants")
"""
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)


LIMITED = """
import openai
import pytest

@pytest.mark.mockfiles(scenario="{path}", rate_limits=False)
def test_it(mockfiles):
    c = mockfiles.client(max_retries=0)
    c.files.create(file=b"1", purpose="assistants")
    with pytest.raises(openai.BadRequestError, match="File count limit"):
        c.files.create(file=b"2", purpose="assistants")
"""


def test_marker_scenario_next_to_the_test_file_wins(pytester: pytest.Pytester) -> None:
    """pytest started from the rootdir finds a scenario that sits beside a test in a subdirectory."""
    sub = pytester.mkpydir("suite")
    (sub / "limits.yaml").write_text("limits:\n  max_files: 1\n")
    pytester.path.joinpath("limits.yaml").write_text("limits:\n  max_files: 5\n")  # the rootdir's: not this one
    (sub / "test_here.py").write_text(LIMITED.format(path="limits.yaml"))
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "suite")
    result.assert_outcomes(passed=1)


def test_marker_scenario_from_the_rootdir_when_started_elsewhere(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytester.makeini("[pytest]\n")  # marks the rootdir
    scenarios = pytester.mkdir("scenarios")
    (scenarios / "limits.yaml").write_text("limits:\n  max_files: 1\n")
    sub = pytester.mkpydir("suite")
    (sub / "test_there.py").write_text(LIMITED.format(path="scenarios/limits.yaml"))
    elsewhere = pytester.mkdir("elsewhere")
    monkeypatch.chdir(elsewhere)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--rootdir", str(pytester.path), str(sub))
    result.assert_outcomes(passed=1)


def test_marker_scenario_that_is_nowhere_names_where_it_looked(pytester: pytest.Pytester) -> None:
    sub = pytester.mkpydir("suite")
    (sub / "test_missing.py").write_text(LIMITED.format(path="nowhere.yaml"))
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "suite")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        [f"*mockfiles scenario: no such scenario file 'nowhere.yaml' (looked in {sub}, {pytester.path}*"]
    )


def test_session_options_start_the_server_and_markers_go_over_them(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(
        """
import pytest

@pytest.fixture(scope="session")
def mockfiles_options():
    return {"profile": "dashscope", "api_keys": ["sk-suite-key"], "admin_token": "suite-token"}
"""
    )
    pytester.makepyfile(
        test_options="""
import httpx
import pytest


def test_the_session_options_apply(mockfiles):
    assert mockfiles.emulator.profile.name == "dashscope" and mockfiles.api_key == "sk-suite-key"
    assert httpx.get(mockfiles.url + "/_mockfiles/health").status_code == 401
    assert list(mockfiles.client().files.list()) == []


@pytest.mark.mockfiles(profile="openai")
def test_a_marker_goes_over_them(mockfiles):
    assert mockfiles.emulator.profile.name == "openai" and mockfiles.api_key == "sk-suite-key"


def test_the_next_test_is_back_to_them(mockfiles):
    assert mockfiles.emulator.profile.name == "dashscope"
"""
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=3)


def test_session_options_that_cannot_work_stop_the_run_with_their_reason(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(
        """
import pytest

@pytest.fixture(scope="session")
def mockfiles_options():
    return {"profil": "dashscope"}
"""
    )
    pytester.makepyfile(test_it="def test_it(mockfiles):\n    pass\n")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    assert result.ret != 0
    result.stdout.fnmatch_lines(["*mockfiles_options: unknown option 'profil'; did you mean 'profile'? (options: *)*"])


RETRY_SUITE = """
import openai
import pytest


def operate(client, retry_case):
    if retry_case.operation == "upload":
        return client.files.create(file=(retry_case.filename, retry_case.content), purpose=retry_case.purpose)
    if retry_case.operation == "list":
        return client.files.list()
    return client.files.retrieve(retry_case.file_id)


def test_sdk(mockfiles, retry_case):
    client = mockfiles.client(default_headers=retry_case.headers, timeout=retry_case.timeout)
    with retry_case.capture():
        operate(client, retry_case)


def test_no_retries(mockfiles, retry_case):
    client = mockfiles.client(default_headers=retry_case.headers, max_retries=0)
    with retry_case.capture():
        operate(client, retry_case)


@pytest.mark.mockfiles(check_retries=True)
def test_checked_fixed_wait(mockfiles):
    test = mockfiles.retry_test({"files.list": ["return-429-retry-after-1s"]})
    client = mockfiles.client(default_headers={**test.headers, "x-stainless-retry-count": "0"}, max_retries=0)
    try:
        client.files.list()
    except openai.RateLimitError:
        client.files.list()  # at once: the advised second is not waited


def test_unchecked_fixed_wait(mockfiles):
    test = mockfiles.retry_test({"files.list": ["return-429-retry-after-1s"]})
    client = mockfiles.client(default_headers=test.headers, max_retries=0)
    try:
        client.files.list()
    except openai.RateLimitError:
        client.files.list()
    with pytest.raises(AssertionError, match="retry_after_ignored"):
        test.assert_conforms()
"""


def test_retry_cases_the_check_option_and_the_report(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_retries=RETRY_SUITE)
    selected = "list-503 or upload-400-final or retrieve-429-retry-after-ms or fixed_wait"
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-k", selected, "--mockfiles-report")
    # the SDK passes its three cases; without retries, the two that need one fail; the checked test fails
    result.assert_outcomes(passed=5, failed=3)
    out = result.stdout.str()
    assert "test_sdk: 3 of 3 retry cases passed" in out
    assert "test_no_retries: 1 of 3 retry cases passed" in out
    assert "retry case list-503: FAILED" in out and "expected success after 2 attempts" in out
    assert "retry_after_ignored: attempt 2 came" in out  # check_retries=True failed test_checked_fixed_wait
    assert "FAILED test_retries.py::test_checked_fixed_wait" in out
    assert "retries: " in out and "files.list" in out  # the --mockfiles-report table
    # each failure is its message alone: no frames of pytest's or pluggy's, whose hook raised it
    assert "pluggy/_" not in out and "_pytest/" not in out and "conftest_plugin.py" not in out
    assert out.split("short test summary info")[0].count("RetryConformanceError: ") == 3


FOLDER_CONFTEST = """
import pytest


@pytest.fixture(scope="session")
def mockfiles_options():
    return {OPTIONS}
"""
IN_PROCESS_HERE = """
def test_in_process_here(mockfiles):
    assert mockfiles.in_process is True
    assert mockfiles.client().files.list().data == []
"""
NOT_HERE = """
def test_not_in_process_here(mockfiles):
    assert mockfiles.in_process is False
    assert mockfiles.client().files.list().data == []
"""


@pytest.mark.parametrize("order", [["inproc", "test_root.py"], ["test_root.py", "inproc"]])
def test_a_directorys_options_apply_to_its_tests_whichever_runs_first(
    pytester: pytest.Pytester, order: list[str]
) -> None:
    """The session's one server starts with the first test's options; a directory whose
    conftest.py gives other ones that a marker could give has them for its tests, as a marker's."""
    pytester.makepyfile(test_root=NOT_HERE)
    folder = pytester.mkpydir("inproc")
    (folder / "conftest.py").write_text(FOLDER_CONFTEST.replace("{OPTIONS}", '{"in_process": True}'))
    (folder / "test_folder.py").write_text(IN_PROCESS_HERE)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-p", "no:randomly", *order)
    result.assert_outcomes(passed=2)


@pytest.mark.parametrize("order", [["locked", "test_root.py"], ["test_root.py", "locked"]])
def test_a_directorys_options_that_cannot_change_per_test_fail_in_one_line_whichever_runs_first(
    pytester: pytest.Pytester, order: list[str]
) -> None:
    pytester.makepyfile(test_root=NOT_HERE)
    folder = pytester.mkpydir("locked")
    (folder / "conftest.py").write_text(FOLDER_CONFTEST.replace("{OPTIONS}", '{"profile": "dashscope"}'))
    (folder / "test_folder.py").write_text(NOT_HERE.replace("def test_", "def test_locked_"))
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-p", "no:randomly", *order)
    result.assert_outcomes(passed=1, errors=1)  # the first test's options started the server
    result.stdout.fnmatch_lines(["*mockfiles_options: this test's (*) are not those the session's server started "
                                 "with (*), and profile cannot change per test: a session has one server*"])  # fmt: skip
    assert "Traceback" not in result.stdout.str()


LOADED = """
import sys

HEAVY = ("mockfiles.server", "mockfiles.emulator", "starlette", "uvicorn", "yaml")


def loaded():
    return sorted(name for name in sys.modules if name.startswith(HEAVY))


def test_a_test_without_the_fixtures_loads_no_server():
    assert loaded() == []


def test_the_fixture_loads_it_when_first_asked_for(mockfiles):
    assert "mockfiles.server" in loaded() and "starlette" in loaded()
"""


def test_the_plugin_costs_a_session_that_does_not_use_it_nothing(pytester: pytest.Pytester) -> None:
    """The plugin is loaded in every session of an environment where mockfiles is installed: it
    imports the server, and what the server needs, only when a test first asks for a fixture."""
    pytester.makepyfile(test_loaded=LOADED)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-p", "no:randomly", "-p", "no:xdist")
    result.assert_outcomes(passed=2)
