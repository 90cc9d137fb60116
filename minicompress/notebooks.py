"""Turn the percent-format tutorials into Jupyter notebooks, with no dependency beyond json.

A percent-format script splits into cells at lines that start with ``# %%``; a header
``# %% [markdown]`` makes a text cell whose lines drop their leading ``# ``. Jupyter (with
jupytext), VS Code and PyCharm open the scripts as they are; this writes ``.ipynb`` files (nbformat
4.5, no outputs) for everything else. ``minicompress notebooks [--out DIR]`` runs it.
"""
from __future__ import annotations

import json
from pathlib import Path

from minicompress.files import atomic_write

NBFORMAT, NBFORMAT_MINOR = 4, 5


def parse_cells(text: str) -> list[tuple[str, str]]:
    """[(kind, source)] for a percent-format script; kind is "code" or "markdown"."""
    cells, kind, lines = [], "code", []

    def close():
        source = "\n".join(lines).strip("\n")
        if source:
            cells.append((kind, source))

    for line in text.splitlines():
        if line.startswith("# %%"):
            close()
            kind, lines = ("markdown" if "[markdown]" in line else "code"), []
        elif kind == "markdown":
            lines.append(line[2:] if line.startswith("# ") else line.lstrip("#"))
        else:
            lines.append(line)
    close()
    return cells


def to_notebook(text: str, name: str = "tutorial") -> dict:
    """The nbformat 4.5 JSON structure of a percent-format script."""
    cells = []
    for k, (kind, source) in enumerate(parse_cells(text)):
        cell = {"cell_type": kind, "id": f"{name[:40]}-{k}", "metadata": {},
                "source": source.splitlines(keepends=True)}
        if kind == "code":
            cell.update(execution_count=None, outputs=[])
        cells.append(cell)
    metadata = {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
                "language_info": {"name": "python"}}
    return {"cells": cells, "metadata": metadata, "nbformat": NBFORMAT,
            "nbformat_minor": NBFORMAT_MINOR}


def convert(scripts, out_dir) -> list[Path]:
    """Write one ``.ipynb`` per script into ``out_dir``; return their paths."""
    out_dir, written = Path(out_dir), []
    for script in map(Path, scripts):
        notebook = to_notebook(script.read_text(encoding="utf-8"), script.stem)
        path = out_dir / (script.stem + ".ipynb")
        with atomic_write(path, "w") as f:
            json.dump(notebook, f, indent=1, ensure_ascii=False)
            f.write("\n")
        written.append(path)
    return written


def tutorial_scripts(folder=None) -> list[Path]:
    """The numbered tutorials (``NN_name.py``) in ``folder`` (default: the repository's)."""
    folder = Path(folder) if folder else Path(__file__).resolve().parents[1] / "tutorials"
    if not folder.is_dir():
        raise FileNotFoundError(f"no tutorials folder at {folder}; pass the folder that holds "
                                f"the NN_*.py tutorials")
    return sorted(folder.glob("[0-9][0-9]_*.py"))
