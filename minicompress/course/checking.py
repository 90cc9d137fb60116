"""How a student's function is judged: run it on every case, compare with the reference, and
describe the first case that fails in words a student can act on.

A check never shows the reference's code: only the inputs, the expected and the received
output, and which property failed (the structure of the result, a shape, a dtype, a NaN, a value,
or an exercise's own property such as "a masked entry came back").
"""
from __future__ import annotations

import copy
import traceback
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

PACKAGE = str(Path(__file__).resolve().parents[1])  # frames in here are the library's, not shown


@dataclass(frozen=True)
class Result:
    """The verdict of :func:`minicompress.course.check`: ``passed`` and the ``feedback`` to print."""

    name: str
    passed: bool
    feedback: str

    def __str__(self) -> str:
        return self.feedback


@dataclass(frozen=True)
class Case:
    """One input to try: ``inputs`` are passed positionally, in order; ``label`` says what the
    case is about ("edge: ties", "random, seed 2")."""

    label: str
    inputs: dict = field(default_factory=dict)


class Seed(int):
    """An int seed that the checker turns into ``np.random.default_rng(seed)``, shown as such."""

    def __repr__(self) -> str:
        return f"np.random.default_rng({int(self)})"


class Failure(Exception):
    """A property a received output does not have: ``prop`` (short), ``detail`` (a sentence)."""

    def __init__(self, prop: str, detail: str):
        super().__init__(f"{prop}: {detail}")
        self.prop, self.detail = prop, detail


def show(value, precision: int = 6) -> str:
    """A small, readable rendering of an input or output (arrays with their shape and dtype)."""
    if isinstance(value, np.ndarray):
        text = np.array2string(value, precision=precision, threshold=60, max_line_width=88,
                               floatmode="maxprec")
        text = text if "\n" not in text else "\n      " + text.replace("\n", "\n      ")
        return f"{text}  (shape {value.shape}, {value.dtype})"
    if isinstance(value, np.random.Generator):
        return "a np.random.Generator"
    if isinstance(value, (tuple, list)):
        return "(" + ", ".join(show(v, precision) for v in value) + ")"
    return repr(value)


def number(x) -> str:
    """One entry, without NumPy's ``np.float64(...)`` wrapper."""
    x = np.asarray(x)
    return repr(float(x)) if x.dtype.kind == "f" else repr(x.item())


def call(fn, case: Case):
    """fn(*inputs) on private copies, so a function that writes into its inputs harms nobody."""
    return fn(*copy.deepcopy(list(case.inputs.values())))


def student_error(err: BaseException) -> str:
    """The exception and the student's line that raised it (never a library frame's code)."""
    frames = [f for f in traceback.extract_tb(err.__traceback__)
              if not f.filename.startswith(PACKAGE) and "site-packages" not in f.filename]
    where = f" (at {frames[-1].filename}, line {frames[-1].lineno}: {frames[-1].line})" if frames else ""
    return f"raised {type(err).__name__}: {err}{where}"


# ----- comparing one output ---------------------------------------------------------------------
def kind(x) -> str:
    dtype = np.asarray(x).dtype
    return "bool" if dtype == bool else "integer" if dtype.kind in "iu" else \
        "float" if dtype.kind == "f" else str(dtype)


def compare_structure(expected, received, names: tuple) -> None:
    """Raise Failure if ``received`` is not shaped like ``expected`` (tuple length, shapes, kinds)."""
    if len(names) > 1:
        if not isinstance(received, (tuple, list)) or len(received) != len(names):
            got = f"a {type(received).__name__} of length {len(received)}" \
                if isinstance(received, (tuple, list)) else f"a {type(received).__name__}"
            raise Failure("structure", f"expected a tuple of {len(names)} ({', '.join(names)}), "
                                       f"received {got}")
        pairs = zip(names, expected, received)
    else:
        pairs = [(names[0], expected, received)]
    for name, e, r in pairs:
        if r is None:
            raise Failure("structure", f"{name}: received None (did you forget to return it?)")
        try:
            r = np.asarray(r)
        except Exception:  # noqa: BLE001 - anything that is not an array is a structure error
            raise Failure("structure", f"{name}: received {type(r).__name__}, not an array") from None
        e = np.asarray(e)
        if r.shape != e.shape:
            raise Failure("shape", f"{name}: expected shape {e.shape}, received shape {r.shape}")
        if kind(e) != kind(r) and not (kind(e) == "float" and kind(r) == "integer"):
            raise Failure("dtype", f"{name}: expected {kind(e)} values ({e.dtype}), received {r.dtype}")


