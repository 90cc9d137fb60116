"""Report and Claim: what every ``reproduce()`` returns, and what ``results.json`` holds.

A reproduction measures numbers (``Report.rows``) and checks the paper's statements against
them (``Report.claims``). Each checked statement is a :class:`Claim`: a stable key, the
statement in words, whether it is one of the paper's own headline claims, whether it held, what
was measured and what the paper reported.

>>> claim = Claim("obd.mlp.below_magnitude", "OBD's objective is below magnitude's at every level",
...               headline=True, holds=True, measured="9 of 9 levels", paper="Fig. 1a")
>>> report = Report("Optimal Brain Damage", rows=[dict(method="OBD", deleted=0.5)], claims=[claim])
>>> report.to_dict()["claims"][0]["holds"]
True
"""
from __future__ import annotations

import io
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path

from minicompress.bench import print_table


@dataclass
class Claim:
    """One checked statement of a paper (or one of our contrasts) and its outcome.

    Attributes
    ----------
    key : str
        Stable identifier, ``"<paper>.<network or experiment>.<what>"``, e.g.
        ``"obd.mlp.below_magnitude"``; claims of several seeds are merged by key.
    text : str
        The claim in words, with its threshold ("within 0.5 points of float32").
    headline : bool
        True for the paper's own headline claims (its card's "Reproduced if"), False for our
        contrasts and extra observations.
    holds : bool
        Whether it held. A claim whose measurement is not finite does not hold.
    measured : str
        The number(s) it was decided on, in words.
    paper : str
        What the paper reported, and where ("Table 1: 1.64% → 1.59%").
    seeds : tuple of int, int or None
        (held, run): in how many of the seeds that were run it held. An int n means n seeds,
        all held if ``holds`` else none; None (the default) means one seed.
    """

    key: str
    text: str
    headline: bool
    holds: bool
    measured: str = ""
    paper: str = ""
    seeds: tuple | int | None = None

    def __post_init__(self):
        if not isinstance(self.key, str) or not self.key:
            raise ValueError(f"Claim.key: expected a non-empty str, got {self.key!r}")
        self.holds = bool(self.holds)
        self.headline = bool(self.headline)
        if self.seeds is None:
            self.seeds = 1
        if isinstance(self.seeds, int):
            self.seeds = (self.seeds if self.holds else 0, self.seeds)
        held, run = (int(s) for s in self.seeds)
        if not 0 <= held <= run:
            raise ValueError(f"Claim.seeds: expected (held, run) with 0 <= held <= run, got {self.seeds!r}")
        self.seeds = (held, run)

    @classmethod
    def from_dict(cls, d: dict) -> "Claim":
        """The Claim that ``to_dict()`` (or results.json) wrote."""
        return cls(**{k: d[k] for k in ("key", "text", "headline", "holds", "measured", "paper")},
                   seeds=tuple(d["seeds"]) if d.get("seeds") is not None else None)

    def to_dict(self) -> dict:
        return dict(asdict(self), seeds=list(self.seeds))

    def status(self) -> str:
        """"holds", "does not hold", or "k of n seeds" when it held in some seeds only."""
        held, run = self.seeds
        if run > 1 and 0 < held < run:
            return f"{held} of {run} seeds"
        return ("holds" if self.holds else "does not hold") + (f" ({held}/{run} seeds)" if run > 1 else "")


def merge_claims(runs: list[list[Claim]]) -> list[Claim]:
    """The claims of several runs (e.g. one per seed) merged by key: held and run seeds add up;
    a merged claim holds if it held in every run; ``measured`` lists the runs' values if they
    differ. Keys keep the order of their first appearance."""
    by_key: dict[str, list[Claim]] = {}
    for claims in runs:
        for claim in claims:
            by_key.setdefault(claim.key, []).append(claim)
    merged = []
    for key, group in by_key.items():
        first = group[0]
        held = sum(c.seeds[0] for c in group)
        run = sum(c.seeds[1] for c in group)
        measured = list(dict.fromkeys(c.measured for c in group))
        merged.append(Claim(key, first.text, first.headline, all(c.holds for c in group),
                            measured[0] if len(measured) == 1 else " | ".join(measured),
                            first.paper, (held, run)))
    return merged


