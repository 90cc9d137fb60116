"""One check in a process of its own: ``python -m minicompress.course.worker EXERCISE FILE
FUNCTION RESULT.json``. Writes {"status", "feedback"} to RESULT.json (atomically); the grader
reads it, or, if the process was killed or crashed, knows from its absence."""
from __future__ import annotations

import json
import sys

from minicompress.course.submission import SubmissionError, load_function
from minicompress.files import atomic_write


def verdict(name: str, path, function: str) -> tuple[str, str]:
    """(status, feedback) of ``function`` in file ``path`` for exercise ``name``."""
    from minicompress.course.registry import get
    exercise = get(name)
    try:
        fn = load_function(path, function)
    except SubmissionError as err:
        return ("missing" if "defines no function" in str(err) else "error"), f"{name}: {err}"
    if str(getattr(fn, "__module__", "")).startswith("minicompress"):
        return "fail", (f"{name}: {function} is the library's own function ({fn.__module__}), "
                        f"imported, not written")
    result = exercise.check(fn)
    if result.passed:
        return "pass", result.feedback
    return ("stub" if "not implemented yet" in result.feedback else "fail"), result.feedback


def main(argv: list[str]) -> int:
    name, path, function, result_path = argv
    status, feedback = verdict(name, path, function)
    with atomic_write(result_path, "w") as f:
        json.dump({"status": status, "feedback": feedback}, f)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
