"""Float formats by bit manipulation: bfloat16 hand vectors, all 65,536 bfloat16 patterns, float16
against NumPy's own IEEE conversion, every format against an exact rational reference, the
specials (±0, subnormals, overflow, NaN), stochastic rounding's statistics, and bad input."""
import math
from fractions import Fraction

import numpy as np
import pytest

from minicompress.quant import BFLOAT16, FLOAT16, FloatFormat, quantize_float

F32_MAX = float(np.finfo(np.float32).max)


def bits(x) -> int:
    return int(np.asarray(x, np.float32).view(np.uint32))


def test_bfloat16_hand_vectors():
    rne = lambda v: float(quantize_float(np.float32(v), BFLOAT16, "nearest_even"))
    assert rne(1 + 2 ** -8) == 1.0  # a tie: to the even neighbour 1
    assert rne(1 + 3 * 2 ** -8) == 1 + 2 ** -6  # a tie: to the even neighbour 1 + 2·2⁻⁷
    assert rne(1 + 2 ** -8 + 2 ** -20) == 1 + 2 ** -7  # just above the tie
    assert rne(F32_MAX) == math.inf and rne(-F32_MAX) == -math.inf  # overflow
    assert rne(BFLOAT16.max) == BFLOAT16.max == (2 - 2 ** -7) * 2 ** 127
    tz = quantize_float(np.float32([F32_MAX, -F32_MAX, 1 + 2 ** -7 - 2 ** -23]), BFLOAT16, "toward_zero")
    assert tz.tolist() == [BFLOAT16.max, -BFLOAT16.max, 1.0]
    # subnormals: 3·2⁻¹³⁴ is a tie between 2⁻¹³³ and 2·2⁻¹³³ (even); 2⁻¹⁴⁰ + 2⁻¹⁴⁹ rounds to +0
    assert rne(3 * 2.0 ** -134) == 2.0 ** -132 and bits(rne(2.0 ** -140 + 2.0 ** -149)) == 0
    assert bits(rne(-(2.0 ** -140))) == 0x80000000  # -0 keeps its sign


def test_zeros_infinities_and_nan_for_every_mode():
    x = np.array([0.0, -0.0, np.inf, -np.inf], np.float32)
    nans = np.array([0x7FC00000, 0xFF800001, 0x7F800100], np.uint32).view(np.float32)  # quiet, signalling
    for mode in FloatFormat.ROUNDINGS:
        for fmt in (BFLOAT16, FLOAT16):
            q = quantize_float(x, fmt, mode, rng=0)
            assert q.view(np.uint32).tolist() == x.view(np.uint32).tolist()
            out = quantize_float(nans, fmt, mode, rng=0)
            assert np.isnan(out).all() and np.signbit(out).tolist() == [False, True, False]
    quiet = quantize_float(nans, BFLOAT16, "nearest_even").view(np.uint32)
    assert quiet.tolist() == [0x7FC00000, 0xFFC00000, 0x7FC00000]  # TF: (u >> 16) | 0x0040


def test_every_bfloat16_pattern_round_trips():
    patterns = np.arange(2 ** 16, dtype=np.uint32) << 16  # all 65,536 bfloat16 values as float32
    x = patterns.view(np.float32)
    finite = ~np.isnan(x)
    for mode in FloatFormat.ROUNDINGS:
        q = quantize_float(x, BFLOAT16, mode, rng=0)
        assert np.array_equal(q.view(np.uint32)[finite], patterns[finite]), mode
        assert np.isnan(q[~finite]).all()


def float16_test_values(rng, dtype):
    """Values over float16's whole range and beyond, plus every kind of tie."""
    magnitudes = np.exp(rng.uniform(np.log(2.0 ** -27), np.log(2.0 ** 17), 200_000))
    x = (magnitudes * rng.choice([-1, 1], magnitudes.size)).astype(dtype)
    low = np.arange(0, 0x7BFF, 7, dtype=np.uint16)  # patterns of float16 numbers, and the next ones
    pair = [p.view(np.float16).astype(np.float64) for p in (low, low + 1)]
    ties = ((pair[0] + pair[1]) / 2).astype(dtype)  # exact midpoints (12 significant bits)
    return np.concatenate([x, ties, -ties, np.array([65504, 65519.99, 65520, 2.0 ** -25], dtype)])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_float16_matches_numpys_ieee_conversion_bit_for_bit(dtype, rng):
    x = float16_test_values(rng, dtype)
    with np.errstate(over="ignore"):
        expected = x.astype(np.float16).astype(dtype)
    got = quantize_float(x, FLOAT16, "nearest_even")
    uint = np.uint32 if dtype == np.float32 else np.uint64
    assert np.array_equal(got.view(uint), expected.view(uint))


