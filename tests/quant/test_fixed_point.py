"""Fixed point <IL, FL>: the grid, the three roundings (hand cases, ties, statistics), saturation,
exactness, the exact matrix product, integer codes, and the errors bad input gets."""
from fractions import Fraction

import numpy as np
import pytest

from minicompress.nn import NonFiniteError
from minicompress.quant import FixedPoint, fixed_matmul, from_codes, quantize_fixed, to_codes
from minicompress.quant.rounding import round_stochastic

FMT = FixedPoint(8, 2)  # <6, 2>: step 0.25, range [-32, 31.75]


def test_format_describes_its_grid():
    fmt = FixedPoint(16, 14)  # Gupta's <2, 14>
    assert (fmt.integer_bits, fmt.resolution, fmt.min, fmt.max) == (2, 2 ** -14, -2.0, 2 - 2 ** -14)
    assert (fmt.min_code, fmt.max_code, fmt.label) == (-32768, 32767, "<2,14>")
    text = repr(fmt)
    assert "range [-2.0, 1.99993896484375]" in text and "resolution 2^-14" in text


@pytest.mark.parametrize("args, name", [((1, 0), "word_bits"), ((54, 0), "word_bits"),
                                        ((16, -1), "frac_bits"), ((16, 65), "frac_bits"),
                                        ((16.0, 8), "word_bits"), ((True, 1), "word_bits")])
def test_invalid_formats_are_refused_with_the_field_named(args, name):
    with pytest.raises(ValueError, match=f"FixedPoint: {name} must be an int"):
        FixedPoint(*args)


def test_bad_arguments_get_clear_errors():
    x = np.zeros(3, np.float32)
    with pytest.raises(ValueError, match="unknown rounding 'nearest_even'; expected one of 'nearest', 'stochastic', 'down'"):
        quantize_fixed(x, FMT, "nearest_even")
    with pytest.raises(TypeError, match="must be float32 or float64, got int64"):
        quantize_fixed(np.arange(3), FMT, "nearest")
    with pytest.raises(TypeError, match="must be float32 or float64, got float16"):
        quantize_fixed(x.astype(np.float16), FMT, "nearest")
    with pytest.raises(TypeError, match="fmt must be a FixedPoint"):
        quantize_fixed(x, (8, 2), "nearest")
    with pytest.raises(TypeError, match="32-bit words do not fit exactly in float32.*float64"):
        quantize_fixed(x, FixedPoint(32, 16), "nearest")
    assert quantize_fixed(x.astype(np.float64), FixedPoint(32, 16), "nearest").dtype == np.float64


def test_nan_raises_and_infinities_saturate():
    with pytest.raises(NonFiniteError, match="NaN \\(first at flat index 1\\)"):
        quantize_fixed(np.array([0.0, np.nan]), FMT, "nearest")
    q = quantize_fixed(np.array([np.inf, -np.inf], np.float32), FMT, "stochastic", rng=0)
    assert q.tolist() == [31.75, -32.0]


# Gupta's Eq. 1: floor(x) if x - floor(x) <= eps/2 else floor(x) + eps, so ties go down (to -inf)
NEAREST_CASES = [(0.125, 0.0), (0.375, 0.25), (-0.125, -0.25), (-0.375, -0.5), (0.13, 0.25),
                 (0.12, 0.0), (-0.13, -0.25), (-0.12, 0.0), (1.0, 1.0), (-0.0, 0.0)]
DOWN_CASES = [(0.1, 0.0), (0.25, 0.25), (-0.1, -0.25), (-0.25, -0.25), (31.99, 31.75)]
SATURATION_CASES = [(100.0, 31.75), (-100.0, -32.0), (31.8, 31.75), (31.874, 31.75), (-32.1, -32.0)]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_nearest_down_and_saturation_match_hand_cases(dtype):
    for cases, mode in ((NEAREST_CASES, "nearest"), (DOWN_CASES, "down"),
                        (SATURATION_CASES, "nearest"), (SATURATION_CASES, "down")):
        x, expected = (np.array(c, dtype) for c in zip(*cases))
        if mode == "down":
            expected = np.floor(np.clip(x, -32, 31.75) * 4) / 4
        assert quantize_fixed(x, FMT, mode).tolist() == expected.tolist(), mode
    big = np.array([31.9, 40.0, -33.0], dtype)  # beyond the range, stochastic rounding saturates too
    assert quantize_fixed(big, FMT, "stochastic", rng=0).tolist() == [31.75, 31.75, -32.0]


