"""The comparison helper every derivative test relies on must itself fail when it should."""
import numpy as np
import pytest

from minicompress.nn.gradcheck import assert_close


def test_passes_within_tolerance_and_returns_the_worst_ratio():
    ours, ref = np.array([1.0, 2.0 + 1e-9]), np.array([1.0, 2.0])
    worst = assert_close([("w", ours, ref)], rtol=1e-8, atol=0.0)
    assert 0.04 < worst < 0.06  # |diff| 1e-9 against a tolerance of 2e-8
    assert assert_close([("empty", np.zeros((0, 3)), np.zeros((0, 3)))], 1e-8, 0.0) == 0.0


def test_a_real_error_is_named_with_its_entry():
    with pytest.raises(AssertionError, match=r"b: entry \(1, 0\) is 2, reference 1"):
        assert_close([("a", np.ones(2), np.ones(2)), ("b", np.array([[1.0], [2.0]]), np.ones((2, 1)))],
                     rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("side", ["result", "reference"])
def test_non_finite_values_fail_in_either_array(bad, side):
    clean, dirty = np.ones((2, 3)), np.ones((2, 3))
    dirty[1, 2] = bad
    pair = ("H", dirty, clean) if side == "result" else ("H", clean, dirty)
    with pytest.raises(AssertionError, match=rf"H: the {side} holds 1 non-finite value\(s\); "
                                             rf"the first, at entry \(1, 2\), is -?(nan|inf)"):
        assert_close([pair], rtol=1e-6, atol=1e-9)


def test_a_nan_does_not_hide_a_real_error_beside_it():
    """The review's case: a 2-vs-1 error next to a NaN passed, since NaN > 1 is False and
    argmax pointed at the NaN."""
    ours, ref = np.array([np.nan, 2.0]), np.array([1.0, 1.0])
    with pytest.raises(AssertionError, match="non-finite"):
        assert_close([("Hv", ours, ref)], rtol=1e-6, atol=1e-9)
    with pytest.raises(AssertionError, match="non-finite"):
        assert_close([("Hv", np.array(np.nan), np.array(1.0))], rtol=1e-6, atol=1e-9)  # 0-d


def test_shapes_must_match():
    with pytest.raises(AssertionError, match=r"g: shape \(3,\) != reference shape \(1, 3\)"):
        assert_close([("g", np.ones(3), np.ones((1, 3)))], rtol=1e-6, atol=1e-9)
