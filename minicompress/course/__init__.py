"""A course kit: exercises whose checks tell a student what is wrong, and a grader.

Every exercise is one function a student writes (a Linear layer's backward, OBD's saliencies,
stochastic rounding, ...), with a statement, a starter stub, a hint and a checker that compares
the student's function with the library's own on fixed edge cases and on random cases from
several seeds, and reports the first failing case.

>>> from minicompress.course import check, exercises
>>> exercises()[:2]                                   # doctest: +SKIP
['linear_backward', 'softmax_cross_entropy_grad']
>>> print(check("linear_backward", my_linear_backward).feedback)   # doctest: +SKIP

From the shell: ``minicompress course list``, ``minicompress course show NAME``,
``minicompress course check NAME FILE.py``, ``minicompress course grade FOLDER``.
"""
from __future__ import annotations

from minicompress.course.checking import Result

__all__ = ["exercises", "reference", "check", "show", "stub", "Result"]


def exercises() -> list[str]:
    """The exercises' names, in the order of the tutorials."""
    from minicompress.course.registry import all_exercises
    return list(all_exercises())


def reference(name: str):
    """The library function exercise ``name`` is checked against."""
    from minicompress.course.registry import get
    return get(name).reference


def check(name: str, fn) -> Result:
    """Check the student's function ``fn`` for exercise ``name``.

    Returns a Result: ``passed`` (bool) and ``feedback`` (the first failing case in words, or
    how many cases passed). Never raises because of what ``fn`` does; an unknown ``name``
    raises KeyError listing the exercises.
    """
    from minicompress.course.registry import get
    return get(name).check(fn)


def show(name: str) -> str:
    """The statement, the starter stub and the hint of exercise ``name``."""
    from minicompress.course.registry import get
    return get(name).describe()


def stub(name: str) -> str:
    """The starter code of exercise ``name`` (a function raising NotImplementedError)."""
    from minicompress.course.registry import get
    return get(name).stub
