"""A student's file: which functions it defines, and loading one of them."""
from __future__ import annotations

import ast
import importlib.util
import sys
from pathlib import Path


class SubmissionError(Exception):
    """The file cannot be read or imported, or lacks the function: a message for the student."""


def defined_names(path) -> set:
    """Top-level names the file defines (functions, classes, assignments), read without running
    it; a file that does not parse defines nothing it can be graded on (SubmissionError)."""
    path = Path(path)
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    except (OSError, UnicodeDecodeError) as err:
        raise SubmissionError(f"cannot read {path}: {err}") from None
    except SyntaxError as err:
        raise SubmissionError(f"{path.name} does not parse: line {err.lineno}: {err.msg}") from None
    names = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names.update(t.id for t in targets if isinstance(t, ast.Name))
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update((a.asname or a.name).split(".")[0] for a in node.names)
    return names


def load_function(path, name: str):
    """Import ``path`` as a module of its own and return its function ``name``.

    Runs the student's file (its top-level code too): call it in a separate process when the
    file is not trusted to finish (:mod:`minicompress.course.grading`).
    """
    path = Path(path)
    if not path.is_file():
        raise SubmissionError(f"no such file: {path}")
    module_name = f"_student_{abs(hash(str(path.resolve())))}"
    spec = importlib.util.spec_from_file_location(module_name, path)
    module = importlib.util.module_from_spec(spec)
    sys.path.insert(0, str(path.parent))  # the student's own helper modules beside the file
    try:
        spec.loader.exec_module(module)
    except SyntaxError as err:
        raise SubmissionError(f"{path.name} does not parse: line {err.lineno}: {err.msg}") from None
    except Exception as err:  # noqa: BLE001 - whatever the file does at import is the student's
        raise SubmissionError(f"importing {path.name} raised {type(err).__name__}: {err}") from None
    finally:
        sys.path.remove(str(path.parent))
    fn = getattr(module, name, None)
    if fn is None:
        raise SubmissionError(f"{path.name} defines no function {name!r}")
    if not callable(fn):
        raise SubmissionError(f"{path.name}: {name!r} is a {type(fn).__name__}, not a function")
    return fn
