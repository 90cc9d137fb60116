"""The ``minicompress`` command (also ``python -m minicompress``).

    minicompress list                 the survey's methods, by section, and where they live
    minicompress reproduce NAME       run a paper's reproduction (--quick, --seed(s), --data, --out)
    minicompress reproduce all        run them all: a progress line each, then the scorecard;
                                      out/results.json and out/<name>/report.md
    minicompress results FILE         a results.json as the scorecard (--markdown: the README table)
    minicompress demo                 train LeNet-300-100 on the offline synthetic digits
    minicompress bench engine         our training step vs PyTorch's (if installed), as ratios
    minicompress bench curvature      second-order passes vs one gradient pass, as ratios
    minicompress bench quant          rounding kernels vs their float32 floors, as ratios
    minicompress bench obs            layer-wise Optimal Brain Surgeon, kernel vs loop
    minicompress data list|fetch|show the datasets
    minicompress notebooks            the tutorials as Jupyter notebooks (.ipynb)
    minicompress course list|show|starter|check|grade   exercises for courses, checked and graded
"""
from __future__ import annotations

import argparse
import contextlib
import importlib
import importlib.util
import inspect
import json
import os
import shlex
import sys
import time
import traceback
from pathlib import Path

from minicompress import __version__
from minicompress.files import atomic_write
from minicompress.report import (Claim, Report, merge_claims, merge_results, read_results, scorecard,
                                 strict, survey_table)
from minicompress.reproductions import REPRODUCTIONS, find


def cmd_list(args) -> int:
    """``minicompress list``: every reproduction by survey section, its two files and status."""
    rows = [("command", "survey section", "paper", "method", "experiments", "status")]
    for entry in REPRODUCTIONS:
        rows.append((entry.command, entry.section, entry.paper, f"papers/{entry.module}.py",
                     f"reproductions/{entry.module}.py",
                     "available" if available(entry.module) else "planned"))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip())
    return 0


def available(module: str) -> bool:
    """Does ``minicompress/reproductions/<module>.py`` exist?"""
    return importlib.util.find_spec(f"minicompress.reproductions.{module}") is not None


def parse_seeds(text: str | None, first: int) -> list[int]:
    """``--seeds``: "N" (N seeds from ``first``), "A-B" (A to B inclusive) or "A,B,C"."""
    if text is None:
        return [first]
    try:
        if "-" in text:
            low, high = (int(t) for t in text.split("-"))
            seeds = list(range(low, high + 1))
        elif "," in text:
            seeds = [int(t) for t in text.split(",")]
        else:
            seeds = list(range(first, first + int(text)))
    except ValueError:
        seeds = []
    if not seeds or min(seeds) < 0:
        raise ValueError(f"--seeds: expected N, A-B or A,B,C of non-negative seeds, got {text!r}")
    return seeds


def run_one(entry, args, seed: int, out_dir: Path, verbose: bool):
    """Import a reproduction and run it for one seed; returns (Report, seconds)."""
    module = importlib.import_module(f"minicompress.reproductions.{entry.module}")
    options = dict(quick=args.quick, seed=seed, data=args.data, out_dir=out_dir,
                   data_dir=args.data_dir, verify=not args.no_verify)
    if "verbose" in inspect.signature(module.reproduce).parameters:
        options["verbose"] = verbose
    start = time.perf_counter()
    report = module.reproduce(**options)
    return report, time.perf_counter() - start


def run_seeds(entry, args, seeds: list[int], out_dir: Path, verbose: bool) -> dict:
    """Every seed of one reproduction; its entry of results.json (claims merged over seeds)."""
    result = dict(section=entry.section, paper=entry.paper, module=entry.module, seeds=seeds,
                  seconds=0.0, error=None, title="", data=args.data or "", rows=[], notes=[],
                  figures=[], claims=[])
    reports = []
    for seed in seeds:
        folder = out_dir / f"seed{seed}" if len(seeds) > 1 else out_dir
        report, seconds = run_one(entry, args, seed, folder, verbose)
        reports.append(report)
        result["seconds"] += seconds
        result["rows"] += [dict(seed=seed, **row) if len(seeds) > 1 else row for row in report.rows]
        result["notes"] += [n for n in report.notes if n not in result["notes"]]
        result["figures"] += [str(f) for f in report.figures]
    result.update(title=reports[0].title, data=reports[0].data or result["data"],
                  claims=[c.to_dict() for c in merge_claims([r.claims for r in reports])])
    return result


