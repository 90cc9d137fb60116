"""All exercises, in the order of the tutorials; one module per family of exercises.

Adding an exercise: in its family's module (or a new one, listed in FAMILIES), write the
reference (the library's function, or a thin wrapper that gives it the exercise's signature),
the cases (a few fixed edge cases that each test one rule, labelled "edge: ...", then
``random_cases(make)`` over the seeds), and an ``Exercise(...)`` in the module's EXERCISES;
then at least three wrong variants in tests/course/wrong_variants.py, and a ``check("name", ...)``
line at the end of its tutorial.
"""
from __future__ import annotations

import importlib

# the family modules, in tutorial order; each defines EXERCISES, a list of Exercise
FAMILIES = ("engine", "curvature", "sensitivity", "redundancy", "quantization", "factorization",
            "magnitude", "surgeon", "weight_sharing", "integer", "spectrum")


def all_exercises() -> dict:
    """name -> Exercise, in tutorial order (imported on first use: nothing runs at import time)."""
    found = {}
    for family in FAMILIES:
        module = importlib.import_module(f"minicompress.course.{family}")
        for exercise in module.EXERCISES:
            if exercise.name in found:
                raise RuntimeError(f"two exercises named {exercise.name!r}")
            found[exercise.name] = exercise
    return found


def get(name: str):
    """The Exercise called ``name``; a clear error listing the names otherwise."""
    found = all_exercises()
    if name not in found:
        raise KeyError(f"no exercise named {name!r}; the exercises are: {', '.join(found)}")
    return found[name]
