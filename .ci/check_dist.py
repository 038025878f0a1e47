"""The release check: build the sdist and the wheel as a release would, check their metadata as PyPI
would (twine check --strict), check what each holds, then install the wheel alone into a fresh venv
and use it there: the command, the pytest plugin's entry point, the console, the example scenarios
(checked by their installed paths and by their names).

    python .ci/check_dist.py [--keep DIR]

Exits non-zero, saying what is wrong, on the first problem. Needs `build` and `twine` (the dev extra).
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tarfile
import tempfile
import venv
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE_DATA = (  # what the package reads at run time, besides its modules
    "mockfiles/py.typed",
    "mockfiles/scenarios/schema.json",
    "mockfiles/web/openapi.json",
    "mockfiles/retries/cases.json",
    "mockfiles/web/control/console/index.html",
    "mockfiles/web/control/console/console.js",
    "mockfiles/web/control/console/console.css",
)
SDIST_FILES = (
    "LICENSE",
    "README.md",
    "pyproject.toml",
    "conftest_plugin.py",
    "docs/console.md",
    "tests/conftest.py",
    "tests/support/helpers.py",
)

SMOKE = """
import importlib.metadata as metadata
import sys
import urllib.request
from importlib import resources
from pathlib import Path

import mockfiles
from mockfiles import MockFilesServer

assert "site-packages" in mockfiles.__file__, mockfiles.__file__  # the installed wheel, not a checkout
plugins = {e.name: e.value for e in metadata.entry_points(group="pytest11")}
assert plugins.get("mockfiles") == "conftest_plugin", plugins
scripts = {e.name: e.value for e in metadata.entry_points(group="console_scripts")}
assert scripts.get("mockfiles") == "mockfiles.cli:main", scripts
with MockFilesServer() as server:
    page = urllib.request.urlopen(server.url + "/_mockfiles/").read().decode()
    assert "mockfiles console" in page, page[:200]
    script = urllib.request.urlopen(server.url + "/_mockfiles/console.js").read()
    assert script == resources.files("mockfiles.web.control").joinpath("console/console.js").read_bytes()
print("\\n".join(sorted(str(p) for p in Path(mockfiles.__file__).parent.rglob("*.yaml"))))
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", type=Path, help="build into DIR and keep it (default: a temporary directory)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="mockfiles-dist-") as scratch:
        out = args.keep or Path(scratch) / "dist"
        try:
            check(out, Path(scratch))
        except Problem as exc:
            print(f"check_dist: {exc}", file=sys.stderr)
            return 1
    return 0


class Problem(Exception):
    pass


def run(*command: str | Path, cwd: Path = ROOT) -> str:
    done = subprocess.run([str(c) for c in command], cwd=cwd, capture_output=True, text=True)
    if done.returncode != 0:
        raise Problem(f"{' '.join(map(str, command))} failed:\n{done.stdout[-4000:]}{done.stderr[-4000:]}")
    return done.stdout


def check(out: Path, scratch: Path) -> None:
    found = re.search(r'^version = "([^"]+)"', (ROOT / "pyproject.toml").read_text(), re.MULTILINE)
    if found is None:
        raise Problem("pyproject.toml names no version")
    version = found.group(1)
    run(sys.executable, "-m", "build", "--outdir", out, ROOT)
    wheel, sdist = out / f"mockfiles-{version}-py3-none-any.whl", out / f"mockfiles-{version}.tar.gz"
    for built in (wheel, sdist):
        if not built.is_file():
            raise Problem(f"{built.name} was not built (found: {sorted(p.name for p in out.iterdir())})")
    run(sys.executable, "-m", "twine", "check", "--strict", wheel, sdist)
    print(f"built and checked: {wheel.name}, {sdist.name}")

    with zipfile.ZipFile(wheel) as archive:
        held = set(archive.namelist())
    shipped = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "mockfiles").rglob("*.yaml"))  # the example scenarios
    if not shipped:
        raise Problem("the package ships no example scenarios (mockfiles/**/*.yaml)")
    modules = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "mockfiles").rglob("*.py"))
    wanted = [
        *PACKAGE_DATA,
        *shipped,
        *modules,
        "conftest_plugin.py",
        f"mockfiles-{version}.dist-info/licenses/LICENSE",
    ]
    missing = [name for name in wanted if name not in held]
    if missing:
        raise Problem(f"the wheel lacks {', '.join(missing)}")
    print(f"the wheel holds the console, its data, {len(shipped)} example scenarios and {len(modules)} modules")

    with tarfile.open(sdist) as archive:
        names = {name.split("/", 1)[1] for name in archive.getnames() if "/" in name}
    missing = [name for name in (*SDIST_FILES, *shipped) if name not in names]
    if missing:
        raise Problem(f"the sdist lacks {', '.join(missing)}")
    if any("node_modules" in name or "__pycache__" in name for name in names):
        raise Problem("the sdist holds node_modules or __pycache__")

    env_dir = scratch / "venv"
    venv.create(env_dir, with_pip=True)
    python = env_dir / "bin" / "python"
    run(python, "-m", "pip", "install", "--quiet", wheel, cwd=scratch)
    shown = run(env_dir / "bin" / "mockfiles", "--version", cwd=scratch).strip()
    if shown != f"mockfiles {version}":
        raise Problem(f"mockfiles --version said {shown!r}")
    installed = run(python, "-c", SMOKE, cwd=scratch).split()
    if len(installed) != len(shipped):
        raise Problem(f"the installed package holds {len(installed)} scenarios, its source {len(shipped)}")
    run(env_dir / "bin" / "mockfiles", "check", *installed, *(Path(name).stem for name in shipped), cwd=scratch)
    print(
        "installed alone in a fresh venv: the command, the plugin, the console; "
        f"{len(installed)} example scenarios valid, by path and by name"
    )


if __name__ == "__main__":
    sys.exit(main())
