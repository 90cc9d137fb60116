"""Quantized training without editing layers: Quantizer counts, the Quantize module, where
quantize_model inserts it, the exact one-rounding-per-dot-product property, and the optimizer
wrapper's rounding and lost-update counts."""
import numpy as np
import pytest

from minicompress import nn
from minicompress.quant import (BFLOAT16, FixedPoint, Quantize, QuantizedOptimizer, Quantizer,
                                fixed_matmul, quantize_float, quantize_model)
from minicompress.train import fit

FMT = FixedPoint(16, 14)  # <2, 14>: range [-2, 2 - 2^-14]


def on_grid(x, fmt=FMT) -> bool:
    s = np.asarray(x, np.float64) * 2.0 ** fmt.frac_bits
    return bool(np.array_equal(s, np.round(s)) and s.min() >= fmt.min_code and s.max() <= fmt.max_code)


def mlp(rng=0):
    r = np.random.default_rng(rng)
    return nn.Sequential(nn.Flatten(), nn.Linear(12, 8, rng=r), nn.ReLU(), nn.Linear(8, 3, rng=r))


def test_quantizer_counts_what_rounding_did():
    q = Quantizer(FixedPoint(8, 2), "nearest")
    out = q(np.array([0.0, 0.1, -0.1, 0.2, 40.0, -40.0, 1.0]))
    assert out.tolist() == [0.0, 0.0, 0.0, 0.25, 31.75, -32.0, 1.0]
    assert q.counts == dict(values=7, nonzero=6, zeroed=2, saturated=2)
    assert q.fraction("zeroed") == 2 / 6 and q.fraction("saturated") == 2 / 7
    q.quantize(np.array([0.1]))  # uncounted
    assert q.counts["values"] == 7
    q.reset()
    assert np.isnan(q.fraction("zeroed"))
    floats = Quantizer(BFLOAT16, "nearest_even")
    floats(np.array([1e-45, 3.39e38, 1.0], np.float32))  # a float32 subnormal -> 0; beyond bf16's max
    assert floats.counts == dict(values=3, nonzero=3, zeroed=1, saturated=1)


def test_quantizer_rejects_bad_arguments():
    with pytest.raises(ValueError, match="unknown rounding 'nearest_even'; expected one of 'nearest', 'stochastic', 'down'"):
        Quantizer(FMT, "nearest_even")
    with pytest.raises(TypeError, match="fmt must be a FixedPoint or a FloatFormat"):
        Quantizer("bfloat16", "nearest_even")
    with pytest.raises(ValueError, match="expected 'zeroed' or 'saturated'"):
        Quantizer(FMT, "down").fraction("lost")
    with pytest.raises(TypeError, match="count must be True or False, got 'no'"):
        Quantizer(FMT, "down", count="no")


def test_quantize_rounds_forward_and_backward_and_clips_the_gradient_of_saturation():
    layer = Quantize(Quantizer(FMT, "nearest"), Quantizer(FixedPoint(16, 2), "down"))
    x = np.array([[-3.0, 0.1, 3.0, -2.0, FMT.max]])
    y = layer(x)
    assert y.tolist() == [[-2.0, quantize_fixed_nearest(0.1), FMT.max, -2.0, FMT.max]]
    g = layer.backward(np.full_like(x, 1.3))
    # saturated entries get no error; the range ends themselves are inside (x = min, x = max)
    assert g.tolist() == [[0.0, 1.25, 0.0, 1.25, 1.25]]
    straight = Quantize(Quantizer(FMT, "nearest"), clip_gradient=False)
    straight(x)
    assert straight.backward(np.ones_like(x)).tolist() == [[1.0] * 5]
    with pytest.raises(ValueError, match="backward expected g_out of shape \\(1, 5\\)"):
        layer.backward(np.ones((2, 5)))


def quantize_fixed_nearest(v):
    return np.ceil(v * 2 ** 14 - 0.5) / 2 ** 14


def test_quantize_casts_counts_only_in_training_and_names_itself():
    q = Quantizer(FMT, "stochastic", rng=0)
    layer = Quantize(q, dtype=np.float64)
    x = np.full((2, 3), 0.3, np.float32)
    y = layer(x)
    assert y.dtype == np.float64 and on_grid(y)
    assert layer.backward(np.ones((2, 3))).dtype == np.float32
    layer.eval()
    layer(x)
    assert q.counts["values"] == 6  # the evaluation pass is not counted
    assert repr(layer) == "Quantize(forward=<2,14> stochastic, dtype=float64)"
    with pytest.raises(TypeError, match="forward must be a Quantizer or None"):
        Quantize(FMT)


