"""Report: what every paper's ``reproduce()`` returns, prints and a test can check.

>>> report = Report("Magnitude pruning", rows=[dict(method="global", compression=10.0, accuracy=0.97)])
>>> print(report.table())   # doctest: +SKIP
"""
from __future__ import annotations

import io
from dataclasses import dataclass, field
from pathlib import Path

from minicompress.bench import print_table


@dataclass
class Report:
    """The numbers a reproduction measured.

    Attributes
    ----------
    title : str
    rows : list of dict
        One per method / setting; numeric columns (a row may lack a column another has).
    figures : list of Path
        Files written (PNG).
    notes : list of str
        Claims checked and their outcome, data used, deviations.
    """

    title: str
    rows: list[dict] = field(default_factory=list)
    figures: list[Path] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def table(self) -> str:
        """The rows as a plain-text table (columns in order of first appearance), then notes."""
        out = io.StringIO()
        if self.rows:
            keys = list(dict.fromkeys(k for row in self.rows for k in row))
            print_table([{k: row.get(k, "") for k in keys} for row in self.rows], self.title, out)
        else:
            print(self.title, file=out)
        for note in self.notes:
            print(f"- {note}", file=out)
        return out.getvalue()

    def __str__(self) -> str:
        return self.table()
