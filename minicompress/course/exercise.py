"""An exercise: what a student writes (statement, stub, hint) and how it is checked."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from minicompress.course.checking import Result, run_cases


@dataclass(frozen=True)
class Exercise:
    """One function a student writes.

    Attributes
    ----------
    name : str
        The exercise's name, also the name of the student's function.
    tutorial : str
        The tutorial it ends, e.g. ``"01_engine"``.
    title : str
        One line.
    statement : str
        What to implement: the signature, the shapes, the paper's equation.
    stub : str
        The starter code: the signature and a docstring, raising NotImplementedError.
    hint : str
        A nudge, not the answer.
    reference : callable
        The library function (or a thin wrapper of it) the student's output is compared with.
    cases : callable () -> list[Case]
        The fixed edge cases, then random cases from several seeds.
    outputs : tuple of str
        The names of the outputs (a tuple of that length is expected when there are several).
    rtol, atol : float
        Tolerance of the value comparison for float outputs.
    exact_dtype : bool
        The output's dtype must equal the reference's (bit-level formats, integer codes).
    properties : callable (case, expected, received) -> None, optional
        Raises ``Failure`` for an exercise's own property, checked before the values.
    checker : callable (exercise, fn) -> Result, optional
        Replaces the case-by-case comparison (stochastic functions, checked statistically).
    """

    name: str
    tutorial: str
    title: str
    statement: str
    stub: str
    hint: str
    reference: Callable
    cases: Callable
    outputs: tuple = ("output",)
    rtol: float = 1e-7
    atol: float = 1e-9
    exact_dtype: bool = False
    properties: Callable | None = None
    checker: Callable | None = None

    def check(self, fn) -> Result:
        """Judge ``fn``; never raises for anything ``fn`` does."""
        result = self.checker(self, fn) if self.checker is not None else run_cases(self, fn)
        if result.passed and str(getattr(fn, "__module__", "")).startswith("minicompress"):
            note = f" (note: this is the library's own function, {fn.__module__}, not yours)"
            result = Result(result.name, True, result.feedback + note)
        return result

    def describe(self) -> str:
        """Statement, stub and hint, as ``minicompress course show NAME`` prints them."""
        return (f"{self.name} (tutorial {self.tutorial}): {self.title}\n\n{self.statement.strip()}\n\n"
                f"Starter code:\n\n{self.stub.strip()}\n\nHint: {self.hint.strip()}\n")