def compare_nan(expected, received, names: tuple) -> None:
    """Raise Failure at the first NaN of ``received`` where ``expected`` has none."""
    pairs = zip(names, expected, received) if len(names) > 1 else [(names[0], expected, received)]
    for name, e, r in pairs:
        e, r = np.asarray(e), np.asarray(r)
        if r.dtype.kind == "f" and np.isnan(r).any() and not np.isnan(e).any():
            where = np.unravel_index(int(np.flatnonzero(np.isnan(r.ravel()))[0]), r.shape)
            raise Failure("NaN", f"{name}: NaN at index {list(map(int, where))} (expected "
                                 f"{number(e[where])})")


def compare_values(expected, received, names: tuple, rtol: float, atol: float,
                   exact_dtype: bool = False) -> None:
    """Raise Failure at the first entry (in C order) of the first output that differs."""
    pairs = zip(names, expected, received) if len(names) > 1 else [(names[0], expected, received)]
    for name, e, r in pairs:
        e, r = np.asarray(e), np.asarray(r)
        if exact_dtype and e.dtype != r.dtype:
            raise Failure("dtype", f"{name}: expected dtype {e.dtype}, received {r.dtype}")
        if np.float32 in (e.dtype, r.dtype):  # single precision: its own rounding error
            rtol, atol = max(rtol, 1e-5), max(atol, 1e-6)
        if e.dtype.kind in "fc":
            bad = ~np.isclose(r.astype(np.float64), e.astype(np.float64), rtol=rtol, atol=atol,
                              equal_nan=True)
        else:
            bad = r != e
        if bad.any():
            flat = int(np.flatnonzero(bad.ravel())[0])
            where = list(map(int, np.unravel_index(flat, e.shape))) if e.ndim else []
            at = f" at index {where}" if where else ""
            tolerance = f" (tolerance {atol:g} + {rtol:g}·|expected|)" if e.dtype.kind == "f" else ""
            count = f"; {int(bad.sum())} of {e.size} entries differ" if e.size > 1 else ""
            raise Failure("value", f"{name}{at}: expected {number(e.ravel()[flat])}, received "
                                   f"{number(r.ravel()[flat])}{tolerance}{count}")


# ----- the whole check ------------------------------------------------------------------------------
def run_cases(exercise, fn) -> Result:
    """Every case of ``exercise`` in order; the first failure is the feedback."""
    if not callable(fn):
        return Result(exercise.name, False, f"{exercise.name}: expected a function, got "
                                            f"{type(fn).__name__}")
    cases = exercise.cases()
    for number, case in enumerate(cases, 1):
        with np.errstate(all="ignore"):
            expected = call(exercise.reference, case)
        try:
            with np.errstate(all="ignore"):
                received = call(fn, case)
        except NotImplementedError:
            return Result(exercise.name, False, f"{exercise.name}: not implemented yet (the stub "
                                                f"raises NotImplementedError)")
        except Exception as err:  # noqa: BLE001 - any error of the student's is feedback
            return failed(exercise, case, number, len(cases), "raised", student_error(err), None, None)
        try:
            compare_structure(expected, received, exercise.outputs)
            compare_nan(expected, received, exercise.outputs)
            if exercise.properties is not None:
                exercise.properties(case, expected, received)
            compare_values(expected, received, exercise.outputs, exercise.rtol, exercise.atol,
                           exercise.exact_dtype)
        except Failure as f:
            return failed(exercise, case, number, len(cases), f.prop, f.detail, expected, received)
    return Result(exercise.name, True, f"{exercise.name}: passed all {len(cases)} cases "
                                       f"({describe_cases(cases)})")


def describe_cases(cases) -> str:
    edge = sum(c.label.startswith("edge") for c in cases)
    return f"{edge} edge cases, {len(cases) - edge} random cases"


def failed(exercise, case: Case, number: int, total: int, prop: str, detail: str,
           expected, received) -> Result:
    lines = [f"{exercise.name}: FAILED on case {number} of {total} ({case.label})",
             f"  property failed: {prop}: {detail}", "  inputs:"]
    lines += [f"    {k} = {show(v)}" for k, v in case.inputs.items()]
    if expected is not None:
        names = exercise.outputs
        several = len(names) > 1 and isinstance(received, (tuple, list)) and len(received) == len(names)
        for name, e, r in zip(names, expected, received) if several else [(names[0], expected, received)]:
            lines += [f"  expected {name}: {show(e)}", f"  received {name}: {show(r)}"]
    return Result(exercise.name, False, "\n".join(lines))


SEEDS = (0, 1, 2, 3, 4)


def random_cases(make, seeds=SEEDS) -> list[Case]:
    """One case per seed: ``make(rng)`` returns the inputs (a dict, in argument order)."""
    return [Case(f"random, seed {seed}", make(np.random.default_rng(seed))) for seed in seeds]