def kinds(model):
    return [type(m).__name__ if not isinstance(m, Quantize) else
            "Q" + ("f" if m.forward_quantizer else "") + ("b" if m.backward_quantizer else "")
            for m in model.layers]


def test_quantize_model_places_the_modules_and_leaves_the_original_alone():
    base = mlp()
    before = {k: v.copy() for k, v in base.state_dict().items()}
    q = Quantizer(FMT, "nearest")
    gupta = quantize_model(base, activations=q, errors=q, inputs=q, dtype=np.float64)
    assert kinds(gupta) == ["Qf", "Flatten", "Linear", "Qfb", "ReLU", "Linear", "Qfb"]
    assert all(p.data.dtype == np.float64 for p in gupta.parameters())
    tpu = quantize_model(base, activations=q, errors=q, placement="inputs")
    assert kinds(tpu) == ["Flatten", "Qf", "Linear", "Qb", "ReLU", "Qf", "Linear", "Qb"]
    assert [p.name for p in tpu.parameters()] == ["2.weight", "2.bias", "6.weight", "6.bias"]
    tpu.parameters()[0].data += 1  # a copy: the original does not move
    assert all(np.array_equal(before[k], v) for k, v in base.state_dict().items())
    nested = quantize_model(nn.Sequential(nn.Sequential(nn.Linear(4, 4, rng=0), nn.Tanh())), activations=q)
    assert kinds(nested.layers[0]) == ["Linear", "Qf", "Tanh", "Qf"]
    with pytest.raises(ValueError, match="placement must be one of"):
        quantize_model(base, placement="weights")
    with pytest.raises(TypeError, match="expected an engine Module"):
        quantize_model([nn.Linear(2, 2)])


def test_a_float64_linear_layer_rounds_each_dot_product_exactly_once(rng):
    """Gupta's multiply-accumulate: on-grid inputs and weights, exact sums, one rounding."""
    fmt = FixedPoint(16, 10)
    q = Quantizer(fmt, "nearest")
    model = quantize_model(nn.Sequential(nn.Linear(300, 7, rng=1)), activations=q, dtype=np.float64)
    optimizer = QuantizedOptimizer(nn.SGD(model.parameters(), lr=0.1), Quantizer(fmt, "nearest"))
    linear = model.layers[1]  # after the Quantize that casts the input to float64
    x = fmt.quantize(rng.uniform(-1, 1, (5, 300)), "nearest")
    ones = np.ones((5, 1))  # the bias as one more product with an input of 1
    expected = fixed_matmul(np.hstack([x, ones]), np.vstack([linear.weight.data.T, linear.bias.data]),
                            fmt, "nearest")
    assert optimizer.stored[0] is linear.weight.data and on_grid(linear.weight.data, fmt)
    assert np.array_equal(model(x), expected)


def test_optimizer_stores_on_the_grid_and_counts_lost_updates():
    linear = nn.Linear(4, 1, rng=0, dtype=np.float64)
    eps = FMT.resolution
    optimizer = QuantizedOptimizer(nn.SGD(linear.parameters(), lr=1.0), Quantizer(FMT, "nearest"))
    assert on_grid(linear.weight.data) and on_grid(linear.bias.data)
    w0 = linear.weight.data.copy()
    # steps of −0.3ε and +0.5ε are lost (+0.5ε is a tie, and Eq. 1 rounds ties down); −0.7ε, −3ε land
    linear.weight.grad[:] = [[0.3 * eps, -0.5 * eps, 0.7 * eps, 3 * eps]]
    optimizer.step()
    assert (linear.weight.data - w0).tolist() == [[0.0, 0.0, -eps, -3 * eps]]
    assert (optimizer.attempted, optimizer.lost) == ([4], [2]) and optimizer.lost_fraction() == 0.5
    assert on_grid(linear.weight.data)


def test_stochastic_updates_survive_in_expectation():
    """10⁴ weights each get an update of 0.25ε: each moves with probability 1/4, so the number
    that move is Binomial(10⁴, 1/4); 5 standard deviations (5·43 = 217) bound the count."""
    p = nn.Parameter(np.zeros(10_000))
    optimizer = QuantizedOptimizer(nn.SGD([p], lr=1.0), Quantizer(FMT, "stochastic", rng=5))
    p.grad[:] = -0.25 * FMT.resolution
    optimizer.step()
    moved = np.count_nonzero(p.data)
    assert abs(moved - 2500) <= 5 * np.sqrt(10_000 * 0.25 * 0.75)
    assert set(np.unique(p.data).tolist()) == {0.0, FMT.resolution}


