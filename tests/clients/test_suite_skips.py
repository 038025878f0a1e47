"""The suite says what it did not test: one line at the end of a run naming each reason tests were
skipped for and the command that brings what is missing; the browser's reason names exactly what
is missing (chromium, its driver, or both)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from tests.support.browser import browser_missing
from tests.support.skips import skip_line

ROOT = Path(__file__).parents[2]


def test_a_run_without_node_ends_naming_what_it_skipped_and_the_command() -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "tests/clients/nodejs/test_batches_node.py",
            "-p",
            "no:randomly",
            "-p",
            "no:cacheprovider",
            "-n",
            "0",
            "-q",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
        env={**os.environ, "PATH": "/nonexistent"},  # no node to be found
    )
    lines = done.stdout.strip().splitlines()
    assert done.returncode == 0, done.stdout + done.stderr
    assert lines[-2] == (
        "SKIPPED 1 test: 1 because node is not installed (as root: apt-get install nodejs npm; then: cd tests/node && npm ci)"
    )
    assert lines[-1].endswith("1 skipped in " + lines[-1].split(" in ")[-1])


def test_nothing_skipped_says_nothing() -> None:
    assert skip_line([SimpleNamespace(skipped=False, longrepr=None)]) is None


def test_skips_are_gathered_by_reason_most_frequent_first() -> None:
    def skipped(reason: str) -> SimpleNamespace:
        return SimpleNamespace(skipped=True, longrepr=("tests/x.py", 3, f"Skipped: {reason}"))

    reports = [skipped("b is missing (get b)"), *[skipped("a is missing (get a)")] * 3]
    assert skip_line(reports) == "SKIPPED 4 tests: 3 because a is missing (get a); 1 because b is missing (get b)"


@pytest.mark.parametrize(
    ("chromium", "driver", "message"),
    [
        (True, True, None),
        (True, False, "chromium-driver is not installed: no {driver} (as root: apt-get install chromium-driver)"),
        (False, True, "chromium is not installed: no {chromium} (as root: apt-get install chromium)"),
        (
            False,
            False,
            "chromium and chromium-driver are not installed: no {chromium}, no {driver} "
            "(as root: apt-get install chromium chromium-driver)",
        ),
    ],
)
def test_the_browser_reason_names_exactly_what_is_missing(
    tmp_path: Path, chromium: bool, driver: bool, message: str | None
) -> None:
    paths = {"chromium": tmp_path / "chromium", "driver": tmp_path / "chromedriver"}
    for name, present in (("chromium", chromium), ("driver", driver)):
        if present:
            paths[name].touch()
    said = browser_missing(str(paths["chromium"]), str(paths["driver"]))
    assert said == (None if message is None else message.format(**paths))
