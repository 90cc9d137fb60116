"""The 8-bit (and 6-, 4-bit) floats: every code decoded then encoded back, the decoded values
against the format's definition, casts against vectors checked with ml_dtypes 0.7 (run in a
separate process when this was written; ml_dtypes is not a dependency), ties and midpoints of
every pair of neighbours, the overflow policy, stochastic rounding, and the MX block formats."""
from fractions import Fraction

import numpy as np
import pytest

from minicompress.quant import E2M1, E2M3, E3M2, E4M3, E5M2, FloatFormat, MXFormat, mx_quantize, quantize_float
from minicompress.quant.mx import (MXFP4, MXFP6_E2M3, MXFP8_E4M3, MXINT8, e8m0_decode, e8m0_encode,
                                   mx_decode, mx_encode)

FORMATS = [E4M3, E5M2, E3M2, E2M3, E2M1]


def definition(code: int, fmt: FloatFormat) -> float:
    """The value of a code, straight from the format's definition (Fractions, then float)."""
    e, m = fmt.exp_bits, fmt.man_bits
    sign, field, frac = code >> (e + m), (code >> m) & (2 ** e - 1), code & (2 ** m - 1)
    top = field == 2 ** e - 1
    if fmt.specials == "ieee" and top:
        return (-1) ** sign * float("inf") if frac == 0 else float("nan")
    if fmt.specials == "nan" and top and frac == 2 ** m - 1:
        return float("nan")
    if field == 0:
        value = Fraction(frac, 2 ** m) * Fraction(2) ** (1 - fmt.bias)
    else:
        value = (1 + Fraction(frac, 2 ** m)) * Fraction(2) ** (field - fmt.bias)
    return -float(value) if sign else float(value)


@pytest.mark.parametrize("fmt", FORMATS, ids=lambda f: f.label)
def test_every_code_decodes_by_definition_and_encodes_back(fmt):
    n = 2 ** (1 + fmt.exp_bits + fmt.man_bits)
    codes = np.arange(n)
    values = fmt.decode(codes)
    for c in range(n):
        want = definition(c, fmt)
        assert (np.isnan(values[c]) and np.isnan(want)) or (values[c] == want and
                                                           np.signbit(values[c]) == np.signbit(want)), c
    assert np.array_equal(fmt.encode(values).astype(np.int64), codes)  # NaN payloads included
    finite = np.isfinite(values)
    assert np.array_equal(quantize_float(values[finite], fmt, "nearest_even"), values[finite])
    assert np.nanmax(values[finite]) == fmt.max
    assert np.isnan(values).sum() == {"ieee": 2 * (2 ** fmt.man_bits - 1), "nan": 2, "none": 0}[fmt.specials]


def test_the_fp8_formats_describe_themselves():
    assert (E4M3.max, E4M3.smallest_normal, E4M3.smallest_subnormal) == (448.0, 2.0 ** -6, 2.0 ** -9)
    assert (E5M2.max, E5M2.smallest_normal, E5M2.smallest_subnormal) == (57344.0, 2.0 ** -14, 2.0 ** -16)
    assert (E3M2.max, E2M3.max, E2M1.max) == (28.0, 7.5, 6.0)
    assert E4M3.bits(448) == "0 1111 110" and E4M3.bits(-2 ** -9) == "1 0000 001"
    assert E5M2.bits(float("inf")) == "0 11111 00" and E4M3.label == "e4m3fn"
    with pytest.raises(ValueError, match="has no infinities"):
        E4M3.encode(np.inf)
    with pytest.raises(ValueError, match="no NaN"):
        E2M1.encode(np.nan)
    with pytest.raises(ValueError, match="is not a value of"):
        E4M3.encode(0.3)
    with pytest.raises(ValueError, match="specials must be one of"):
        FloatFormat(4, 3, specials="fn")


# (input, E4M3, E5M2) as ml_dtypes 0.7 casts them (float32 and float64 input alike)
ML_DTYPES = [(448, 448, 448), (464, 448, 448), (465, np.nan, 448), (479, np.nan, 448),
             (480, np.nan, 512), (61439, np.nan, 57344), (61440, np.nan, np.inf), (1e6, np.nan, np.inf),
             (np.inf, np.nan, np.inf), (-np.inf, np.nan, -np.inf), (2 ** -10, 0, 2 ** -10),
             (1.5 * 2 ** -10, 2 ** -9, 1.5 * 2 ** -10), (2 ** -17, 0, 0), (1.0001 * 2 ** -17, 0, 2 ** -16),
             (-0.0, -0.0, -0.0), (0.1, 0.1015625, 0.09375), (-3.3, -3.25, -3.5)]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_casts_match_ml_dtypes(dtype):
    x = np.array([c[0] for c in ML_DTYPES], dtype)
    for fmt, column in ((E4M3, 1), (E5M2, 2)):
        got = quantize_float(x, fmt, "nearest_even")
        want = np.array([c[column] for c in ML_DTYPES], dtype)
        assert np.array_equal(got, want, equal_nan=True), fmt.label
        assert np.array_equal(np.signbit(got[~np.isnan(want)]), np.signbit(want[~np.isnan(want)]))
    fp4 = quantize_float(np.array([5, 6.5, 7, 100, np.inf, -np.inf], dtype), E2M1, "nearest_even")
    assert fp4.tolist() == [4, 6, 6, 6, 6, -6]  # no specials: overflow saturates (ml_dtypes, OCP)