@pytest.mark.parametrize("frac_bits", [8, 16, 20, 22])
def test_stochastic_updates_are_unbiased_at_every_resolution_of_a_float32_model(frac_bits):
    """w = 1 in a float32 model, update 0.3ε: the weight must move with probability 0.3 however
    fine the grid. In float32, 1 + 0.3ε would first become a multiple of ulp(1) = 2⁻²³ (at
    FL = 20: 0.25ε; at FL = 22: 0.5ε), so w − η·g must be formed in float64. Ups ~ Binomial(n, 0.3):
    5 standard deviations bound the count."""
    fmt, n = FixedPoint(24, frac_bits), 20_000
    p = nn.Parameter(np.ones(n, np.float32))
    optimizer = QuantizedOptimizer(nn.SGD([p], lr=1.0), Quantizer(fmt, "stochastic", rng=5))
    p.grad[:] = -0.3 * fmt.resolution
    optimizer.step()
    assert p.data.dtype == np.float32
    assert set(np.unique(p.data).tolist()) <= {1.0, 1.0 + fmt.resolution}
    moved = np.count_nonzero(p.data != 1) / n
    assert abs(moved - 0.3) <= 5 * np.sqrt(0.3 * 0.7 / n), moved


@pytest.mark.parametrize("momentum", [0.0, 0.9])
def test_nearest_rounds_the_update_once(momentum):
    """Just past a tie goes up. Rounded to float32 first, 1 + (½ + 2⁻⁸)ε (FL = 22) and
    1 + 2⁻⁸ + 2⁻³⁰ (bfloat16) land on the tie, which then goes down (Eq. 1) or to even."""
    eps = 2.0 ** -22
    for fmt, mode, step, expected in ((FixedPoint(24, 22), "nearest", 0.5 * eps + 2 ** -30, 1 + eps),
                                      (BFLOAT16, "nearest_even", 2 ** -8 + 2 ** -30, 1 + 2 ** -7)):
        p = nn.Parameter(np.ones(3, np.float32))
        optimizer = QuantizedOptimizer(nn.SGD([p], lr=1.0, momentum=momentum), Quantizer(fmt, mode))
        p.grad[:] = -step
        optimizer.step()
        assert p.data.tolist() == [expected] * 3, fmt
        assert p.grad.dtype == np.float32
        if momentum:
            assert optimizer.optimizer.velocity[0].dtype == np.float64  # the state is float64


def test_master_weights_stay_float32_and_layers_see_16_bit_copies():
    linear = nn.Linear(8, 2, rng=0)
    optimizer = QuantizedOptimizer(nn.SGD(linear.parameters(), lr=0.01), compute=Quantizer(BFLOAT16, "nearest_even"))
    master = optimizer.stored[0]
    linear.weight.grad[:] = 1e-3
    expected = master - np.float32(0.01) * np.float32(1e-3)
    optimizer.step()
    assert np.array_equal(optimizer.stored[0], expected)  # the float32 update, unrounded
    assert np.array_equal(linear.weight.data, quantize_float(expected, BFLOAT16, "nearest_even"))
    assert optimizer.lost == [0]
    with pytest.raises(TypeError, match="expected an engine optimizer"):
        QuantizedOptimizer(linear.parameters())
    with pytest.raises(TypeError, match="weights must be a Quantizer or None"):
        QuantizedOptimizer(nn.SGD(linear.parameters(), lr=0.1), BFLOAT16)


def quantized_run(seed):
    rng = np.random.default_rng(seed)
    x = rng.random((60, 1, 3, 4)).astype(np.float32)
    y = rng.integers(0, 3, 60)
    q = lambda: Quantizer(FMT, "stochastic", rng)
    model = quantize_model(mlp(), activations=q(), errors=q(), inputs=q(), dtype=np.float64)
    optimizer = QuantizedOptimizer(nn.SGD(model.parameters(), lr=0.05), q())
    fit(model, nn.SoftmaxCrossEntropy("sum"), optimizer, x, y, epochs=2, batch_size=20, rng=rng,
        verbose=False)
    return model, optimizer


def test_training_through_fit_keeps_every_weight_on_the_grid_and_repeats_for_a_seed():
    model, optimizer = quantized_run(0)
    assert len(optimizer.attempted) == 6 and sum(optimizer.attempted) > 0
    assert all(on_grid(p.data) for p in model.parameters())
    again, _ = quantized_run(0)
    assert all(np.array_equal(a.data, b.data) for a, b in zip(model.parameters(), again.parameters()))
