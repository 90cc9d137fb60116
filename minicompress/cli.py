"""The ``minicompress`` command (also ``python -m minicompress``).

    minicompress list                 the survey's methods, by section, and where they live
    minicompress reproduce NAME       run a paper's reproduction (--quick, --seed, --data, --out)
    minicompress reproduce all        run them all; one summary and out/results.json
    minicompress demo                 train LeNet-300-100 on the offline synthetic digits
    minicompress bench engine         our training step vs PyTorch's (if installed), as ratios
    minicompress bench curvature      second-order passes vs one gradient pass, as ratios
    minicompress bench quant          rounding kernels vs their float32 floors, as ratios
    minicompress data list|fetch|show the datasets
    minicompress notebooks            the tutorials as Jupyter notebooks (.ipynb)
"""
from __future__ import annotations

import argparse
import importlib
import importlib.util
import json
import sys
import time
from pathlib import Path

from minicompress.files import atomic_write

# (command name, survey section, paper, module): what `list` shows and `reproduce` will run
METHODS = [
    ("skeletonization", "Pruning by sensitivity", "Mozer & Smolensky 1988", "mozer1988_skeletonization"),
    ("karnin", "Pruning by sensitivity", "Karnin 1990", "karnin1990_sensitivity"),
    ("obd", "Pruning by sensitivity", "LeCun, Denker & Solla 1989", "lecun1989_obd"),
    ("data-free", "Pruning by redundancy", "Srinivas & Babu 2015", "srinivas2015_data_free"),
    ("ssl", "Structured pruning", "Wen et al. 2016", "wen2016_ssl"),
    ("magnitude", "Pruning in libraries", "Zhu & Gupta 2017 (TF-MOT, PyTorch)", "magnitude"),
    ("gupta", "Quantization", "Gupta et al. 2015", "gupta2015_limited_precision"),
    ("bfloat16", "Quantization", "bfloat16 (Kalamkar et al. 2019)", "bfloat16"),
    ("denil", "Low-rank factorization", "Denil et al. 2013", "denil2013_predicting_parameters"),
]


def cmd_list(args) -> int:
    """``minicompress list``: every method by survey section, its file and status."""
    rows = [("command", "survey section", "paper", "file", "status")]
    for name, section, paper, module in METHODS:
        full = f"minicompress.papers.{module}"
        available = importlib.util.find_spec("minicompress.papers") is not None and \
            importlib.util.find_spec(full) is not None
        rows.append((name, section, paper, f"minicompress/papers/{module}.py",
                     "available" if available else "planned"))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip())
    return 0


def available(module: str) -> bool:
    """Does ``minicompress/papers/<module>.py`` exist?"""
    return importlib.util.find_spec(f"minicompress.papers.{module}") is not None


def run_one(name: str, module: str, args, out_dir: Path):
    """Import a paper file and run its reproduction; returns (Report, seconds)."""
    paper = importlib.import_module(f"minicompress.papers.{module}")
    start = time.perf_counter()
    report = paper.reproduce(quick=args.quick, seed=args.seed, data=args.data, out_dir=out_dir,
                             data_dir=args.data_dir, verify=not args.no_verify)
    return report, time.perf_counter() - start


def cmd_reproduce(args) -> int:
    """``minicompress reproduce NAME|all``: run reproductions; for all, a summary and results.json."""
    out = Path(args.out or "out")
    todo = [m for m in METHODS if args.name in ("all", m[0])]
    if args.name != "all" and not available(todo[0][3]):
        print(f"minicompress reproduce: {args.name} ({todo[0][3]}.py) is not implemented yet; "
              f"`minicompress list` shows what is", file=sys.stderr)
        return 2
    results = {}
    for name, section, paper, module in todo:
        if not available(module):
            continue
        try:
            report, seconds = run_one(name, module, args, out / name if args.name == "all" or
                                      not args.out else out)
        except (ValueError, TypeError, OSError) as err:  # bad --data, missing files: say what to do
            print(f"minicompress reproduce {name}: error: {err}", file=sys.stderr)
            return 1
        results[name] = dict(section=section, paper=paper, title=report.title, seconds=seconds,
                             rows=report.rows, notes=report.notes,
                             figures=[str(f) for f in report.figures])
    if args.name == "all":
        from minicompress.bench import print_table
        print()
        print_table([dict(command=name, section=r["section"], paper=r["paper"], seconds=r["seconds"],
                          rows=len(r["rows"]), figures=len(r["figures"]))
                     for name, r in results.items()],
                    "Summary" + (" (quick settings)" if args.quick else ""))
        for name, result in results.items():
            print(f"\n{name}: {result['title']}")
            for note in result["notes"]:
                print(f"  - {note}")
        out.mkdir(parents=True, exist_ok=True)
        with atomic_write(out / "results.json", "w") as f:
            json.dump(results, f, indent=1, default=_plain)
        print(f"\nwrote {out / 'results.json'} and the figures under {out}/")
    return 0


def _plain(value):
    """JSON for NumPy scalars and arrays in reports."""
    return value.tolist() if hasattr(value, "tolist") else str(value)


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
    if args.what in ("quant", "all"):
        from minicompress.quant.bench import quant
        for r in quant(rounds=args.rounds):
            ratios.append(dict(benchmark="quant", what=r["what"], versus=r["baseline"],
                               ratio=r["ratio"], target=r["target"]))
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
    reproduce = commands.add_parser("reproduce", help="run one paper's reproduction")
    reproduce.add_argument("name", choices=[m[0] for m in METHODS] + ["all"], metavar="NAME",
                           help="one of: " + ", ".join(m[0] for m in METHODS) + ", or all")
    reproduce.add_argument("--quick", action="store_true", help="the small, fast setting")
    reproduce.add_argument("--seed", type=int, default=0)
    reproduce.add_argument("--data", default=None, help="dataset (default: the paper's own)")
    reproduce.add_argument("--out", default=None,
                           help="folder for figures (default: out/NAME; for all: out/, one folder each)")
    reproduce.add_argument("--data-dir", default=None,
                           help="data folder (default: $MINICOMPRESS_DATA, else ./data)")
    reproduce.add_argument("--no-verify", action="store_true",
                           help="read local data files whatever their checksum (known provenance only)")
    reproduce.set_defaults(func=cmd_reproduce)
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
    bench.add_argument("what", choices=["engine", "curvature", "quant", "all"], help="what to time")
    bench.add_argument("--rounds", type=int, default=3, help="alternating rounds (default 3)")
    bench.add_argument("--steps", type=int, default=50, help="timed steps per round (default 50)")
    bench.add_argument("--no-torch", action="store_true", help="skip the PyTorch comparison")
    bench.set_defaults(func=cmd_bench)
    from minicompress.datasets import commands as data_commands
    data_commands.add_parser(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``minicompress``; returns the exit code."""
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
