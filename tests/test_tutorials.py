"""Every tutorial runs as a student runs it: at its default size, as a plain script, and its own
asserts hold. The slow suite also runs each with other seeds (``MINICOMPRESS_SEED``, which every
tutorial that draws randomness reads) and as a notebook in a real Jupyter kernel (needs the
``notebooks`` extra: nbclient and ipykernel)."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

TUTORIALS = sorted((Path(__file__).resolve().parents[1] / "tutorials").glob("[0-9][0-9]_*.py"))


def environment(tmp_path, seed=None) -> dict:
    env = dict(os.environ, MPLBACKEND="Agg", MINICOMPRESS_DATA=str(tmp_path / "data"))
    env.pop("MINICOMPRESS_QUICK", None)
    if seed is not None:
        env["MINICOMPRESS_SEED"] = str(seed)
    return env


def run_script(script: Path, tmp_path, seed=None) -> None:
    result = subprocess.run([sys.executable, str(script)], cwd=tmp_path, env=environment(tmp_path, seed),
                            capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]


@pytest.mark.parametrize("script", TUTORIALS, ids=lambda p: p.stem)
def test_tutorial_runs_at_its_default_size(script, tmp_path):
    run_script(script, tmp_path)


@pytest.mark.slow
@pytest.mark.parametrize("seed", [1, 2])
@pytest.mark.parametrize("script", TUTORIALS, ids=lambda p: p.stem)
def test_tutorial_holds_for_other_seeds(script, seed, tmp_path):
    run_script(script, tmp_path, seed)


@pytest.mark.slow
@pytest.mark.parametrize("script", TUTORIALS, ids=lambda p: p.stem)
def test_tutorial_runs_as_a_notebook_in_a_real_kernel(script, tmp_path, monkeypatch):
    nbclient = pytest.importorskip("nbclient", reason="needs the notebooks extra: pip install -e .[notebooks]")
    import nbformat  # installed with nbclient

    from minicompress.notebooks import to_notebook
    for key, value in environment(tmp_path).items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("MINICOMPRESS_QUICK", raising=False)
    notebook = nbformat.reads(json.dumps(to_notebook(script.read_text(), script.stem)), as_version=4)
    nbclient.NotebookClient(notebook, timeout=900, kernel_name="python3",
                            resources={"metadata": {"path": str(tmp_path)}}).execute()
    errors = [o for c in notebook.cells if c.cell_type == "code" for o in c.get("outputs", [])
              if o.get("output_type") == "error"]
    assert not errors


def test_tutorials_exist():
    assert len(TUTORIALS) >= 2
