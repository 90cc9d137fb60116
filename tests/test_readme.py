"""The README's numbers come from the committed results: every generated table is current."""
import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def readme_tables():
    spec = importlib.util.spec_from_file_location("readme_tables", ROOT / "scripts" / "readme_tables.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_readme_tables_are_generated_from_the_committed_results():
    tables = readme_tables()
    text = (ROOT / "README.md").read_text()
    assert tables.blocks(text), "README.md has no generated table"
    for files in tables.blocks(text):
        for name in files.split():
            assert (ROOT / name).is_file(), f"README table reads {name}, which is not committed"
    assert tables.regenerate(text) == text, "README tables are out of date: run python scripts/readme_tables.py"


def test_a_hand_edited_number_is_caught(tmp_path):
    tables = readme_tables()
    text = (ROOT / "README.md").read_text()
    files = tables.blocks(text)[0]
    table = tables.table_for(files)
    edited = text.replace(table, table.replace("|", "| 1", 1), 1)
    assert edited != text and tables.regenerate(edited) == text


def test_a_missing_results_file_is_an_error(tmp_path):
    tables = readme_tables()
    with pytest.raises(OSError):
        tables.table_for("minicompress/results/no_such_file.json")
