"""Every exercise: the reference passes its own check; wrong solutions (several per exercise)
fail with feedback naming the failing case; raising, misshapen and NaN outputs fail cleanly."""
import inspect

import numpy as np
import pytest

from minicompress import course
from minicompress.course.registry import all_exercises, get
from tests.course.wrong_variants import WRONG

NAMES = course.exercises()
TUTORIALS = ("01_engine", "02_second_derivatives", "03_sensitivity_pruning",
             "04_redundancy_and_structure", "05_quantization", "06_factorization",
             "07_magnitude_pruning", "08_optimal_brain_surgeon", "09_deep_compression",
             "10_integer_inference", "11_hessian_spectrum")


def test_at_least_two_exercises_per_tutorial():
    tutorials = [ex.tutorial for ex in all_exercises().values()]
    for t in TUTORIALS:
        assert tutorials.count(t) >= 2, t


@pytest.mark.parametrize("name", NAMES)
def test_reference_passes_its_own_check(name):
    result = course.check(name, course.reference(name))
    assert result.passed, result.feedback
    assert "passed" in result.feedback


@pytest.mark.parametrize("name", NAMES)
def test_wrong_variants_fail_naming_the_case(name):
    variants = WRONG[name]
    assert len(variants) >= 3
    for label, fn, word in variants:
        result = course.check(name, fn)
        assert not result.passed, f"{name}: the wrong variant '{label}' passed"
        assert "FAILED" in result.feedback and ("case" in result.feedback or "bias test" in result.feedback)
        assert "property failed" in result.feedback, result.feedback
        assert word in result.feedback, f"{name}, '{label}': {word!r} not in\n{result.feedback}"


def _first_array(out):
    return out[-1] if isinstance(out, tuple) else out


@pytest.mark.parametrize("name", NAMES)
def test_a_function_that_raises_fails_cleanly(name):
    def broken(*args):
        raise RuntimeError("my bug")
    result = course.check(name, broken)
    assert not result.passed
    assert "raised RuntimeError: my bug" in result.feedback
    assert "line" in result.feedback  # the student's line that raised


@pytest.mark.parametrize("name", NAMES)
def test_the_stub_is_reported_as_not_implemented(name):
    namespace = {}
    exec(get(name).stub, namespace)
    result = course.check(name, namespace[name])
    assert not result.passed and "not implemented yet" in result.feedback


@pytest.mark.parametrize("name", NAMES)
def test_wrong_shape_fails_cleanly(name):
    ref = course.reference(name)

    def misshapen(*args):
        out = ref(*args)
        if isinstance(out, tuple):
            return out[:-1] + (np.asarray(out[-1])[..., None],)
        return np.asarray(out)[..., None]
    result = course.check(name, misshapen)
    assert not result.passed
    assert "shape" in result.feedback, result.feedback


@pytest.mark.parametrize("name", NAMES)
def test_nan_fails_cleanly(name):
    ref = course.reference(name)

    def with_nan(*args):
        out = ref(*args)
        last = np.array(_first_array(out), dtype=np.asarray(_first_array(out)).dtype)
        if last.dtype.kind != "f":
            last = last.astype(float)
        last.reshape(-1)[0] = np.nan
        return out[:-1] + (last,) if isinstance(out, tuple) else last
    result = course.check(name, with_nan)
    assert not result.passed
    assert "nan" in result.feedback.lower(), result.feedback


def test_unknown_name_lists_the_exercises():
    with pytest.raises(KeyError, match="linear_backward"):
        course.check("no_such_exercise", print)
    assert not course.check("obd_saliency", 3).passed


@pytest.mark.parametrize("name", NAMES)
def test_statement_stub_and_hint(name):
    ex = get(name)
    assert f"{name}(" in ex.statement and f"def {name}(" in ex.stub
    assert "NotImplementedError" in ex.stub and len(ex.hint) > 20
    assert name in course.show(name)


def test_feedback_never_shows_the_reference_code():
    for name in NAMES:
        ex = get(name)
        source = inspect.getsource(ex.reference)
        body = [line.strip() for line in source.splitlines()[1:] if len(line.strip()) > 12
                and not line.strip().startswith(('"""', "#"))]
        for label, fn, _ in WRONG[name]:
            feedback = course.check(name, fn).feedback
            assert not any(line in feedback for line in body), (name, label)


def test_a_student_function_may_write_into_its_inputs():
    def destructive(h, w):
        out = 0.5 * h * w * w
        h[...] = 0.0
        w[...] = 0.0
        return out
    assert course.check("obd_saliency", destructive).passed


def test_feedback_shows_the_inputs_as_given_even_if_the_function_overwrote_them():
    def destructive_and_wrong(h, w):
        h[...] = 7.0
        return h * w
    feedback = course.check("obd_saliency", destructive_and_wrong).feedback
    assert "h = [0. 2. 0.]" in feedback and "7." not in feedback.split("expected")[0]


@pytest.mark.parametrize("name", NAMES)
def test_a_solution_written_from_the_statement_passes(name):
    from tests.course import solutions
    result = course.check(name, getattr(solutions, name))
    assert result.passed, result.feedback
