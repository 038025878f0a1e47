"""Headless Chromium from the Debian packages, driven by Selenium through the Debian chromedriver,
for the console's tests (tests/clients/browser/test_console.py) and its screenshots (docs/console/)."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--window-size=1400,900",
)


def browser_missing(chromium: str = CHROMIUM, chromedriver: str = CHROMEDRIVER) -> str | None:
    """Why no browser can be driven here, or None when one can: exactly what is missing, and the
    command that brings it (tests/support/skips.py gathers these into the run's last lines)."""
    try:
        import selenium  # noqa: F401
    except ModuleNotFoundError:
        return "selenium is not installed (pip install -e '.[dev]')"
    packages = [
        name for name, path in (("chromium", chromium), ("chromium-driver", chromedriver)) if not Path(path).exists()
    ]
    if not packages:
        return None
    said = {
        ("chromium",): f"chromium is not installed: no {chromium}",
        ("chromium-driver",): f"chromium-driver is not installed: no {chromedriver}",
        (
            "chromium",
            "chromium-driver",
        ): f"chromium and chromium-driver are not installed: no {chromium}, no {chromedriver}",
    }[tuple(packages)]
    return f"{said} (as root: apt-get install {' '.join(packages)})"


requires_browser = pytest.mark.skipif(browser_missing() is not None, reason=browser_missing() or "")


@contextmanager
def chromium(downloads: Path | None = None, flags: tuple[str, ...] = ()) -> Iterator[Any]:
    """A fresh headless Chromium (its own profile directory, removed afterwards), with ``flags``
    besides the usual ones."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="mockfiles-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (*FLAGS, *flags):
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={profile}")
    if downloads is not None:
        options.add_experimental_option(
            "prefs", {"download.default_directory": str(downloads), "download.prompt_for_download": False}
        )
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)
