"""The documented Node example (tests/node/serve.test.mjs), run as a user runs it: ``node --test``
starting ``mockfiles serve`` itself and waiting for its ready file."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.support.node_clients import HERE, NODE, requires_node


@requires_node
def test_the_node_example_passes_under_node_test() -> None:
    assert NODE is not None
    scripts = Path(sys.executable).parent  # where pip put the mockfiles command
    env = {**os.environ, "PATH": f"{scripts}{os.pathsep}{os.environ.get('PATH', '')}"}
    done = subprocess.run(
        [NODE, "--test", "serve.test.mjs"], cwd=HERE, env=env, capture_output=True, text=True, timeout=180
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "# pass 2" in done.stdout and "# fail 0" in done.stdout
