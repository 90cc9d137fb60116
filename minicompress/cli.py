"""The ``minicompress`` command (also ``python -m minicompress``).

    minicompress list                 the survey's methods, by section, and where they live
    minicompress reproduce NAME       run a paper's reproduction (--quick, --seed, --data, --out)
    minicompress demo                 train LeNet-300-100 on the offline synthetic digits
    minicompress bench engine         our training step vs PyTorch's (if installed), as ratios
    minicompress bench curvature      second-order passes vs one gradient pass, as ratios
    minicompress bench quant          rounding kernels vs their float32 floors, as ratios
    minicompress data list|fetch|show the datasets
"""
from __future__ import annotations

import argparse
import importlib
import importlib.util
import sys

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


def cmd_reproduce(args) -> int:
    module = next(m for name, _, _, m in METHODS if name == args.name)
    full = f"minicompress.papers.{module}"
    if importlib.util.find_spec(full) is None:
        print(f"minicompress reproduce: {args.name} ({module}.py) is not implemented yet; "
              f"`minicompress list` shows what is", file=sys.stderr)
        return 2
    paper = importlib.import_module(full)
    paper.reproduce(quick=args.quick, seed=args.seed, data=args.data, out_dir=args.out)
    return 0


def cmd_demo(args) -> int:
    from minicompress import demo
    demo.run(epochs=args.epochs, n_train=args.n_train, seed=args.seed, data_dir=args.data_dir,
             out_dir=args.out)
    return 0


def cmd_bench(args) -> int:
    from minicompress import bench
    if args.what in ("engine", "all"):
        bench.engine(rounds=args.rounds, steps=args.steps, torch=not args.no_torch)
    if args.what in ("curvature", "all"):
        bench.curvature(rounds=args.rounds, steps=max(args.steps // 2, 1))
    if args.what in ("quant", "all"):
        from minicompress.quant.bench import quant
        quant(rounds=args.rounds)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="minicompress",
        description="The classic neural-network compression methods, from scratch in NumPy.")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.required = True
    listing = commands.add_parser("list", help="the survey's methods by section, and their files")
    listing.set_defaults(func=cmd_list)
    reproduce = commands.add_parser("reproduce", help="run one paper's reproduction")
    reproduce.add_argument("name", choices=[m[0] for m in METHODS], metavar="NAME",
                           help="one of: " + ", ".join(m[0] for m in METHODS))
    reproduce.add_argument("--quick", action="store_true", help="the small, fast setting")
    reproduce.add_argument("--seed", type=int, default=0)
    reproduce.add_argument("--data", default=None, help="dataset (default: the paper's own)")
    reproduce.add_argument("--out", default=None, help="folder for figures (default: out/NAME)")
    reproduce.set_defaults(func=cmd_reproduce)
    demo = commands.add_parser("demo", help="train LeNet-300-100 on the offline synthetic digits")
    demo.add_argument("--epochs", type=int, default=5)
    demo.add_argument("--n-train", type=int, default=20_000, help="training images (default 20,000)")
    demo.add_argument("--seed", type=int, default=0)
    demo.add_argument("--data-dir", default=None, help="data folder (default $MINICOMPRESS_DATA or ./data)")
    demo.add_argument("--out", default="out/demo", help="where the trained model is saved")
    demo.set_defaults(func=cmd_demo)
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
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
