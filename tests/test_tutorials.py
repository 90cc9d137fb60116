"""Every tutorial runs as a plain script in quick mode and its own asserts hold."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

TUTORIALS = sorted((Path(__file__).resolve().parents[1] / "tutorials").glob("[0-9][0-9]_*.py"))


@pytest.mark.parametrize("script", TUTORIALS, ids=lambda p: p.stem)
def test_tutorial_runs_in_quick_mode(script, tmp_path):
    env = dict(os.environ, MINICOMPRESS_QUICK="1", MPLBACKEND="Agg",
               MINICOMPRESS_DATA=str(tmp_path / "data"))
    result = subprocess.run([sys.executable, str(script)], cwd=tmp_path, env=env,
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]


def test_tutorials_exist():
    assert len(TUTORIALS) >= 2
