"""Integer-only inference: the fixed-point kernels against Python's exact integers, the multiplier
against the real rescale (within one code), the int8 product against NumPy's int32 loop, the
integer layers against the real-valued formula, the integer model against its float64
simulation (bit for bit) and against the float32 fake-quant graph, the int32 bound, bad input."""
import math
from fractions import Fraction

import numpy as np
import pytest

from minicompress import models, nn
from minicompress.quant import calibrate, convert, integer_matmul, prepare
from minicompress.quant.integer_model import IntegerConv2d, IntegerLinear
from minicompress.quant.matmul import accumulator
from minicompress.quant.qat import FakeQuantize
from minicompress.quant.requantize import (multiplier_value, quantize_multiplier, requantize,
                                           requantize_float, rounding_shift, srdhm)


def round_half_up(f: Fraction) -> int:
    return math.floor(f + Fraction(1, 2))


def round_half_away(f: Fraction) -> int:
    return int(math.copysign(math.floor(abs(f) + Fraction(1, 2)), f))


def test_fixed_point_kernels_match_exact_integers(rng):
    a = np.concatenate([rng.integers(-2 ** 31, 2 ** 31, 3000), [0, 1, -1, 2 ** 31 - 1, -2 ** 31],
                        np.arange(-8, 9) * 2 ** 27]).astype(np.int32)
    for m0 in (2 ** 30, 2 ** 31 - 1, int(rng.integers(2 ** 30, 2 ** 31))):
        want = [round_half_up(Fraction(int(x) * m0, 2 ** 31)) for x in a]  # ties toward +∞
        assert srdhm(a, m0).tolist() == want
    x = np.concatenate([rng.integers(-2 ** 20, 2 ** 20, 3000), np.arange(-40, 41)]).astype(np.int32)
    for n in (0, 1, 3, 12):
        assert rounding_shift(x, n).tolist() == [round_half_away(Fraction(int(v), 2 ** n)) for v in x]


def test_multiplier_reproduces_the_real_rescale_within_one_code(rng):
    for m in np.concatenate([rng.uniform(1e-6, 1, 300), [0.5, 2 ** -20, 1 - 2 ** -31]]):
        m0, n = quantize_multiplier(float(m))
        assert 2 ** 30 <= m0 < 2 ** 31 and n >= 0 or (m0, n) == (2 ** 30, -1)
        assert abs(multiplier_value(m0, n) - m) <= m * 2.0 ** -31
        acc = rng.integers(-2 ** 24, 2 ** 24, 500).astype(np.int32)
        got = requantize(acc, m0, n, 3, -2 ** 31, 2 ** 31 - 1).astype(np.int64)
        assert np.abs(got - (3 + acc * float(m))).max() <= 1  # within one code of the real rescale
    assert quantize_multiplier(0.75, bits=2) == (3 * 2 ** 29, 0)
    assert quantize_multiplier(1 - 2 ** -40) == (2 ** 30, -1)  # rounds up to 1 = 2^1·2^30/2^31
    assert quantize_multiplier(3.0) == (3 * 2 ** 29, -2)  # M ≥ 1: a left shift
    acc = np.arange(-1000, 1001, dtype=np.int32)
    for m in (1.0, 1.7, 5.3):  # M ≥ 1 (coarse weights): left shift, then the same two roundings
        m0, n = quantize_multiplier(m)
        got = requantize(acc, m0, n, 0, -2 ** 31, 2 ** 31 - 1)
        assert np.abs(got - acc * m).max() <= 0.5 + 1e-9
        assert np.array_equal(got, requantize_float(acc.astype(np.float64), m0, n, 0, -2 ** 31, 2 ** 31 - 1))
    for bad in (0.0, -0.1, float("nan"), float("inf")):
        with pytest.raises(ValueError, match="expected a positive finite M"):
            quantize_multiplier(bad)