def test_saturate_clamps_overflow_and_infinities_but_not_nan():
    x = np.array([465.0, -1e9, np.inf, -np.inf, np.nan, 100.0])
    assert quantize_float(x, E4M3, "nearest_even", saturate=True)[:4].tolist() == [448, -448, 448, -448]
    s = quantize_float(x, E5M2, "nearest_even", saturate=True)
    assert s[:4].tolist() == [448, -57344, 57344, -57344] and np.isnan(s[4]) and s[5] == 96
    for mode in ("toward_zero", "stochastic"):  # these always saturate finite overflow
        assert quantize_float(np.array([1e9]), E4M3, mode, rng=0)[0] == 448


@pytest.mark.parametrize("fmt", FORMATS, ids=lambda f: f.label)
def test_midpoints_of_neighbours_round_to_even_and_neighbours_of_midpoints_round_to_the_nearer(fmt):
    v = fmt.decode(np.arange(2 ** (fmt.exp_bits + fmt.man_bits)))  # non-negative codes
    v = np.sort(v[np.isfinite(v)])
    lo, hi = v[:-1], v[1:]
    mid = (lo + hi) / 2  # exact in float64
    got = quantize_float(mid, fmt, "nearest_even")
    even = np.where(fmt.encode(lo).astype(int) % 2 == 0, lo, hi)
    assert np.array_equal(got, even)
    assert np.array_equal(quantize_float(np.nextafter(mid, 0), fmt, "nearest_even"), lo)
    assert np.array_equal(quantize_float(np.nextafter(mid, np.inf), fmt, "nearest_even"), hi)


def test_stochastic_rounding_of_e4m3_is_unbiased(rng):
    x = np.full(200_000, 0.3, np.float32)  # between 0.28125 and 0.3125
    q = quantize_float(x, E4M3, "stochastic", rng=rng)
    assert set(np.unique(q).tolist()) == {0.28125, 0.3125}
    assert abs(q.astype(np.float64).mean() - 0.3) < 4 * 0.03125 * 0.5 / np.sqrt(x.size)


def test_e8m0_scales_every_code():
    codes = np.arange(256)
    scales = e8m0_decode(codes)
    assert np.isnan(scales[255]) and scales[127] == 1.0 and scales[0] == 2.0 ** -127 and scales[254] == 2.0 ** 127
    assert np.array_equal(e8m0_encode(scales).astype(int), codes)
    with pytest.raises(ValueError, match="power of two"):
        e8m0_encode(3.0)


@pytest.mark.parametrize("fmt", [MXFP8_E4M3, MXFP6_E2M3, MXFP4, MXINT8], ids=lambda f: f.label)
def test_mx_blocks_share_the_scale_of_their_largest_value(fmt, rng):
    x = rng.standard_normal((3, 70)) * np.exp2(rng.integers(-20, 20, (3, 1)))
    codes, elements = mx_encode(x, fmt)
    assert codes.shape == (3, 3) and elements.shape == (3, 3, 32)  # 70 = 32 + 32 + 6 (padded)
    blocks = np.concatenate([x, np.zeros((3, 26))], axis=1).reshape(3, 3, 32)
    amax = np.abs(blocks).max(axis=-1)
    assert np.array_equal(codes.astype(int) - 127, np.floor(np.log2(amax)).astype(int) - fmt.emax)
    assert np.abs(elements).max() <= fmt.element_max
    q = mx_quantize(x, fmt)
    assert q.shape == x.shape and np.array_equal(mx_quantize(q, fmt), q)  # on the grid: unchanged
    scale = e8m0_decode(codes)[..., None]
    spacing = np.full(blocks.shape, 2.0 ** -6) if fmt.element == "int8" else \
        fmt.element.spacing(np.abs(blocks) / scale)
    step = scale * spacing
    err = np.abs(blocks - mx_decode(codes, elements).reshape(3, 3, 32))
    clipped = np.abs(blocks) / scale > fmt.element_max
    assert np.all(err[~clipped] <= step[~clipped] / 2)  # rounding error ≤ half a step, unless saturated


def test_mx_stochastic_rounding_is_unbiased_and_nonfinite_blocks_are_nan(rng):
    x = np.tile(np.concatenate([[1.0], np.full(31, 0.3)]), (4000, 1))  # scale 2^(0−2) for E2M1
    q = mx_quantize(x, MXFP4, "stochastic", rng=rng)
    assert abs(q[:, 1:].mean() - 0.3) < 1e-3 and set(np.unique(q[:, 1:]).tolist()) <= {0.25, 0.375}
    q8 = mx_quantize(x, MXINT8, "stochastic", rng=rng)  # scale 1, steps of 2⁻⁶: 0.3 = 19.2 steps
    assert abs(q8[:, 1:].mean() - 0.3) < 8e-5 and set(np.unique(q8[:, 1:]).tolist()) == {19 / 64, 20 / 64}
    y = np.ones(64)
    y[40] = np.inf
    out = mx_quantize(y, MXFP8_E4M3)
    assert np.all(out[:32] == 1) and np.all(np.isnan(out[32:]))
    assert np.all(mx_quantize(np.zeros(40), MXINT8) == 0)
    with pytest.raises(ValueError, match="element must be a FloatFormat or 'int8'"):
        MXFormat("fp4")
    with pytest.raises(ValueError, match="rounding must be 'nearest_even' or 'stochastic'"):
        mx_quantize(y, MXFP4, "toward_zero")