@dataclass
class Report:
    """The numbers a reproduction measured, and the claims it checked on them.

    Attributes
    ----------
    title : str
    rows : list of dict
        One per method / setting; numeric columns (a row may lack a column another has).
    figures : list of Path
        Files written (PNG).
    notes : list of str
        Facts about the data and the settings (never a verdict: those are ``claims``).
    claims : list of Claim
    data : str
        The dataset the numbers were measured on.
    """

    title: str
    rows: list[dict] = field(default_factory=list)
    figures: list[Path] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    claims: list[Claim] = field(default_factory=list)
    data: str = ""

    def table(self) -> str:
        """The rows as a plain-text table (columns in order of first appearance), then the
        notes, then the claims."""
        out = io.StringIO()
        if self.rows:
            keys = list(dict.fromkeys(k for row in self.rows for k in row))
            print_table([{k: row.get(k, "") for k in keys} for row in self.rows], self.title, out)
        else:
            print(self.title, file=out)
        for note in self.notes:
            print(f"- {note}", file=out)
        for claim in self.claims:
            tag = "headline" if claim.headline else "contrast"
            print(f"- [{tag}] {claim.text}: {claim.status().upper()} ({claim.measured})"
                  + (f"; paper: {claim.paper}" if claim.paper else ""), file=out)
        return out.getvalue()

    def __str__(self) -> str:
        return self.table()

    def markdown(self) -> str:
        """The whole report as Markdown: title, claims, notes, the table, the figures."""
        lines = [f"# {self.title}", ""]
        if self.claims:
            lines += ["| claim | headline | outcome | measured | paper |", "|---|---|---|---|---|"]
            lines += [f"| {_cell(c.text)} | {'yes' if c.headline else ''} | {c.status()} | "
                      f"{_cell(c.measured)} | {_cell(c.paper)} |" for c in self.claims]
            lines.append("")
        lines += [f"- {note}" for note in self.notes]
        if self.rows:
            keys = list(dict.fromkeys(k for row in self.rows for k in row))
            lines += ["", "| " + " | ".join(keys) + " |", "|" + "---|" * len(keys)]
            lines += ["| " + " | ".join(_cell(_format(row.get(k, ""))) for k in keys) + " |"
                      for row in self.rows]
        lines += [""] + [f"![{Path(f).name}]({Path(f).name})" for f in self.figures]
        return "\n".join(lines) + "\n"

    def to_dict(self) -> dict:
        """Plain, strict-JSON data: NumPy values become Python ones, NaN and ±inf become None."""
        return strict(dict(title=self.title, data=self.data, rows=self.rows,
                           figures=[str(f) for f in self.figures], notes=self.notes,
                           claims=[c.to_dict() for c in self.claims]))


