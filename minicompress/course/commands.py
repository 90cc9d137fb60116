"""``minicompress course list | show | starter | check | grade``."""
from __future__ import annotations

import sys
from pathlib import Path

from minicompress.files import atomic_write


def cmd_list(args) -> int:
    """The exercises, by tutorial."""
    from minicompress.course.registry import all_exercises
    tutorial = None
    for ex in all_exercises().values():
        if ex.tutorial != tutorial:
            tutorial = ex.tutorial
            print(f"tutorials/{tutorial}.py")
        print(f"  {ex.name:28s} {ex.title}")
    return 0


def cmd_show(args) -> int:
    from minicompress.course import show
    print(show(args.name))
    return 0


def cmd_starter(args) -> int:
    """One file with every exercise's statement (as comments) and stub: what a student fills in."""
    from minicompress.course.registry import all_exercises
    chosen = _names(args.exercises)
    exercises = all_exercises()
    parts = ['"""minicompress course exercises: fill in each function, then run\n'
             '    minicompress course check NAME THIS_FILE.py\n"""\nimport numpy as np\n']
    for name in chosen:
        ex = exercises[name]
        statement = "\n".join(("# " + line).rstrip() for line in ex.statement.strip().splitlines())
        stub = "\n".join(line for line in ex.stub.strip().splitlines() if line != "import numpy as np")
        parts.append(f"\n# ===== {name} (tutorials/{ex.tutorial}.py) =====\n{statement}\n\n{stub.strip()}\n")
    path = Path(args.file)
    if path.exists() and not args.force:
        print(f"{path} exists; pass --force to overwrite it", file=sys.stderr)
        return 2
    with atomic_write(path, "w") as f:
        f.write("\n".join(parts))
    print(f"wrote {path}: {len(chosen)} exercises")
    return 0


def cmd_check(args) -> int:
    from minicompress.course.grading import run_isolated
    from minicompress.course.registry import get
    get(args.name)  # an unknown name fails here, listing the exercises
    outcome = run_isolated(args.name, args.file, args.function, timeout=args.timeout)
    print(outcome.feedback)
    return 0 if outcome.passed else 1


def cmd_grade(args) -> int:
    from minicompress.course.grading import grade, summary
    names = _names(args.exercises)

    def progress(student, name, outcome):
        print(f"  {student}: {name}: {outcome.status} ({outcome.seconds:.1f} s)", flush=True)

    out = Path(args.out) if args.out else Path(args.folder) / "grades"
    table = grade(args.folder, names, out=out, timeout=args.timeout, jobs=args.jobs,
                  progress=None if args.quiet else progress)
    print(summary(table, names), end="")
    print(f"wrote {out / 'grades.csv'}, {out / 'summary.txt'} and {out / 'feedback'}/")
    return 0


def _names(text):
    from minicompress.course import exercises
    from minicompress.course.registry import get
    if not text:
        return exercises()
    names = [n.strip() for n in text.split(",") if n.strip()]
    for n in names:
        get(n)
    return names


def add_parser(commands) -> None:
    """Add ``course`` and its sub-commands to the ``minicompress`` parser."""
    course = commands.add_parser("course", help="exercises for courses: list, show, starter, check, grade")
    sub = course.add_subparsers(dest="course_command", metavar="COMMAND")
    sub.required = True
    sub.add_parser("list", help="the exercises, by tutorial").set_defaults(func=cmd_list)
    show = sub.add_parser("show", help="an exercise's statement, starter code and hint")
    show.add_argument("name", metavar="NAME")
    show.set_defaults(func=cmd_show)
    starter = sub.add_parser("starter", help="write a file with every exercise's stub to fill in")
    starter.add_argument("file", metavar="FILE.py")
    starter.add_argument("--exercises", default=None, help="comma-separated names (default: all)")
    starter.add_argument("--force", action="store_true", help="overwrite FILE.py")
    starter.set_defaults(func=cmd_starter)
    check = sub.add_parser("check", help="check a function of FILE.py; prints passed or the failing case")
    check.add_argument("name", metavar="NAME")
    check.add_argument("file", metavar="FILE.py")
    check.add_argument("--function", default=None, help="the function's name in FILE.py (default: NAME)")
    check.add_argument("--timeout", type=float, default=60.0, help="seconds (default 60)")
    check.set_defaults(func=cmd_check)
    grade = sub.add_parser("grade", help="grade FOLDER (one .py file per student): CSV and summary")
    grade.add_argument("folder", metavar="FOLDER")
    grade.add_argument("--exercises", default=None, help="comma-separated names (default: all)")
    grade.add_argument("--timeout", type=float, default=30.0, help="seconds per exercise (default 30)")
    grade.add_argument("--jobs", type=int, default=1, help="checks run at once (default 1)")
    grade.add_argument("--out", default=None, help="output folder (default FOLDER/grades)")
    grade.add_argument("--quiet", action="store_true", help="no line per check")
    grade.set_defaults(func=cmd_grade)