@pytest.mark.parametrize("mode", FixedPoint.ROUNDINGS)
@pytest.mark.parametrize("dtype, fmt", [(np.float32, FixedPoint(16, 8)), (np.float32, FixedPoint(24, 20)),
                                        (np.float64, FixedPoint(53, 30))])
def test_grid_points_come_back_unchanged_bit_for_bit(mode, dtype, fmt, rng):
    codes = rng.integers(fmt.min_code, fmt.max_code, 10_000, endpoint=True)
    codes[:2] = fmt.min_code, fmt.max_code
    x = from_codes(codes, fmt, dtype)
    q = quantize_fixed(x, fmt, mode, rng=1)
    assert q.dtype == dtype and np.array_equal(q.view(np.uint8), x.view(np.uint8))
    assert np.array_equal(quantize_fixed(q, fmt, mode, rng=2), q)  # idempotent: no drift


@pytest.mark.parametrize("mode", FixedPoint.ROUNDINGS)
def test_results_lie_on_the_grid_within_one_step(mode, rng):
    fmt = FixedPoint(16, 10)
    x = rng.uniform(fmt.min, fmt.max, 50_000).astype(np.float32)  # inside the range
    q = quantize_fixed(x, fmt, mode, rng=3)
    codes = q.astype(np.float64) * 2 ** 10
    assert np.array_equal(codes, np.round(codes))
    assert codes.min() >= fmt.min_code and codes.max() <= fmt.max_code
    error = np.abs(q.astype(np.float64) - x)
    if mode == "nearest":
        assert error.max() <= fmt.resolution / 2
    else:
        assert error.max() < fmt.resolution
    if mode == "down":
        assert (q <= x).all()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("k, fraction", [(5, 0.3), (-3, 0.3), (0, 2 ** -10), (-1, 1 - 2 ** -10), (100, 0.5)])
def test_stochastic_rounding_is_unbiased(dtype, k, fraction):
    """x = (k + f)·ε rounds up with probability f. n = 10⁵ draws: the count of ups is
    Binomial(n, f), so |ups/n − f| ≤ 5·sqrt(f(1 − f)/n) fails with probability below 6e-7."""
    fmt, n = FixedPoint(16, 8), 100_000
    x = np.full(n, (k + fraction) * fmt.resolution, dtype)
    q = quantize_fixed(x, fmt, "stochastic", rng=2024)
    lower, upper = k * fmt.resolution, (k + 1) * fmt.resolution
    assert set(np.unique(q).tolist()) <= {lower, upper}
    ups = np.count_nonzero(q == upper) / n
    assert abs(ups - fraction) <= 5 * np.sqrt(fraction * (1 - fraction) / n)


def test_stochastic_rounding_repeats_for_a_seed_and_matches_the_readable_form(rng):
    x = rng.standard_normal(1000).astype(np.float32)
    fmt = FixedPoint(16, 8)
    a, b = quantize_fixed(x, fmt, "stochastic", rng=7), quantize_fixed(x, fmt, "stochastic", rng=7)
    assert np.array_equal(a, b) and not np.array_equal(a, quantize_fixed(x, fmt, "stochastic", rng=8))
    s = x * np.float32(256)
    lower = np.floor(s)
    u = np.random.default_rng(9).random(s.shape, dtype=np.float32)  # the draws the kernel makes
    readable = lower + (u < s - lower)
    assert np.array_equal(round_stochastic(s.copy(), np.random.default_rng(9), buffers={}), readable)


