"""Checking a stochastic rounding statistically: the properties every draw must have, then the
probability of rounding up, estimated from many draws and held against the exact one."""
from __future__ import annotations

import numpy as np

from minicompress.course.checking import (Failure, Result, call, compare_structure, failed, show,
                                          student_error)

DRAWS = 20_000
Z_LIMIT = 5.0  # two-sided; P(|z| > 5) ≈ 5.7e-7 per probability for a correct rounding


def check_stochastic_grid(exercise, fn, grid, probes) -> Result:
    """Check a stochastic rounding onto a grid.

    ``grid(case) -> (lower, upper)``: the two values every draw must be one of (equal where x is
    on the grid or saturates). ``probes``: (inputs dict without rng, label) pairs; the fraction of
    the DRAWS entries rounded up must match P(up) = (x − lower)/(upper − lower) within Z_LIMIT
    standard errors. ``fn`` gets the inputs positionally, then a seeded np.random.Generator.
    """
    if not callable(fn):
        return Result(exercise.name, False, f"{exercise.name}: expected a function, got {type(fn).__name__}")
    cases = exercise.cases()
    for number, case in enumerate(cases, 1):
        seed = int(case.inputs["rng"])
        run = lambda s: call(fn, type(case)(case.label, {**case.inputs, "rng": np.random.default_rng(s)}))
        try:
            with np.errstate(all="ignore"):
                received, again, other = run(seed), run(seed), run(seed + 1000)
        except NotImplementedError:
            return Result(exercise.name, False, f"{exercise.name}: not implemented yet (the stub "
                                                f"raises NotImplementedError)")
        except Exception as err:  # noqa: BLE001
            return failed(exercise, case, number, len(cases), "raised", student_error(err), None, None)
        lower, upper = grid(case)
        try:
            compare_structure(lower, received, exercise.outputs)
            r = np.asarray(received, np.float64)
            if np.isnan(r).any():
                raise Failure("NaN", f"NaN at flat index {int(np.flatnonzero(np.isnan(r.ravel()))[0])}")
            wrong = ~((r == lower) | (r == upper))
            if wrong.any():
                k = int(np.flatnonzero(wrong.ravel())[0])
                x = np.asarray(case.inputs["x"]).ravel()[k]
                allowed = sorted({float(lower.ravel()[k]), float(upper.ravel()[k])})
                raise Failure("neighbours", f"at flat index {k}, x = {float(x)!r} may only round to "
                                            f"{' or '.join(map(repr, allowed))} (the grid points "
                                            f"around it, after saturating), received {float(r.ravel()[k])!r}")
            if not np.array_equal(np.asarray(again), r):
                raise Failure("reproducibility", "two calls with the same seeded rng gave different "
                                                 "results: draw every random number from the rng argument")
            undecided = lower != upper
            if undecided.sum() >= 32 and np.array_equal(np.asarray(other), r):
                raise Failure("randomness", "generators with different seeds gave identical results "
                                            "on 32+ values between grid points: is rng used?")
        except Failure as f:
            return failed(exercise, case, number, len(cases), f.prop, f.detail, lower if
                          np.array_equal(lower, upper) else None, received)
    for k, (inputs, label) in enumerate(probes):
        problem = _probe(exercise, fn, inputs, label, grid, seed=12345 + k)
        if problem:
            return Result(exercise.name, False, problem)
    return Result(exercise.name, True,
                  f"{exercise.name}: passed all {len(cases)} cases (every draw on the grid, next to x, "
                  f"saturated, reproducible from the rng) and {len(probes)} bias tests ({DRAWS:,} draws "
                  f"each; a z-test at |z| ≤ {Z_LIMIT:g}: a correct rounding fails one with probability "
                  f"below {len(probes) * 6e-7:.0e})")


def _probe(exercise, fn, inputs, label, grid, seed):
    x = float(inputs["x"])
    case_inputs = {**inputs, "x": np.full(DRAWS, x)}
    case = type("ProbeCase", (), {"inputs": case_inputs})
    lower, upper = (float(v[0]) for v in grid(case))
    try:
        with np.errstate(all="ignore"):
            q = np.asarray(fn(*case_inputs.values(), np.random.default_rng(seed)), np.float64)
    except Exception as err:  # noqa: BLE001
        return f"{exercise.name}: FAILED the bias test for x = {x!r} ({label}): {student_error(err)}"
    p = (x - lower) / (upper - lower)
    up = float(np.mean(q == upper))
    se = np.sqrt(p * (1 - p) / DRAWS)
    z = (up - p) / se
    if q.shape != (DRAWS,) or not np.all((q == lower) | (q == upper)) or not abs(z) <= Z_LIMIT:
        return (f"{exercise.name}: FAILED the bias test for x = {x!r} ({label})\n"
                f"  property failed: bias: x lies between {lower!r} and {upper!r}, a fraction "
                f"{p:.4f} of the step above {lower!r}, so an unbiased rounding rounds up with "
                f"probability {p:.4f} (E[q(x)] = x).\n"
                f"  received: up in {100 * up:.2f}% of {DRAWS:,} draws (expected {100 * p:.2f}% ± "
                f"{100 * se:.2f}%, z = {z:.1f}); mean of the draws {float(np.mean(q))!r} instead of "
                f"{x!r}.\n  inputs: {', '.join(f'{k} = {show(v)}' for k, v in inputs.items())}, "
                f"rng = np.random.default_rng({seed}), x repeated {DRAWS:,} times in one array")
    return None
