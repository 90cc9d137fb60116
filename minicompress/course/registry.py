"""All exercises, in the order of the tutorials; one module per family of exercises."""
from __future__ import annotations

import importlib

# the family modules, in tutorial order; each defines EXERCISES, a list of Exercise
FAMILIES = ("engine", "curvature", "sensitivity", "redundancy", "quantization", "factorization",
            "magnitude")


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