def test_float_requantization_is_exact_under_its_bound(rng):
    for bits in (22, 27):  # |acc| < 2^(52 − bits) keeps acc·M₀ exact in float64
        acc = rng.integers(-2 ** (52 - bits) + 1, 2 ** (52 - bits), 20_000)
        m0, n = quantize_multiplier(float(rng.uniform(1e-4, 1)), bits)
        ints = requantize(acc.astype(np.int32), m0, n, -5, -128, 127)
        assert np.array_equal(ints, requantize_float(acc.astype(np.float64), m0, n, -5, -128, 127))
    # ties in both steps: M₀ = 2³⁰ halves odd accumulators (srdhm: toward +∞), then n = 2 shifts
    # by 4 (ties away from 0): -7 → -3 → -1, 5 → 3 → 1, 12 → 6 → 2, -12 → -6 → -2, -4 → -2 → -1
    acc = np.array([-7, 5, -6, 6, 2, -2, 9, -9, 12, -12, -4, 4])
    want = [-1, 1, -1, 1, 0, 0, 1, -1, 2, -2, -1, 1]
    assert requantize(acc.astype(np.int32), 2 ** 30, 2, 0, -128, 127).tolist() == want
    assert requantize_float(acc.astype(np.float64), 2 ** 30, 2, 0, -128, 127).tolist() == want
    acc, want = np.array([-7, 5, -1, 1, 3]), [-3, 3, 0, 1, 2]  # n = 0: srdhm's ties alone
    assert requantize(acc.astype(np.int32), 2 ** 30, 0, 0, -128, 127).tolist() == want
    assert requantize_float(acc.astype(np.float64), 2 ** 30, 0, 0, -128, 127).tolist() == want


def test_m0_keeps_only_the_bits_the_float_simulation_can_carry():
    """Why M₀ loses bits: with all 31, an accumulator near 2²³ makes A·M₀ need 55 bits; float64
    rounds it, here onto a tie, and the simulation rounds the other way. The converter's layers
    keep 52 − log₂ bound(A) bits, so A·M₀ stays exact."""
    for m0 in range(2 ** 31 - 1, 2 ** 30, -2):  # odd multipliers, from the top
        a = (2 ** 30 - 1) * pow(m0, -1, 2 ** 31) % 2 ** 31  # A·M₀ ≡ 2³⁰ − 1: just below a tie
        if 2 ** 23 <= a < 2 ** 24:
            break
    acc = np.array([a])
    assert requantize(acc.astype(np.int32), m0, 0, 0, -2 ** 31, 2 ** 31 - 1) != \
        requantize_float(acc.astype(np.float64), m0, 0, 0, -2 ** 31, 2 ** 31 - 1)
    w = np.full((3, 784), 127)
    layer = IntegerLinear(w, 0.001, 0, None, (1 / 255, -128), (0.7, 0), relu=False)
    bits = 52 - math.ceil(math.log2(layer.acc_bound + 1))
    assert bits < 31 and np.all(layer.m0 % 2 ** (31 - bits) == 0) and np.all(layer.m0 >= 2 ** 30)


@pytest.mark.parametrize("k", [50, 784, 2000])
def test_int8_product_equals_numpys_int32_loop(k, rng):
    a = rng.integers(-128, 128, (33, k)).astype(np.int8)
    b = rng.integers(-128, 128, (k, 17)).astype(np.int8)
    a[0], b[:, 0] = -128, -128  # the largest products, 2^14 each: sums up to k·2^14
    a[0, ::3] = -127  # and not all multiples of a large power of two
    want = a.astype(np.int32) @ b.astype(np.int32)
    got = integer_matmul(a, b)
    assert got.dtype == np.int32 and np.array_equal(got, want)
    assert np.array_equal(integer_matmul(a, b, method="int32"), want)
    with pytest.raises(TypeError, match="must hold integers"):
        integer_matmul(a.astype(np.float32), b)
    assert [accumulator(2.0 ** 24), accumulator(2.0 ** 24 + 1), accumulator(2.0 ** 54)] == \
        ["float32", "float64", "int64"]


def qparams_pair():
    return (0.02, -7), (0.05, 11)


