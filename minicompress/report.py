"""Report: what every paper's ``reproduce()`` returns, prints and a test can check.

>>> report = Report("Magnitude pruning", rows=[dict(method="global", compression=10.0, accuracy=0.97)])
>>> print(report.table())   # doctest: +SKIP
"""
from __future__ import annotations

import argparse
import io
import sys
from dataclasses import dataclass, field
from pathlib import Path

from minicompress.bench import print_table
from minicompress.files import atomic_write


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


def verdict(holds: bool) -> str:
    """How a Report note states a checked claim."""
    return "holds" if holds else "does NOT hold"


def say(tag: str, verbose: bool, text: str) -> None:
    """Progress of a long reproduction on stderr, as ``[tag] text`` (nothing if not verbose)."""
    if verbose:
        print(f"[{tag}] {text}", file=sys.stderr, flush=True)


def save_figure(fig, path) -> Path:
    """Write a matplotlib ``Figure`` as a PNG (100 dpi), atomically; return the path."""
    path = Path(path)
    with atomic_write(path) as stream:
        fig.savefig(stream, format="png", dpi=100)
    return path


def command_line(reproduce, doc: str, argv=None) -> Report:
    """``python -m minicompress.papers.<file>``: the options every paper file shares, then its
    ``reproduce``. ``doc`` is the module docstring (its first paragraph is the description)."""
    parser = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="the small, fast setting")
    parser.add_argument("--seed", type=int, default=0, help="first seed (default 0)")
    parser.add_argument("--data", default=None,
                        help="synth_digits (default), mnist, fashion_mnist or mnist_test_split")
    parser.add_argument("--data-dir", default=None, help="folder with the dataset's files")
    parser.add_argument("--no-verify", action="store_true",
                        help="read local files whatever their checksum (known provenance only)")
    parser.add_argument("--out", default=None, help="folder for the figures")
    args = parser.parse_args(argv)
    return reproduce(quick=args.quick, seed=args.seed, data=args.data, out_dir=args.out,
                     data_dir=args.data_dir, verify=not args.no_verify)