def cmd_reproduce(args) -> int:
    """``minicompress reproduce NAME|all``: run reproductions; write report.md and results.json;
    for all, one progress line per paper, then the scorecard."""
    out = Path(args.out or "out")
    seeds = parse_seeds(args.seeds, args.seed)
    todo = list(REPRODUCTIONS) if args.name == "all" else [find(args.name)]
    if args.name != "all" and not available(todo[0].module):
        print(f"minicompress reproduce: {args.name} (reproductions/{todo[0].module}.py) is not "
              f"implemented yet; `minicompress list` shows what is", file=sys.stderr)
        return 2
    todo = [entry for entry in todo if available(entry.module)]
    everything = args.name == "all"
    results = dict(minicompress=__version__, command=command_text(args), quick=args.quick,
                   data=args.data or "", seeds=seeds, papers={})
    start, failed = time.perf_counter(), 0
    for i, entry in enumerate(todo, start=1):
        folder = out / entry.command if everything or not args.out else out
        folder.mkdir(parents=True, exist_ok=True)
        if everything:
            print(f"[{i}/{len(todo)}] {entry.command} ({entry.paper}) ...", end="", flush=True)
        try:
            if everything and not args.verbose:  # the paper's own output goes to its log
                with open(folder / "log.txt", "w") as log, contextlib.redirect_stdout(log), \
                        contextlib.redirect_stderr(log):
                    result = run_seeds(entry, args, seeds, folder, verbose=False)
            else:
                result = run_seeds(entry, args, seeds, folder, verbose=True)
        except (ValueError, TypeError, OSError) as err:
            if not everything:  # bad --data, missing files: say what to do, in one line
                print(f"minicompress reproduce {entry.command}: error: {err}", file=sys.stderr)
                return 1
            result = _failure(entry, seeds, err, folder)
        except Exception as err:  # one paper's failure must not take the others down
            if not everything:
                raise
            result = _failure(entry, seeds, err, folder)
        failed += result["error"] is not None
        results["papers"][entry.command] = result
        write_report_md(result, folder / "report.md")
        if everything:
            print(" " + progress(result), flush=True)
    results["seconds"] = time.perf_counter() - start
    path = (out if everything else folder) / "results.json"
    with atomic_write(path, "w") as f:
        json.dump(strict(results), f, indent=1, allow_nan=False)
    if everything:
        print()
        print(scorecard(results))
        print(f"\nwrote {path}; each paper's full table and claims in {out}/<name>/report.md")
    return 1 if failed else 0


def command_text(args) -> str:
    """The command line that made a results file, as a user would type it."""
    return "minicompress " + " ".join(shlex.quote(a) for a in sys.argv[1:]) \
        if sys.argv[0].endswith("minicompress") else f"minicompress reproduce {args.name}"


def _failure(entry, seeds, err: BaseException, folder: Path) -> dict:
    """results.json's entry of a reproduction that raised; the traceback goes to its log."""
    with open(folder / "log.txt", "a") as log:
        traceback.print_exception(type(err), err, err.__traceback__, file=log)
    return dict(section=entry.section, paper=entry.paper, module=entry.module, seeds=seeds,
                seconds=0.0, error=f"{type(err).__name__}: {err}", title="", data="", rows=[],
                notes=[], figures=[], claims=[])


def progress(result: dict) -> str:
    """The end of a paper's progress line: time and how its headline claims fared."""
    if result["error"]:
        return f"ERROR after {result['seconds']:.0f} s: {result['error']}"
    headline = [c for c in result["claims"] if c["headline"]]
    held = sum(c["holds"] for c in headline)
    return f"{result['seconds']:.1f} s, {held} of {len(headline)} headline claims hold"