def strict(value):
    """``value`` with NumPy scalars/arrays turned into Python values and every non-finite float
    into None, recursively, so that ``json.dumps(..., allow_nan=False)`` accepts it."""
    if isinstance(value, dict):
        return {str(k): strict(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [strict(v) for v in value]
    if hasattr(value, "tolist") and not isinstance(value, (str, bytes)):  # NumPy scalar or array
        return strict(value.tolist())
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, (bool, int, str)) or value is None:
        return value
    if isinstance(value, Path):
        return str(value)
    return str(value)


def _format(value) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def _cell(text) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


# ----- results.json: the scorecard and the README's survey table ----------------------------------
def read_results(path) -> dict:
    """A results.json written by ``minicompress reproduce``, checked for the fields it needs."""
    import json
    text = Path(path).read_text()
    try:
        results = json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as err:
        raise ValueError(f"{path}: not valid JSON ({err})") from None
    if not isinstance(results, dict) or not isinstance(results.get("papers"), dict):
        raise ValueError(f"{path}: expected a results.json of `minicompress reproduce` (an object "
                         f"with 'papers'), got {type(results).__name__} without it")
    return results


def merge_results(files: list[dict]) -> dict:
    """Several results.json (each a dict from :func:`read_results`) as one: every paper keeps the
    command, data and seeds of the run that made it; a paper present twice is an error."""
    if len(files) == 1:
        return files[0]
    merged = dict(minicompress=files[0].get("minicompress", ""), command="several runs (see each paper)",
                  quick=all(f.get("quick") for f in files), data="", seeds=[], papers={})
    for results in files:
        for name, paper in results["papers"].items():
            if name in merged["papers"]:
                raise ValueError(f"paper {name!r} is in more than one of the results files")
            merged["papers"][name] = dict(paper, command=paper.get("command", results.get("command", "")),
                                          seeds=paper.get("seeds", results.get("seeds", [])))
    return merged


def _reject_constant(name):
    raise ValueError(f"non-standard JSON constant {name}")


def scorecard(results: dict, width: int = 118) -> str:
    """One screen: a line per headline claim (paper, claim, measured, outcome), then a count of
    the other claims and any paper that failed to run."""
    seeds = results.get("seeds") or []
    papers = len(results["papers"])
    head = (f"Scorecard: {results.get('command', 'minicompress reproduce')} — "
            f"{papers} paper{'' if papers == 1 else 's'}, data {results.get('data') or 'each paper’s default'}, "
            + (f"seed{'s' if len(seeds) > 1 else ''} {_seed_text(seeds)}" if seeds else "each paper’s seeds")
            + (f", {results['seconds']:.0f} s" if "seconds" in results else ""))
    lines, others, others_held, errors = [head, ""], 0, 0, []
    name_w, outcome_w = 16, 16
    text_w = (width - name_w - outcome_w - 6) * 3 // 5
    measured_w = width - name_w - outcome_w - text_w - 6
    lines.append(f"{'paper':<{name_w}}  {'headline claim':<{text_w}}  {'measured':<{measured_w}}  outcome")
    for name, paper in results["papers"].items():
        if paper.get("error"):
            errors.append(f"{name}: ERROR {paper['error']}")
            continue
        for c in paper["claims"]:
            claim = Claim.from_dict(c)
            if not claim.headline:
                others += 1
                others_held += claim.holds
                continue
            lines.append(f"{_cut(name, name_w):<{name_w}}  {_cut(claim.text, text_w):<{text_w}}  "
                         f"{_cut(claim.measured, measured_w):<{measured_w}}  {claim.status()}")
    headline = [c for p in results["papers"].values() for c in p["claims"] if c["headline"]]
    lines += ["", f"{sum(c['holds'] for c in headline)} of {len(headline)} headline claims hold; "
                  f"other claims (our contrasts): {others_held} of {others} hold."]
    lines += errors
    return "\n".join(lines)


def survey_table(results: dict) -> str:
    """The README's survey table, generated from a results.json: one row per headline claim, the
    paper's section, name, command, data and seeds on its first row; ``measured`` is the first
    seed's (every seed's is in the results file), ``held`` in how many seeds the claim held."""
    lines = ["| survey section | paper | command | data, seeds | headline claim | measured (first seed) | held |",
             "|---|---|---|---|---|---|---|"]
    for name, paper in results["papers"].items():
        seeds = paper.get("seeds") or results.get("seeds") or []
        first = [paper["section"], paper["paper"], f"`{name}`",
                 f"{paper.get('data') or results.get('data') or 'default'}, {_seed_text(seeds) or '-'}"]
        if paper.get("error"):
            lines.append("| " + " | ".join(first) + f" | error: {_cell(paper['error'])} | | |")
            continue
        claims = [Claim.from_dict(c) for c in paper["claims"] if c["headline"]]
        for i, c in enumerate(claims):
            cells = first if i == 0 else ["", "", "", ""]
            measured = c.measured.split(" | ")[0]  # merge_claims joins the seeds' values with " | "
            lines.append("| " + " | ".join(cells + [_cell(c.text), _cell(measured), f"{c.seeds[0]}/{c.seeds[1]}"]) + " |")
    return "\n".join(lines)


def _seed_text(seeds) -> str:
    if len(seeds) > 2 and list(seeds) == list(range(seeds[0], seeds[-1] + 1)):
        return f"{seeds[0]}-{seeds[-1]}"
    return ",".join(str(s) for s in seeds)


def _cut(text: str, width: int) -> str:
    text = str(text).replace("\n", " ")
    return text if len(text) <= width else text[:width - 1] + "…"
