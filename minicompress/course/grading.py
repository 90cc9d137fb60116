"""Grading a folder of submissions, one file per student, each exercise in a process of its own
with a time limit, so that one student's exception, crash or infinite loop stops nobody else.

Student code runs with the grader's permissions (no sandbox): grade in an account or container
that holds nothing the submissions should not touch.
"""
from __future__ import annotations

import csv
import io
import json
import multiprocessing
import os
import signal
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from minicompress.course.submission import SubmissionError, defined_names
from minicompress.files import atomic_write

# pass; fail (a wrong answer: the feedback names the case); stub (still raises NotImplementedError);
# error (the file does not import); timeout; crash (the process died); missing (no such function)
STATUSES = ("pass", "fail", "stub", "error", "timeout", "crash", "missing")


@dataclass(frozen=True)
class Outcome:
    """One student × exercise: ``status`` in STATUSES, the feedback, the wall time."""

    status: str
    feedback: str
    seconds: float

    @property
    def passed(self) -> bool:
        return self.status == "pass"


def run_isolated(name: str, path, function: str | None = None, timeout: float = 30.0) -> Outcome:
    """Check ``function`` (default: the exercise's name) of file ``path`` in a new process,
    killed (with anything it started) after ``timeout`` seconds.

    On Linux the process is forked from this one (the library already imported: milliseconds);
    elsewhere it is a fresh interpreter (``python -m minicompress.course.worker``).
    """
    function = function or name
    from minicompress.course.registry import get
    get(name)  # imported here, before forking: the children inherit the library
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="minicompress-grade-") as tmp:
        result_path, stderr_path = Path(tmp) / "result.json", Path(tmp) / "stderr.txt"
        run = _forked if "fork" in multiprocessing.get_all_start_methods() and sys.platform == "linux" \
            else _spawned
        code = run(name, str(path), function, result_path, stderr_path, timeout)
        seconds = time.perf_counter() - start
        if code is None:
            return Outcome("timeout", f"{name}: stopped after the time limit of {timeout:g} s "
                                      f"(an infinite loop, or far too slow)", seconds)
        if result_path.is_file():
            result = json.loads(result_path.read_text())
            return Outcome(result["status"], result["feedback"], seconds)
        tail = stderr_path.read_text(errors="replace").strip().splitlines()[-3:] if stderr_path.is_file() else []
    return Outcome("crash", f"{name}: the checking process ended with exit code {code} before "
                            f"giving a verdict" + (": " + " | ".join(tail) if tail else ""), seconds)


def _child(name, path, function, result_path, stderr_path) -> None:
    """In the forked process: a session of its own (so it can be killed with its children), the
    student's prints discarded, stderr kept for a crash report, then the check."""
    os.setsid()
    devnull = os.open(os.devnull, os.O_RDWR)
    err = os.open(stderr_path, os.O_WRONLY | os.O_CREAT, 0o600)
    os.dup2(devnull, 0)
    os.dup2(devnull, 1)
    os.dup2(err, 2)
    from minicompress.course import worker
    worker.main([name, path, function, str(result_path)])


def _forked(name, path, function, result_path, stderr_path, timeout):
    process = multiprocessing.get_context("fork").Process(
        target=_child, args=(name, path, function, result_path, stderr_path), daemon=True)
    process.start()
    process.join(timeout)
    timed_out = process.is_alive()
    _kill_group(process.pid)
    if process.is_alive():  # killed before it made its own session
        process.kill()
    process.join()
    return None if timed_out else process.exitcode


def _spawned(name, path, function, result_path, stderr_path, timeout):
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", MPLBACKEND="Agg", PYTHONDONTWRITEBYTECODE="1")
    with open(stderr_path, "wb") as stderr:
        process = subprocess.Popen(
            [sys.executable, "-m", "minicompress.course.worker", name, path, function, str(result_path)],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=stderr, env=env,
            start_new_session=True)  # its own process group: killed as a whole
        try:
            code = process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            code = None
        _kill_group(process.pid)
        process.wait()
    return code


def _kill_group(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def students(folder) -> list[Path]:
    """The submissions: every ``*.py`` file directly in ``folder``, sorted by name."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ValueError(f"grade: FOLDER must be a directory of submissions (one .py file per "
                         f"student), got {folder}")
    return sorted(p for p in folder.glob("*.py") if p.is_file())


def grade(folder, names, *, out=None, timeout: float = 30.0, jobs: int = 1, progress=None) -> dict:
    """Grade every student file in ``folder`` on the exercises ``names``.

    Writes to ``out`` (default ``FOLDER/grades``), each file atomically:
    ``grades.csv`` (one row per student: a status per exercise, then passed and total),
    ``summary.txt`` (passes per exercise and per student), ``feedback/<student>.txt``.
    Returns {student: {exercise: Outcome}}.
    """
    files = students(folder)
    out = Path(out) if out is not None else Path(folder) / "grades"
    if not isinstance(jobs, int) or jobs < 1:
        raise ValueError(f"jobs: expected an int >= 1, got {jobs!r}")
    tasks = {}
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        for path in files:
            try:
                defined, problem = defined_names(path), None
            except SubmissionError as err:
                defined, problem = set(), str(err)
            for name in names:
                if problem is not None:
                    tasks[path.stem, name] = Outcome("error", f"{name}: {problem}", 0.0)
                elif name not in defined:
                    tasks[path.stem, name] = Outcome("missing", f"{name}: {path.name} defines no "
                                                                f"function {name!r}", 0.0)
                else:
                    tasks[path.stem, name] = pool.submit(run_isolated, name, path, name, timeout)
        table = {}
        for (student, name), task in tasks.items():
            outcome = task if isinstance(task, Outcome) else task.result()
            table.setdefault(student, {})[name] = outcome
            if progress is not None:
                progress(student, name, outcome)
    write_grades(table, names, out)
    return table


def write_grades(table: dict, names, out: Path) -> None:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["student", *names, "passed", "total"])
    for student, row in table.items():
        passed = sum(row[n].passed for n in names)
        writer.writerow([student, *(row[n].status for n in names), passed, len(names)])
    with atomic_write(out / "grades.csv", "w") as f:
        f.write(buffer.getvalue())
    with atomic_write(out / "summary.txt", "w") as f:
        f.write(summary(table, names))
    for student, row in table.items():
        with atomic_write(out / "feedback" / f"{student}.txt", "w") as f:
            f.write("\n\n".join(f"[{row[n].status}] {row[n].feedback}" for n in names) + "\n")


def summary(table: dict, names) -> str:
    """Passes per exercise (with the other statuses counted) and per student."""
    n = len(table)
    lines = [f"{n} student(s), {len(names)} exercise(s)", "", "exercise: passed of students (other statuses)"]
    width = max((len(x) for x in names), default=8)
    for name in names:
        counts = {s: sum(row[name].status == s for row in table.values()) for s in STATUSES}
        others = ", ".join(f"{s} {c}" for s, c in counts.items() if c and s != "pass")
        lines.append(f"  {name.ljust(width)}  {counts['pass']} of {n}" + (f"  ({others})" if others else ""))
    lines += ["", "student: exercises passed"]
    width = max((len(s) for s in table), default=8)
    for student, row in table.items():
        lines.append(f"  {student.ljust(width)}  {sum(o.passed for o in row.values())} of {len(names)}")
    return "\n".join(lines) + "\n"
