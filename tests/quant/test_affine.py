"""Affine quantization r = S(q − Z): hand cases (ties with odd and even zero points), the round
trip within S/2, zero exactly representable, per-channel against a loop per channel, the
(S, Z) rule against PyTorch's formula written out, and the errors bad input gets."""
import numpy as np
import pytest

from minicompress.nn import NonFiniteError
from minicompress.quant import choose_qparams, dequantize_affine, fake_quantize, quantize_affine
from minicompress.quant.affine import code_range


def test_hand_cases_and_ties_add_the_zero_point_before_rounding():
    # x/S = 0.5, 1.5, 2.5, -0.5: round(x/S + Z) with Z = 1 (odd) rounds 1.5→2, 2.5→2, 3.5→4, 0.5→0
    x = np.array([0.25, 0.75, 1.25, -0.25], np.float32)
    assert quantize_affine(x, 0.5, 1).tolist() == [2, 2, 4, 0]
    assert quantize_affine(x, 0.5, 1, zero_point_first=False).tolist() == [1, 3, 3, 1]  # round(x/S)+Z
    assert quantize_affine(x, 0.5, 0).tolist() == [0, 2, 2, 0]  # even Z: both rules agree
    assert quantize_affine(x, 0.5, 0, zero_point_first=False).tolist() == [0, 2, 2, 0]
    q = quantize_affine(np.array([-1e9, 1e9, np.inf, -np.inf]), 0.1, -3)
    assert q.dtype == np.int8 and q.tolist() == [-128, 127, 127, -128]  # saturation
    u = quantize_affine(np.array([0.0, 1.0, 300.0]), 1.0, 10, signed=False)
    assert u.dtype == np.uint8 and u.tolist() == [10, 11, 255]
    assert quantize_affine(np.array([1.0]), 1e-3, 0, bits=12).dtype == np.int16


@pytest.mark.parametrize("bits, signed", [(2, True), (4, False), (8, True), (8, False), (16, True)])
def test_round_trip_is_within_half_a_step_and_zero_is_exact(bits, signed, rng):
    low, high = code_range(bits, signed)
    scale, zero = 0.037, int(rng.integers(low, high + 1))
    x = rng.uniform(scale * (low - zero), scale * (high - zero), 10_000)
    x[:2] = 0.0, -0.0
    q = quantize_affine(x, scale, zero, bits=bits, signed=signed)
    assert q.min() >= low and q.max() <= high
    back = dequantize_affine(q, scale, zero, dtype=np.float64)
    assert np.abs(back - x).max() <= scale / 2 * (1 + 1e-12)
    assert q[0] == q[1] == zero and back[0] == 0.0  # real 0 ↦ the code Z ↦ 0
    assert np.array_equal(fake_quantize(x, scale, zero, bits=bits, signed=signed), back)


def test_per_channel_equals_a_loop_over_channels(rng):
    w = rng.standard_normal((4, 3, 5)).astype(np.float32)
    scales, zeros = np.array([0.01, 0.02, 0.05]), np.array([0, -3, 7])
    q = quantize_affine(w, scales, zeros, axis=1)
    for c in range(3):
        assert np.array_equal(q[:, c], quantize_affine(w[:, c], scales[c], zeros[c]))
    r = dequantize_affine(q, scales, zeros, axis=-2)
    assert r.dtype == np.float32
    expected = (q[:, 1].astype(np.float32) + 3) * np.float32(0.02)  # PyTorch: float32 (q − Z)·S
    assert np.array_equal(r[:, 1], expected)


def torch_qparams(lo, hi, qmin, qmax):
    """PyTorch's MinMaxObserver._calculate_qparams, affine branch, written out."""
    lo, hi = min(lo, 0.0), max(hi, 0.0)
    scale = max((hi - lo) / (qmax - qmin), float(np.finfo(np.float32).eps))
    return scale, int(np.clip(qmin - round(lo / scale), qmin, qmax))


@pytest.mark.parametrize("lo, hi", [(-1.0, 3.0), (0.5, 2.0), (-2.0, -1.0), (0.0, 0.0), (-0.3, 0.0),
                                    (-0.2, 1.0), (-0.7, 0.6)])
def test_qparams_follow_the_observer_rule(lo, hi):
    scale, zero = choose_qparams(lo, hi, bits=8, signed=False)
    assert (float(scale), int(zero)) == pytest.approx(torch_qparams(lo, hi, 0, 255))
    scale, zero = choose_qparams(lo, hi, bits=8, signed=True)
    assert (float(scale), int(zero)) == pytest.approx(torch_qparams(lo, hi, -128, 127))
    s, z = choose_qparams(lo, hi, symmetric=True)
    assert z == 0 and float(s) == pytest.approx(max(max(-lo, hi) / 127, np.finfo(np.float32).eps))
    # the range's ends land on codes (within one step) and 0 is the code Z
    sa, za = choose_qparams(lo, hi)
    assert quantize_affine(np.array([0.0]), sa, za)[0] == za


def test_bad_input_gets_clear_errors():
    x = np.ones(3)
    with pytest.raises(ValueError, match="scale must be positive and finite"):
        quantize_affine(x, 0.0, 0)
    with pytest.raises(ValueError, match="scale must be positive"):
        quantize_affine(x, -1.0, 0)
    for bits in (1, 17, 8.0, True):
        with pytest.raises(ValueError, match="bits must be an int in \\[2, 16\\]"):
            quantize_affine(x, 1.0, 0, bits=bits)
    with pytest.raises(ValueError, match="axis must be an int in \\[-1, 0\\].*got 1"):
        quantize_affine(x, [1.0, 1.0, 1.0], 0, axis=1)
    with pytest.raises(ValueError, match="expects 3 scales"):
        quantize_affine(x, [1.0, 1.0], 0, axis=0)
    with pytest.raises(ValueError, match="per-tensor quantization takes one scale"):
        quantize_affine(x, [1.0, 2.0], 0)
    with pytest.raises(ValueError, match="zero_point must lie in \\[0, 255\\]"):
        quantize_affine(x, 1.0, -1, signed=False)
    with pytest.raises(ValueError, match="zero_point must hold integers"):
        quantize_affine(x, 1.0, 0.5)
    with pytest.raises(NonFiniteError, match="x contains NaN \\(first at flat index 1\\)"):
        quantize_affine(np.array([0.0, np.nan]), 1.0, 0)
    with pytest.raises(TypeError, match="q must be integer codes"):
        dequantize_affine(x, 1.0, 0)
    with pytest.raises(NonFiniteError, match="range must be finite"):
        choose_qparams(np.nan, 1.0)
    with pytest.raises(ValueError, match="expected lo <= hi"):
        choose_qparams(2.0, 1.0)