@pytest.mark.parametrize("w_zero", [0, 3])
def test_integer_linear_computes_the_affine_formula(w_zero, rng):
    """q₃ = clamp(Z₃ + round(M·Σ(q₁ − Z₁)(q₂ − Z₂) + M·q_b)) with Python integers and the
    real M of (M₀, n): the integer kernel, zero-point corrections folded, agrees exactly."""
    w = rng.integers(-100, 100, (6, 40))
    (s1, z1), (s3, z3) = qparams_pair()
    layer = IntegerLinear(w, np.full(6, 0.01), w_zero, rng.normal(0, 0.5, 6), (s1, z1), (s3, z3), relu=False)
    x = rng.integers(-128, 128, (9, 40)).astype(np.int8)
    got = layer.forward(x)
    for i in range(9):
        for o in range(6):
            acc = sum((int(x[i, j]) - z1) * (int(w[o, j]) - w_zero) for j in range(40)) + int(layer.bias[o])
            v = round_half_up(Fraction(acc * int(layer.m0[o]), 2 ** 31))
            q = round_half_away(Fraction(v, 2 ** int(layer.shift[o]))) + z3
            assert got[i, o] == min(max(q, -128), 127)
    assert np.array_equal(got, layer.simulate(x.astype(np.float64)))


def test_integer_conv_pads_with_the_zero_point_and_matches_a_loop(rng):
    conv = nn.Conv2d(3, 4, 3, stride=2, padding=1, rng=0)
    (s1, z1), (s3, z3) = qparams_pair()
    w = rng.integers(-127, 128, (4, 27))
    layer = IntegerConv2d(conv, w, np.full(4, 0.003), 0, None, (s1, z1), (s3, z3), relu=True)
    x = rng.integers(-128, 128, (2, 3, 7, 6)).astype(np.int8)
    got = layer.forward(x)
    padded = np.pad(x.astype(np.int64), ((0, 0), (0, 0), (1, 1), (1, 1)), constant_values=z1)
    assert got.shape == (2, 4, 4, 3)
    for n in range(2):
        for o in range(4):
            for r in range(4):
                for c in range(3):
                    window = padded[n, :, 2 * r:2 * r + 3, 2 * c:2 * c + 3].ravel()
                    acc = int(((window - z1) * w[o]).sum())
                    q = requantize(np.array([acc], np.int32), layer.m0[o], layer.shift[o], z3, z3, 127)
                    assert got[n, o, r, c] == q[0]  # ReLU fused: clamped at Z₃, the code of 0
    assert np.array_equal(got, layer.simulate(x.astype(np.float64)))


def test_int32_accumulation_bound_is_asserted():
    w = np.full((2, 140_000), 127)  # 140,000·127·128 > 2^31
    with pytest.raises(OverflowError, match="int32 accumulation could overflow"):
        IntegerLinear(w, 0.01, 0, None, (0.02, 0), (0.05, 0), relu=False)


@pytest.fixture(scope="module")
def trained_lenets():
    """A briefly trained LeNet-300-100 and small LeNet on random-but-structured data."""
    rng = np.random.default_rng(5)
    x = rng.random((300, 1, 28, 28)).astype(np.float32) ** 3
    y = (x[:, 0, :14].mean(axis=(1, 2)) * 40).astype(int) % 10
    from minicompress.train import fit
    nets = [models.lenet_300_100(rng=1), models.small_lenet(rng=2, channels=(4, 8, 30))]
    for net in nets:
        fit(net, nn.SoftmaxCrossEntropy(), nn.SGD(net.parameters(), lr=0.05, momentum=0.9), x, y,
            epochs=2, batch_size=50, rng=3, verbose=False)
    return nets, x


@pytest.mark.parametrize("per_channel, weight_bits", [(True, 8), (False, 4)])
def test_integer_model_equals_its_simulation_and_the_fake_quant_graph(trained_lenets, per_channel, weight_bits):
    nets, x = trained_lenets
    x = x[:120]
    for net in nets:
        fake = calibrate(prepare(net, per_channel=per_channel, weight_bits=weight_bits), x)
        model = convert(fake)
        q = model.quantize_input(x)
        codes = model.forward(q)
        assert codes.dtype == np.int8 and np.array_equal(codes, model.simulate(q))
        fake(x)  # the float32 fake-quant graph: real scales, float32 arithmetic
        float_codes = [m for m in fake.modules() if isinstance(m, FakeQuantize)][-1].cache["codes"]
        # the float32 graph rounds M and near-ties its own way: close, not equal (codes within one
        # of each other almost everywhere); a wrong scale or zero point would scatter them
        assert np.mean(np.abs(codes.astype(int) - float_codes) <= 1) > 0.95
        with pytest.raises(TypeError, match="expected int8 codes"):
            model.forward(q.astype(np.int32))
