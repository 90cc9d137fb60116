"""The percent-format tutorials convert to valid nbformat-4.5 notebooks that keep all the code."""
import json
import re

from minicompress.cli import main
from minicompress.notebooks import parse_cells, to_notebook, tutorial_scripts

SCRIPT = '''# %% [markdown]
# # Title
#
# Some *text*.

# %%
import numpy as np
x = np.ones(3)

# %%
print(x)  # %% inside a line is not a cell break
'''


def test_parse_cells():
    assert parse_cells(SCRIPT) == [("markdown", "# Title\n\nSome *text*."),
                                   ("code", "import numpy as np\nx = np.ones(3)"),
                                   ("code", "print(x)  # %% inside a line is not a cell break")]


def check_valid(notebook: dict) -> None:
    """The parts of the nbformat 4.5 schema a notebook reader relies on."""
    assert notebook["nbformat"] == 4 and notebook["nbformat_minor"] == 5
    assert notebook["metadata"]["kernelspec"]["name"] == "python3"
    ids = [cell["id"] for cell in notebook["cells"]]
    assert len(set(ids)) == len(ids) and all(re.fullmatch(r"[a-zA-Z0-9-_]{1,64}", i) for i in ids)
    for cell in notebook["cells"]:
        assert cell["cell_type"] in ("code", "markdown") and isinstance(cell["metadata"], dict)
        assert isinstance(cell["source"], list) and all(isinstance(s, str) for s in cell["source"])
        if cell["cell_type"] == "code":
            assert cell["outputs"] == [] and cell["execution_count"] is None
        else:
            assert "outputs" not in cell


def test_every_tutorial_converts(tmp_path, capsys):
    scripts = tutorial_scripts()
    assert main(["notebooks", "--out", str(tmp_path)]) == 0
    for script in scripts:
        notebook = json.loads((tmp_path / f"{script.stem}.ipynb").read_text())
        check_valid(notebook)
        code = "".join("".join(c["source"]) + "\n" for c in notebook["cells"]
                       if c["cell_type"] == "code")
        compile(code, script.name, "exec")  # still valid Python
        statements = lambda text: [l for l in text.splitlines() if l.strip() and not l.lstrip().startswith("#")]  # noqa: E731
        assert statements(code) == statements(script.read_text())  # no line of code lost
    assert to_notebook(SCRIPT)["cells"][0]["cell_type"] == "markdown"


def test_missing_folder_is_an_error(tmp_path, capsys):
    assert main(["notebooks", "--tutorials", str(tmp_path / "nope")]) == 1
    assert "no tutorials folder" in capsys.readouterr().err
