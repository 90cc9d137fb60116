"""Regenerate the README's tables from the committed results, so that no number is copied by hand.

A generated block in README.md is

    <!-- generated: minicompress results FILE... --markdown -->
    | the table that command prints |
    <!-- end generated -->

``python scripts/readme_tables.py`` rewrites every such block in place; ``--check`` only says
whether the README is current (``tests/test_readme.py`` runs the same comparison).
"""
from __future__ import annotations

import re
import sys
from pathlib import Path

from minicompress.report import merge_results, read_results, survey_table

ROOT = Path(__file__).resolve().parent.parent
BLOCK = re.compile(r"(<!-- generated: minicompress results (?P<files>[^>]*?) --markdown -->\n)"
                   r"(?P<table>.*?)(<!-- end generated -->)", re.S)


def table_for(files: str, root: Path = ROOT) -> str:
    """The survey table ``minicompress results FILES --markdown`` prints (run from ``root``)."""
    return survey_table(merge_results([read_results(root / f) for f in files.split()]))


def regenerate(text: str, root: Path = ROOT) -> str:
    """README text with every generated block replaced by its command's current output."""
    return BLOCK.sub(lambda m: m.group(1) + table_for(m.group("files"), root) + "\n" + m.group(4), text)


def blocks(text: str) -> list[str]:
    """The FILE lists of the generated blocks, in order."""
    return [m.group("files") for m in BLOCK.finditer(text)]


if __name__ == "__main__":
    readme = ROOT / "README.md"
    old = readme.read_text()
    new = regenerate(old)
    if "--check" in sys.argv:
        print("README tables are current" if new == old else "README tables are out of date")
        sys.exit(new != old)
    readme.write_text(new)
    print(f"regenerated {len(blocks(new))} tables in {readme}")