def reference(x: float, fmt: FloatFormat, mode: str) -> tuple:
    """Exact rational rounding of one finite value: (result, lower, upper neighbour)."""
    if x == 0:
        return x, x, x
    a = Fraction(abs(x))
    exponent = max(math.floor(math.log2(a)), fmt.emin)  # log2 may be off by one: fix below
    while Fraction(2) ** exponent > a and exponent > fmt.emin:
        exponent -= 1
    while Fraction(2) ** (exponent + 1) <= a:
        exponent += 1
    step = Fraction(2) ** (exponent - fmt.man_bits)
    low = (a // step) * step
    high = low + step
    if mode == "toward_zero":
        r = low
    else:
        r = low if (a - low < high - a or (a - low == high - a and (low / step) % 2 == 0)) else high
    big = Fraction(fmt.max)
    if r > big:
        r = math.inf if mode == "nearest_even" else big
    if not fmt.subnormals and r < Fraction(fmt.smallest_normal):
        r = 0
    sign = -1 if x < 0 else 1
    return sign * float(r), sign * float(low), sign * float(min(high, big))


@pytest.mark.parametrize("fmt", [FloatFormat(4, 3), FloatFormat(6, 5), BFLOAT16, FLOAT16,
                                 FloatFormat(5, 10, subnormals=False), FloatFormat(8, 20)])
def test_every_format_matches_an_exact_rational_reference(fmt, rng):
    span = (fmt.emin - fmt.man_bits - 2, fmt.emax + 2)
    with np.errstate(over="ignore"):  # a few draws exceed float32: dropped
        x = (np.exp2(rng.uniform(*span, 2000)) * rng.choice([-1, 1], 2000)).astype(np.float32)
    x = x[np.isfinite(x)]
    for mode in ("nearest_even", "toward_zero"):
        got = quantize_float(x, fmt, mode)
        expected = [reference(float(v), fmt, mode)[0] for v in x]
        assert got.tolist() == expected, (fmt, mode)
    sr = quantize_float(x, fmt, "stochastic", rng=1)
    for v, q in zip(x.tolist(), sr.tolist()):
        _, low, high = reference(v, fmt, "toward_zero")
        assert q in (low, high) or (not fmt.subnormals and q == 0)


@pytest.mark.parametrize("fmt, value, spacing", [
    (BFLOAT16, 1 + 2 ** -9, 2 ** -7),  # normal range: up with probability 1/4
    (BFLOAT16, -(3 + 0.3 * 2 ** -6), 2 ** -6),
    (FLOAT16, 0.3 * 2 ** -24, 2 ** -24),  # float16's subnormals: the fixed-point branch
    (FLOAT16, 5.3 * 2 ** -24, 2 ** -24),  # the same, above the smallest subnormal
    (FloatFormat(4, 3), -0.01, 2 ** -9),  # a tiny format's subnormals
    (FLOAT16, 1000.1, 0.5),
])
def test_stochastic_rounding_is_unbiased(fmt, value, spacing):
    """Ups among n = 10⁵ draws are Binomial(n, p), p = distance to the lower neighbour / spacing:
    |ups/n − p| ≤ 5·sqrt(p(1 − p)/n) fails with probability below 6e-7."""
    n = 100_000
    x = np.full(n, value, np.float32)
    low = float(quantize_float(x[:1], fmt, "toward_zero")[0])
    p = abs(float(x[0]) - low) / spacing
    q = quantize_float(x, fmt, "stochastic", rng=99)
    ups = np.count_nonzero(q != low) / n
    assert set(np.unique(np.abs(q)).tolist()) <= {abs(low), abs(low) + spacing}
    assert abs(ups - p) <= 5 * math.sqrt(p * (1 - p) / n)


def test_what_stochastic_rounding_does_not_keep_in_expectation():
    """E[q(x)] = x fails where the module docstring says: beyond ±max every draw saturates (the
    mean is max, not x), and flushing subnormals pulls the mean toward zero."""
    x = np.full(1000, BFLOAT16.max * (1 + 2 ** -9), np.float32)  # between max and the overflow
    q = quantize_float(x, BFLOAT16, "stochastic", rng=3)
    assert (q == BFLOAT16.max).all() and q.astype(np.float64).mean() < float(x[0])
    ftz = FloatFormat(5, 10, subnormals=False)
    tiny = np.full(1000, 0.75 * FLOAT16.smallest_normal, np.float32)  # a subnormal of float16
    assert quantize_float(tiny, FLOAT16, "stochastic", rng=3).mean() == pytest.approx(tiny[0], rel=0.1)
    flushed = quantize_float(tiny, ftz, "stochastic", rng=3)
    assert set(flushed.tolist()) <= {0.0, FLOAT16.smallest_normal}
    assert flushed.mean() < 0.5 * tiny[0]  # only the draws that round up to 2^emin survive


def test_an_int_seed_draws_every_random_bit_from_one_generator():
    """Normal and subnormal entries are rounded in two passes; with an int seed both must draw
    from one generator, exactly as if that generator had been passed."""
    x = np.array([1.3, 0.3 * 2 ** -24, 5.3 * 2 ** -24, -2.7, 3e-6] * 200, np.float32)
    for fmt in (FLOAT16, FloatFormat(4, 3)):
        by_seed = quantize_float(x, fmt, "stochastic", rng=11)
        by_generator = quantize_float(x, fmt, "stochastic", rng=np.random.default_rng(11))
        assert np.array_equal(by_seed, by_generator)


def test_stochastic_rounding_saturates_and_float64_input_agrees_with_float32():
    big = np.array([F32_MAX, -F32_MAX, BFLOAT16.max * 1.001], np.float32)
    assert quantize_float(big, BFLOAT16, "stochastic", rng=0).tolist() == [BFLOAT16.max, -BFLOAT16.max, BFLOAT16.max]
    x32 = np.array([1e-39, 1e-42, -3e-39, 1.7, 65519.0, 1e-6], np.float32)  # exact in both dtypes
    for fmt in (BFLOAT16, FLOAT16):
        for mode in ("nearest_even", "toward_zero"):
            assert np.array_equal(quantize_float(x32.astype(np.float64), fmt, mode), quantize_float(x32, fmt, mode))


def test_flush_to_zero_keeps_the_sign():
    ftz = FloatFormat(5, 10, subnormals=False)
    q = quantize_float(np.array([1e-6, -1e-6, 2.0 ** -14, 2.0 ** -14 * (1 - 2 ** -12)], np.float32), ftz, "nearest_even")
    assert q.tolist() == [0.0, 0.0, 2.0 ** -14, 2.0 ** -14] and np.signbit(q).tolist() == [False, True, False, False]
    assert ftz.label == "float16-ftz" and "subnormals=False" in repr(ftz)


def test_the_formats_describe_themselves():
    assert BFLOAT16.bits(1.0) == "0 01111111 0000000" and BFLOAT16.bits(-2.5) == "1 10000000 0100000"
    assert FLOAT16.bits(2 ** -24) == "0 00000 0000000001" and FLOAT16.bits(65504) == "0 11110 1111111111"
    assert FLOAT16.bits(math.inf) == "0 11111 0000000000"
    with pytest.raises(ValueError, match="is not a value of"):
        BFLOAT16.bits(0.1)
    assert BFLOAT16.spacing(1.0) == 2 ** -7 and FLOAT16.spacing(1000.0) == 0.5
    assert FLOAT16.spacing(0.0) == FLOAT16.smallest_subnormal == 2.0 ** -24
    for bad in (math.inf, -math.inf, math.nan):
        with pytest.raises(ValueError, match=f"spacing: x must be finite .*got {bad}"):
            BFLOAT16.spacing(bad)
    with pytest.raises(ValueError, match="got nan among 3 values"):
        FLOAT16.spacing(np.array([1.0, np.nan, 2.0]))
    assert (BFLOAT16.emin, BFLOAT16.emax, FLOAT16.max, FLOAT16.epsilon) == (-126, 127, 65504.0, 2 ** -10)
    assert "max 6.55e+04" in repr(FLOAT16) and "smallest subnormal 9.184e-41" in repr(BFLOAT16)


def test_bad_input_gets_clear_errors():
    x = np.ones(3, np.float32)
    with pytest.raises(ValueError, match="unknown rounding 'nearest'; expected one of 'nearest_even', 'toward_zero', 'stochastic'"):
        quantize_float(x, BFLOAT16, "nearest")
    with pytest.raises(TypeError, match="float32 values cannot hold .* pass float64"):
        quantize_float(x, FloatFormat(11, 52), "nearest_even")
    with pytest.raises(TypeError, match="must be float32 or float64, got int64"):
        quantize_float(np.arange(3), BFLOAT16, "nearest_even")
    with pytest.raises(TypeError, match="fmt must be a FloatFormat"):
        quantize_float(x, "bfloat16", "nearest_even")
    for args, name in (((1, 7), "exp_bits"), ((12, 7), "exp_bits"), ((8, 0), "man_bits"), ((8, 53), "man_bits")):
        with pytest.raises(ValueError, match=f"FloatFormat: {name} must be an int"):
            FloatFormat(*args)
    with pytest.raises(ValueError, match="subnormals must be True or False"):
        FloatFormat(8, 7, subnormals="no")


def test_strided_input_keeps_its_shape_and_scratch_buffers_change_nothing(rng):
    x = rng.standard_normal((6, 5)).astype(np.float32).T  # not C-contiguous
    buffers = {}
    for mode in FloatFormat.ROUNDINGS:
        a = quantize_float(x, BFLOAT16, mode, rng=4, buffers=buffers)
        b = quantize_float(np.ascontiguousarray(x), BFLOAT16, mode, rng=4)
        assert a.shape == (5, 6) and np.array_equal(a, b)
    assert isinstance(quantize_float(np.float32(1.3), FLOAT16, "nearest_even"), np.float32)