def test_scalars_and_strided_arrays_keep_their_shape():
    q = quantize_fixed(np.float32(0.3), FMT, "nearest")
    assert isinstance(q, np.float32) and q == 0.25
    assert quantize_fixed(0.3, FMT, "down") == 0.25  # a Python float is float64
    x = np.arange(12, dtype=np.float32).reshape(3, 4).T / 7
    assert np.array_equal(quantize_fixed(x, FMT, "stochastic", rng=0, buffers={}),
                          quantize_fixed(np.ascontiguousarray(x), FMT, "stochastic", rng=0))


def exact_once(a_codes, b_codes, shift, fmt, mode):
    """The exact rational product, rounded once by Gupta's Eq. 1 (or floor), saturated."""
    out = np.empty((a_codes.shape[0], b_codes.shape[1]))
    for i in range(out.shape[0]):
        for j in range(out.shape[1]):
            total = sum(int(p) * int(q) for p, q in zip(a_codes[i], b_codes[:, j]))
            scaled = Fraction(total, 2 ** shift)  # in units of the output step
            code = -((-(2 * scaled - 1)) // 2) if mode == "nearest" else scaled.__floor__()
            out[i, j] = min(max(code, fmt.min_code), fmt.max_code) * fmt.resolution
    return out


@pytest.mark.parametrize("mode", ["nearest", "down"])
def test_fixed_matmul_equals_the_exact_product_rounded_once(mode, rng):
    a_fmt, b_fmt, fmt = FixedPoint(16, 12), FixedPoint(16, 14), FixedPoint(16, 10)
    a = quantize_fixed(rng.standard_normal((7, 300)).astype(np.float32), a_fmt, "nearest")
    b = quantize_fixed(0.2 * rng.standard_normal((300, 5)).astype(np.float32), b_fmt, "nearest")
    got = fixed_matmul(a, b, fmt, mode, a_fmt=a_fmt, b_fmt=b_fmt)
    expected = exact_once(to_codes(a, a_fmt), to_codes(b, b_fmt), 12 + 14 - 10, fmt, mode)
    assert got.dtype == np.float32 and np.array_equal(got, expected)
    sr = fixed_matmul(a, b, fmt, "stochastic", rng=0, a_fmt=a_fmt, b_fmt=b_fmt)
    assert np.abs(sr - a.astype(np.float64) @ b.astype(np.float64)).max() < fmt.resolution


def near_ties():
    """Operands whose exact sums lie one unit (of ε_a·ε_b = 2⁻²⁸) beside a tie or a grid
    point of the output ⟨6, 10⟩, at a magnitude (~2²⁸ units) where float32 keeps only 24 bits:
    rounding a sum to float32 first, or accumulating in float32, lands on the tie (or the grid
    point) and then rounds the wrong way. Columns: 2001·2¹⁷ = (1000 + ½)·2¹⁸ is a tie, and
    2002·2¹⁷ = 1001·2¹⁸ a grid point (2¹⁸ units = one output step); rows add ±1 unit."""
    a_fmt = b_fmt = FixedPoint(16, 14)
    a_codes = np.array([[2 ** 14, 1], [2 ** 14, -1], [-2 ** 14, 1], [-2 ** 14, -1]])
    b_codes = np.array([[8 * 2001, 8 * 2002], [1, 1]])
    return from_codes(a_codes, a_fmt, np.float32), from_codes(b_codes, b_fmt, np.float32), a_fmt


@pytest.mark.parametrize("mode", ["nearest", "down"])
def test_fixed_matmul_rounds_near_ties_as_the_exact_sum_does(mode):
    a, b, fmt_in = near_ties()
    fmt = FixedPoint(16, 10)
    got = fixed_matmul(a, b, fmt, mode, a_fmt=fmt_in, b_fmt=fmt_in)
    expected = exact_once(to_codes(a, fmt_in), to_codes(b, fmt_in), 14 + 14 - 10, fmt, mode)
    assert np.array_equal(got, expected)
    step = fmt.resolution
    if mode == "nearest":  # just above a tie goes up; just below goes down (ties go down)
        assert (got[:, 0] / step).tolist() == [1001, 1000, -1000, -1001]
    else:  # just below a grid point goes down a whole step
        assert (got[:, 1] / step).tolist() == [1001, 1000, -1001, -1002]
    # the cases discriminate: a float32 accumulator, or a float32 sum rounded again, differs
    sums32 = (to_codes(a, fmt_in).astype(np.float32) @ to_codes(b, fmt_in).astype(np.float32))
    float32_path = quantize_fixed((sums32 * np.float32(2.0 ** -28)).astype(np.float64), fmt, mode)
    assert not np.array_equal(float32_path, expected)


@pytest.mark.parametrize("mode", ["nearest", "down"])
def test_fixed_matmul_does_not_sum_float32_operands_in_float32_beyond_2_24(mode):
    """Sums of 2·4095² + c lie in (2^24, 2^25), where float32's spacing is 2: an odd sum is
    rounded to even. c = 23·89 = 2047 puts the exact sum one unit above a tie of the result's
    grid, c = 5·409 = 2045 one unit below; a float32 accumulator lands both on the tie, and so
    rounds one of them wrongly whichever way ties go. Only a wider accumulator gets both."""
    fmt_in, fmt = FixedPoint(13, 12), FixedPoint(16, 12)
    a_codes = np.array([[4095, 4095, 23], [4095, 4095, 5]])
    b_codes = np.array([[4095, 4095], [4095, 4095], [89, 409]])
    a, b = from_codes(a_codes, fmt_in, np.float32), from_codes(b_codes, fmt_in, np.float32)
    got = fixed_matmul(a, b, fmt, mode, a_fmt=fmt_in, b_fmt=fmt_in)
    assert got.dtype == np.float32
    assert np.array_equal(got, exact_once(a_codes, b_codes, 12, fmt, mode))
    sums32 = a_codes.astype(np.float32) @ b_codes.astype(np.float32)
    float32_path = quantize_fixed((sums32 * np.float32(2.0 ** -24)).astype(np.float64), fmt, mode)
    assert mode == "down" or not np.array_equal(float32_path, got)  # the case discriminates


def test_fixed_matmul_refuses_what_it_cannot_do_exactly():
    fmt = FixedPoint(16, 8)
    a, b = np.full((2, 3), 0.5), np.full((3, 2), 0.25)
    with pytest.raises(ValueError, match="a is not on the grid"):
        fixed_matmul(a + 1e-3, b, fmt, "nearest")
    with pytest.raises(ValueError, match="b lies outside the range"):
        fixed_matmul(a, b + 200, fmt, "nearest")
    with pytest.raises(ValueError, match="expected a \\(m, k\\) and b \\(k, n\\)"):
        fixed_matmul(a, b.T, fmt, "nearest")
    for name in ("a_fmt", "b_fmt"):
        with pytest.raises(TypeError, match=f"fixed_matmul: {name} must be a FixedPoint, got tuple"):
            fixed_matmul(a, b, fmt, "nearest", **{name: (16, 8)})
    with pytest.raises(TypeError, match="fixed_matmul: fmt must be a FixedPoint, got str"):
        fixed_matmul(a, b, "<8,8>", "nearest")
    huge = FixedPoint(53, 0)  # sums of 2 products of 52-bit codes reach 2^105: beyond int64
    big = np.full((2, 2), 2.0 ** 52 - 1)
    with pytest.raises(ValueError, match="beyond int64's range.*use narrower words"):
        fixed_matmul(big, big, huge, "nearest")


@pytest.mark.parametrize("mode", ["nearest", "down"])
@pytest.mark.parametrize("scale, path", [(1, "float32"), (2 ** 6, "float64"), (2 ** 20, "int64")])
def test_fixed_matmul_is_exact_on_each_accumulator(mode, scale, path, rng):
    """Random codes at three magnitudes: sums below 2^24 (the float32 product of the values is
    exact), below 2^53 (float64 codes), and beyond (the exact int64 product, rounded in
    integers); each against Python's exact integers."""
    from minicompress.quant.matmul import accumulator, sum_bound
    word = 16 if path != "int64" else 40
    a_fmt, b_fmt, fmt = FixedPoint(word, 8), FixedPoint(word, 8), FixedPoint(word, 4)
    a_codes = rng.integers(-40 * scale, 40 * scale + 1, (5, 60))
    b_codes = rng.integers(-40 * scale, 40 * scale + 1, (60, 4))
    dtype = np.float32 if path == "float32" else np.float64
    a, b = from_codes(a_codes, a_fmt, dtype), from_codes(b_codes, b_fmt, dtype)
    units = 2.0 ** -16
    assert accumulator(sum_bound(a, b, np.abs(a).max(), np.abs(b).max(), units)) == path
    got = fixed_matmul(a, b, fmt, mode, a_fmt=a_fmt, b_fmt=b_fmt)
    assert got.dtype == dtype and np.array_equal(got, exact_once(a_codes, b_codes, 12, fmt, mode))


def test_integer_rounding_of_exact_sums_at_ties():
    from minicompress.quant.matmul import round_integers
    fmt = FixedPoint(16, 0)
    s = np.array([5 * 16 + 8, -5 * 16 - 8, 5 * 16 + 9, -5 * 16 - 9, 7, -7, 0])  # ties first
    assert (round_integers(s, 4, fmt, "nearest", None)).tolist() == [5, -6, 6, -6, 0, 0, 0]  # ties down
    assert (round_integers(s, 4, fmt, "down", None)).tolist() == [5, -6, 5, -6, 0, -1, 0]
    assert round_integers(np.array([3]), -2, fmt, "nearest", None).tolist() == [12]
    draws = round_integers(np.full(40_000, 5 * 16 + 4), 4, fmt, "stochastic", 0)  # 5.25
    assert set(draws.tolist()) == {5.0, 6.0} and abs(draws.mean() - 5.25) < 0.01


def test_codes_show_the_registers():
    fmt = FixedPoint(8, 4)
    x = np.array([-1.25, 0.0, 1.25, 7.9375, -8.0])
    codes = to_codes(x, fmt)
    assert codes.dtype == np.int32 and codes.tolist() == [-20, 0, 20, 127, -128]
    assert np.array_equal(from_codes(codes, fmt), x)
    assert fmt.bits(-1.25) == "1110.1100" and fmt.bits(1.25) == "0001.0100"
    assert FixedPoint(4, 0).bits(-8) == "1000"
    with pytest.raises(ValueError, match="not on the grid"):
        to_codes(np.array([0.1]), fmt)
    with pytest.raises(ValueError, match="codes must lie in \\[-128, 127\\]"):
        from_codes(np.array([128]), fmt)
    for dtype, shown in ((np.float16, "float16"), (np.int32, "int32"), ("bfloat16", "'bfloat16'")):
        with pytest.raises(TypeError, match=f"from_codes: dtype must be float32 or float64, got {shown}"):
            from_codes(codes, fmt, dtype)
    with pytest.raises(TypeError, match="from_codes: fmt must be a FixedPoint, got tuple"):
        from_codes(codes, (8, 4))
    with pytest.raises(TypeError, match="to_codes: fmt must be a FixedPoint, got str"):
        to_codes(x, "<4,4>")


def test_more_fraction_bits_than_word_bits_give_a_range_below_one_half():
    """FixedPoint(8, 12): IL = −4, so the point lies 4 bits left of the word (documented)."""
    fmt = FixedPoint(8, 12)
    assert (fmt.integer_bits, fmt.min, fmt.max) == (-4, -2.0 ** -5, 2.0 ** -5 - 2.0 ** -12)
    x = np.array([-1.0, -0.01, 0.0, 0.02, 1.0])
    q = quantize_fixed(x, fmt, "nearest")
    assert q.tolist() == [fmt.min, -41 * 2.0 ** -12, 0.0, 82 * 2.0 ** -12, fmt.max]
    assert fmt.bits(fmt.min) == ".111110000000" and fmt.bits(fmt.max) == ".000001111111"
    assert "range [-0.03125, 0.031005859375]" in repr(fmt)