def write_report_md(result: dict, path: Path) -> None:
    """A paper's full table and all its claims as Markdown."""
    report = Report(result["title"] or result["paper"], rows=result["rows"],
                    figures=[Path(f) for f in result["figures"]], notes=result["notes"],
                    claims=[Claim.from_dict(c) for c in result["claims"]], data=result["data"])
    text = report.markdown()
    if result["error"]:
        text += f"\n**Error:** {result['error']} (traceback in log.txt)\n"
    with atomic_write(path, "w") as f:
        f.write(text)


def cmd_results(args) -> int:
    """``minicompress results FILE... [--markdown] [--merge OUT]``: results.json files as the
    scorecard, or as the README's survey table; ``--merge`` writes them as one file (papers in
    registry order, each keeping the command that made it)."""
    try:
        results = merge_results([read_results(f) for f in args.files])
    except (OSError, ValueError) as err:
        print(f"minicompress results: error: {err}", file=sys.stderr)
        return 1
    if args.merge:
        order = [e.command for e in REPRODUCTIONS]
        results["papers"] = dict(sorted(results["papers"].items(),
                                        key=lambda kv: order.index(kv[0]) if kv[0] in order else len(order)))
        with atomic_write(args.merge, "w") as f:
            json.dump(strict(results), f, indent=1, allow_nan=False)
        print(f"wrote {args.merge} ({len(results['papers'])} papers)", file=sys.stderr)
    print(survey_table(results) if args.markdown else scorecard(results))
    return 0


def cmd_demo(args) -> int:
    """``minicompress demo``: train, evaluate, save and reload LeNet-300-100."""
    from minicompress import demo
    demo.run(epochs=args.epochs, n_train=args.n_train, seed=args.seed, data_dir=args.data_dir,
             out_dir=args.out)
    return 0


def cmd_notebooks(args) -> int:
    """``minicompress notebooks``: write the tutorials as .ipynb files."""
    from minicompress import notebooks
    try:
        written = notebooks.convert(notebooks.tutorial_scripts(args.tutorials), args.out)
    except FileNotFoundError as err:
        print(f"minicompress notebooks: error: {err}", file=sys.stderr)
        return 1
    for path in written:
        print(path)
    return 0


