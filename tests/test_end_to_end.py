"""As a newcomer would: a fresh virtual environment, the README's main command, offline data.

Marked slow: creating the environment installs NumPy, SciPy and matplotlib from the package
registry, which takes a minute or more. Run it with ``python -m pytest -m slow``.
"""
import os
import shutil
import subprocess
import venv
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def readme_command(marker: str) -> str:
    """The command on the line after ``marker``'s code fence in README.md."""
    lines = (REPO / "README.md").read_text().splitlines()
    return lines[lines.index(marker) + 2].strip()


@pytest.mark.slow
def test_readme_main_command_in_a_fresh_environment(tmp_path):
    command = readme_command("<!-- run-command -->")
    assert command.startswith("pip install -e . && minicompress ")
    tracked = subprocess.run(["git", "ls-files"], cwd=REPO, capture_output=True, text=True,
                             check=True).stdout.split()
    checkout = tmp_path / "minicompress"
    for name in tracked:  # a clean copy of the repository, as a newcomer clones it
        (checkout / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO / name, checkout / name)
    venv.create(tmp_path / "venv", with_pip=True)
    bin_dir = tmp_path / "venv" / ("Scripts" if os.name == "nt" else "bin")
    env = dict(os.environ, PATH=f"{bin_dir}{os.pathsep}{os.environ['PATH']}", MPLBACKEND="Agg")
    env.pop("MINICOMPRESS_DATA", None)
    result = subprocess.run(command, shell=True, cwd=checkout, env=env, capture_output=True,
                            text=True, timeout=3600)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert (checkout / "out" / "results.json").is_file()
    assert "Scorecard: minicompress reproduce all --quick" in result.stdout  # the main job's face
    assert "headline claims hold" in result.stdout and "ERROR" not in result.stdout
