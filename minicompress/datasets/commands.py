"""``minicompress data``: list the datasets, fetch one, or save a picture of one.

    minicompress data list  [--data-dir DIR]
    minicompress data fetch NAME [--data-dir DIR] [--quiet]
    minicompress data show  NAME --out grid.png [--split train|test] [--data-dir DIR]

``add_parser`` plugs the sub-command into the top-level parser; ``run`` executes it and returns
the exit code (0 on success, 1 with a one-line-per-cause error on stderr).
"""
from __future__ import annotations

import sys

from minicompress.datasets import load, registry, toy
from minicompress.datasets.cache import data_folder
from minicompress.datasets.fetch import dataset_folder, ensure_files, find_local
from minicompress.datasets.splits import SPLITS

ON_THE_FLY = ("karnin_2d", "rule_plus_exception", "multiplexer")  # generated, never stored
SHOW_PER_CLASS = 10


def add_parser(subparsers):
    """Add the ``data`` command (with ``list``, ``fetch``, ``show``) to ``subparsers``."""
    parser = subparsers.add_parser(
        "data", help="list, fetch and look at the datasets",
        description="Datasets live in --data-dir, else $MINICOMPRESS_DATA, else ./data.")
    actions = parser.add_subparsers(dest="data_action", metavar="{list,fetch,show}",
                                    required=True)
    listing = actions.add_parser("list", help="every dataset: size, folder, present or not")
    fetch = actions.add_parser("fetch", help="download (or generate) a dataset now")
    fetch.add_argument("name", choices=registry.NAMES, metavar="NAME",
                       help=f"one of: {', '.join(registry.NAMES)}")
    fetch.add_argument("--quiet", action="store_true", help="no download progress")
    show = actions.add_parser("show", help="save a picture of a dataset's examples")
    show.add_argument("name", choices=registry.NAMES, metavar="NAME",
                      help=f"one of: {', '.join(registry.NAMES)}")
    show.add_argument("--out", required=True, help="image file to write, e.g. grid.png")
    show.add_argument("--split", choices=SPLITS, default="train")
    for sub in (listing, fetch, show):
        sub.add_argument("--data-dir", default=None,
                         help="data folder (default: $MINICOMPRESS_DATA, else ./data)")
    parser.set_defaults(func=run)
    return parser


def run(args) -> int:
    """Execute a parsed ``data`` command; return the exit code."""
    action = {"list": _list, "fetch": _fetch, "show": _show}[args.data_action]
    try:
        action(args)
    except (ValueError, OSError) as err:
        print(f"minicompress data {args.data_action}: error: {err}", file=sys.stderr)
        return 1
    return 0


def _list(args) -> None:
    print(f"data folder: {data_folder(args.data_dir)}")
    for name in registry.NAMES:
        print(f"{name:<21} {_status(name, args.data_dir)}")
        print(f"{'':<21} {registry.SUMMARIES[name]}")


def _status(name, data_dir) -> str:
    """Where a dataset is kept and which of its splits are there."""
    if name in ON_THE_FLY:
        return "generated on use, nothing stored"
    if name == "synth_digits":
        from minicompress.datasets.synth_digits import cache_path

        present = [s for s in SPLITS if cache_path(s, data_dir=data_dir).is_file()]
        folder = data_folder(data_dir) / "synth_digits"
        what = f"{' and '.join(present)} cached (seed 0)" if present else "not generated yet"
        return f"{what} in {folder}"
    dataset = registry.REMOTE[name]
    search = (dataset_folder(dataset, data_dir), data_folder(data_dir))
    present = [s for s in SPLITS
               if all(find_local(f, search) for f in dataset.files(s))]
    what = f"{' and '.join(present)} present" if present else "not downloaded"
    return f"{what} in {dataset_folder(dataset, data_dir)}"


def _fetch(args) -> None:
    if args.name == "synth_digits":
        from minicompress.datasets.synth_digits import cache_path

        for split in SPLITS:
            load("synth_digits", split, data_dir=args.data_dir)
            print(cache_path(split, data_dir=args.data_dir))
    elif args.name in ON_THE_FLY:
        print(f"{args.name} is generated when loaded; there is nothing to fetch")
    else:
        dataset = registry.REMOTE[args.name]
        for path in ensure_files(dataset, data_dir=args.data_dir, progress=not args.quiet):
            print(path)


def _show(args) -> None:
    from minicompress.datasets import pictures  # matplotlib is imported only when needed

    title = f"{args.name} ({args.split})"
    if args.name == "karnin_2d":
        x, y = load(args.name, args.split)
        path = pictures.save_scatter(x, y, args.out, title=title)
    elif args.name in ("rule_plus_exception", "multiplexer"):
        x, y = load(args.name, args.split)
        inputs = (toy.RULE_PLUS_EXCEPTION_INPUTS if args.name == "rule_plus_exception"
                  else toy.MULTIPLEXER_INPUTS)
        path = pictures.save_truth_table(x, y, args.out, input_names=inputs, title=title)
    else:
        # Synthetic digits: generate just the images shown (classes are balanced).
        n = 10 * SHOW_PER_CLASS if args.name == "synth_digits" else None
        x, y = load(args.name, args.split, data_dir=args.data_dir, n=n)
        remote = registry.REMOTE.get(args.name)
        classes = remote.classes if remote else tuple("0123456789")
        path = pictures.save_image_grid(x, y, args.out, classes=classes,
                                        per_class=SHOW_PER_CLASS, title=title)
    print(path)
