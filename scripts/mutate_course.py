"""Mutation testing of the course kit: break the checkers and the grader on purpose, one change at
a time, and see whether tests/course notices (the machinery of scripts/mutate.py).

    python scripts/mutate_course.py            # every mutation, then the table
    python scripts/mutate_course.py --list
"""
from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

spec = importlib.util.spec_from_file_location("mutate", Path(__file__).with_name("mutate.py"))
mutate = importlib.util.module_from_spec(spec)
sys.modules["mutate"] = mutate
spec.loader.exec_module(mutate)
M = mutate.M

C, T = "minicompress/course/", "tests/course/"
EX, GR = T + "test_exercises.py", T + "test_grading.py"

COURSE = [
    M("values-unchecked", C + "checking.py", "        if bad.any():", "        if False:", EX,
      "the value comparison never fails"),
    M("shape-unchecked", C + "checking.py", "        if r.shape != e.shape:", "        if False:", EX,
      "the shape comparison never fails"),
    M("nan-unchecked", C + "checking.py", "        if r.dtype.kind == \"f\" and np.isnan(r).any() and not np.isnan(e).any():",
      "        if False:", EX, "NaN outputs are not named"),
    M("failures-ignored", C + "checking.py", "            return failed(exercise, case, number, len(cases), f.prop, f.detail, expected, received)",
      "            continue", EX, "a failing case is skipped instead of reported"),
    M("no-line", C + "checking.py", "    where = f\" (at {frames[-1].filename}, line {frames[-1].lineno}: {frames[-1].line})\" if frames else \"\"",
      "    where = \"\"", EX, "the student's line that raised is not shown"),
    M("inputs-shared", C + "checking.py", "    return fn(*copy.deepcopy(list(case.inputs.values())))",
      "    return fn(*list(case.inputs.values()))", EX, "the student's function writes into the reference's inputs"),
    M("bias-loose", C + "stochastic.py", "Z_LIMIT = 5.0", "Z_LIMIT = 500.0", EX, "the bias test accepts any rounding"),
    M("no-reproducibility", C + "stochastic.py", "            if not np.array_equal(np.asarray(again), r):",
      "            if False:", EX, "a rounding that ignores the seeded rng passes"),
    M("no-neighbours", C + "stochastic.py", "            if wrong.any():", "            if False:", EX,
      "draws off the two neighbouring grid points pass"),
    M("grid-unsaturated", C + "quantization.py", "    s = np.clip(np.asarray(x, np.float64) * 2.0 ** fl, fmt.min_code, fmt.max_code)",
      "    s = np.asarray(x, np.float64) * 2.0 ** fl", EX, "the allowed grid points ignore saturation"),
    M("mask-came-back", C + "magnitude.py", "    if mask is not None and np.any(received[np.asarray(mask) == 0] != 0):",
      "    if False:", EX, "a masked entry that came back is not named"),
    M("shrink-zero-group", C + "redundancy.py", "        if np.any(got[g] != 0):", "        if False:", EX,
      "a group that should be exactly zero is not named"),
    M("softmax-no-large-logits", C + "engine.py", "dict(z=np.array([[1000.0, 1001.0, 999.0], [-800.0, 0.0, 5.0]])",
      "dict(z=np.array([[1.0, 2.0, 0.0], [-8.0, 0.0, 5.0]])", EX, "the large-logits edge case made small"),
    M("timeout-as-fail", C + "grading.py", "            return Outcome(\"timeout\",", "            return Outcome(\"fail\",", GR,
      "a never-ending submission is reported as a plain failure"),
    M("library-accepted", C + "worker.py", "    if str(getattr(fn, \"__module__\", \"\")).startswith(\"minicompress\"):",
      "    if False:", GR, "a student who imports the library's function passes"),
    M("passed-count", C + "grading.py", "        passed = sum(row[n].passed for n in names)", "        passed = len(row)", GR,
      "the CSV's passed column counts every exercise"),
]

COURSE += [
    M("stub-as-fail", C + "worker.py", "    return (\"stub\" if", "    return (\"fail\" if", GR,
      "a function that still raises NotImplementedError is graded as a wrong answer"),
    M("affine-no-odd-tie", C + "integer.py", "dict(x=np.array([2.5, 0.25, -0.75]), scale=1.0, zero_point=1, bits=8)",
      "dict(x=np.array([2.25, 0.25, -0.75]), scale=1.0, zero_point=1, bits=8)", EX,
      "the affine quantizer's tie with an odd zero point made no tie"),
    M("library-unnoted", C + "exercise.py", "        if result.passed and str(getattr(fn, \"__module__\", \"\")).startswith(\"minicompress\"):",
      "        if False:", T + "test_tutorial_links.py", "the library's own function passes without a note"),
]

mutate.MUTATIONS = COURSE
mutate.FAMILIES = {"course": COURSE}
if __name__ == "__main__":
    sys.exit(mutate.main())