def cmd_bench(args) -> int:
    """``minicompress bench WHAT``: the benchmarks; ``all`` ends with one table of ratios."""
    from minicompress import bench
    ratios = []
    if args.what in ("engine", "all"):
        for r in bench.engine(rounds=args.rounds, steps=args.steps, torch=not args.no_torch):
            ratios.append(dict(benchmark="engine", what=f"training step, {r['network']}",
                               versus="PyTorch CPU", ratio=r["ratio"], target="<= 1.15 MLP, <= 2 LeNet"))
    if args.what in ("curvature", "all"):
        for r in bench.curvature(rounds=args.rounds, steps=max(args.steps // 2, 1)):
            if r["what"] != "gradient":
                target = {"diag_lecun": "<= 1.7", "diag_ggn": "<= 4 (MLP)", "hvp": "<= 3"}
                ratios.append(dict(benchmark="curvature", what=f"{r['what']}, {r['network']}",
                                   versus="gradient pass", ratio=r["ratio"],
                                   target=target.get(r["what"], "")))
    if args.what == "curvature":  # not part of "all": minutes of Hessian-vector products
        bench.top_eigenvalue()  # target: Lanczos <= 30 hvps
    if args.what in ("quant", "all"):
        from minicompress.quant.bench import quant
        for r in quant(rounds=args.rounds):
            ratios.append(dict(benchmark="quant", what=r["what"], versus=r["baseline"],
                               ratio=r["ratio"], target=r["target"]))
    if args.what == "obs":  # not part of "all": a single long timing, no ratio to a floor
        bench.obs()
    if args.what in ("storage", "all"):
        from minicompress.storage.bench import storage
        for r in storage(rounds=args.rounds):
            ratios.append(dict(benchmark="storage", what=r["what"], versus="its target",
                               ratio=r["ratio"], target="< 1"))
    if args.what == "all":
        print()
        bench.print_table(ratios, "all ratios, measured in this run (time ratio, except the "
                                  "rounding rows: speed)")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``minicompress`` command and its sub-commands."""
    parser = argparse.ArgumentParser(
        prog="minicompress",
        description="The classic neural-network compression methods, from scratch in NumPy.")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.required = True
    listing = commands.add_parser("list", help="the survey's methods by section, and their files")
    listing.set_defaults(func=cmd_list)
    names = [e.command for e in REPRODUCTIONS]
    reproduce = commands.add_parser("reproduce", help="run one paper's reproduction, or all")
    reproduce.add_argument("name", choices=names + ["all"], metavar="NAME",
                           help="one of: " + ", ".join(names) + ", or all")
    reproduce.add_argument("--quick", action="store_true", help="the small, fast setting")
    reproduce.add_argument("--seed", type=int, default=0, help="the seed (default 0)")
    reproduce.add_argument("--seeds", default=None,
                           help="several seeds: N (from --seed), A-B or A,B,C; claims say how "
                                "many held")
    reproduce.add_argument("--data", default=None,
                           help="synth_digits, mnist, fashion_mnist or mnist_test_split "
                                "(default: the paper's own)")
    reproduce.add_argument("--verbose", action="store_true",
                           help="for all: print every paper's output and full table as it runs")
    reproduce.add_argument("--out", default=None,
                           help="folder for figures (default: out/NAME; for all: out/, one folder each)")
    reproduce.add_argument("--data-dir", default=None,
                           help="data folder (default: $MINICOMPRESS_DATA, else ./data)")
    reproduce.add_argument("--no-verify", action="store_true",
                           help="read local data files whatever their checksum (known provenance only)")
    reproduce.set_defaults(func=cmd_reproduce)
    results = commands.add_parser("results", help="print a results.json as the scorecard or "
                                                   "the README's survey table")
    results.add_argument("files", nargs="+", metavar="FILE",
                         help="results.json files (e.g. minicompress/results/mnist.json)")
    results.add_argument("--markdown", action="store_true", help="the README's survey table")
    results.add_argument("--merge", metavar="OUT", default=None,
                         help="write the files' papers into one results.json")
    results.set_defaults(func=cmd_results)
    demo = commands.add_parser("demo", help="train LeNet-300-100 on the offline synthetic digits")
    demo.add_argument("--epochs", type=int, default=5)
    demo.add_argument("--n-train", type=int, default=20_000, help="training images (default 20,000)")
    demo.add_argument("--seed", type=int, default=0)
    demo.add_argument("--data-dir", default=None, help="data folder (default $MINICOMPRESS_DATA or ./data)")
    demo.add_argument("--out", default="out/demo", help="where the trained model is saved")
    demo.set_defaults(func=cmd_demo)
    notebooks = commands.add_parser("notebooks", help="write the tutorials as .ipynb notebooks")
    notebooks.add_argument("--out", default="notebooks", help="folder (default: notebooks/)")
    notebooks.add_argument("--tutorials", default=None, help="folder of the NN_*.py tutorials")
    notebooks.set_defaults(func=cmd_notebooks)
    bench = commands.add_parser("bench", help="benchmarks, printed as ratios measured in one run")
    bench.add_argument("what", choices=["engine", "curvature", "quant", "obs", "storage", "all"], help="what to time")
    bench.add_argument("--rounds", type=int, default=3, help="alternating rounds (default 3)")
    bench.add_argument("--steps", type=int, default=50, help="timed steps per round (default 50)")
    bench.add_argument("--no-torch", action="store_true", help="skip the PyTorch comparison")
    bench.set_defaults(func=cmd_bench)
    from minicompress.datasets import commands as data_commands
    data_commands.add_parser(commands)
    from minicompress.course import commands as course_commands
    course_commands.add_parser(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``minicompress``; returns the exit code."""
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `minicompress results FILE | head`: the reader has what it wanted
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second error at exit
        return 0
