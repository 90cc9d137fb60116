"""Gupta et al. 2015's setup: which values live in ⟨IL, FL⟩, the update's single rounding, the
logits option and the deterministic evaluation copy."""
import numpy as np
import pytest

from minicompress import models, nn
from minicompress.papers.gupta2015_limited_precision import limited_precision, with_rounding
from minicompress.quant import FixedPoint, Quantize, quantize_fixed


def on_grid(x, frac_bits, word_bits=16) -> bool:
    s = np.asarray(x) * 2.0 ** frac_bits
    return bool(np.array_equal(s, np.round(s)) and np.abs(s).max() <= 2 ** (word_bits - 1))


def train_steps(model, optimizer, x, y, steps=3):
    loss = nn.SoftmaxCrossEntropy("sum")
    for _ in range(steps):
        model.zero_grad()
        out = model(x)
        loss(out, y)
        model.grad_params(loss.backward())
        optimizer.step()
    return out


def test_every_value_of_a_cnn_stays_on_the_grid():
    rng = np.random.default_rng(0)
    model, optimizer, kinds = limited_precision(models.small_lenet(rng, channels=(2, 3, 8)),
                                                FixedPoint(16, 10), "stochastic", 0.01, rng)
    assert sum(isinstance(m, Quantize) for m in model.layers) == 5  # input, 2 convs, 2 linears
    x, y = rng.random((4, 1, 28, 28)).astype(np.float32), np.array([0, 1, 2, 3])
    out = train_steps(model, optimizer, x, y)
    assert on_grid(out, 10) and all(on_grid(p.data, 10) for p in model.parameters())
    assert len(optimizer.lost) == 3 and kinds["errors"].counts["values"] > 0
    assert all(p.data.dtype == np.float64 for p in model.parameters())  # exact dot products


def test_float32_is_the_same_optimizer_wrapper_without_formats():
    rng = np.random.default_rng(1)
    net = models.mlp((784, 5, 10), rng=rng)
    model, optimizer, kinds = limited_precision(net, None, None, 0.1, rng)
    assert model is net and kinds == {} and optimizer.weights is None


@pytest.mark.parametrize("rounding", ["nearest", "stochastic"])
def test_one_rounding_of_w_minus_eta_g_is_w_plus_the_converted_update(rounding):
    # Gupta et al. store the update ΔW in fixed point; w is on the grid, so rounding w + Δ is
    # w + rounding Δ (same draws for stochastic rounding): the optimizer's one rounding is it.
    fmt = FixedPoint(16, 8)
    rng = np.random.default_rng(2)
    w = quantize_fixed(rng.uniform(-3, 3, 1000), fmt, "nearest")
    delta = rng.normal(0, 0.01, 1000)
    delta[:10] = 0.5 * 2.0 ** -8  # exact ties: nearest rounds them down, in both forms
    left = quantize_fixed(w + delta, fmt, rounding, rng=3)
    right = w + quantize_fixed(delta, fmt, rounding, rng=3)
    assert np.array_equal(left, right)


def test_logits_can_stay_wide_while_everything_else_is_converted():
    rng = np.random.default_rng(4)
    net = models.mlp((784, 6, 10), rng=rng)
    for p in net.parameters():
        p.data *= 40  # logits far beyond ⟨2, 14⟩'s range [-2, 2)
    x, y = rng.random((8, 1, 28, 28)).astype(np.float32), rng.integers(0, 10, 8)
    fmt = FixedPoint(16, 14)
    clipped, *_ = limited_precision(net, fmt, "nearest", 0.01, np.random.default_rng(5))
    wide, optimizer, kinds = limited_precision(net, fmt, "nearest", 0.01, np.random.default_rng(5),
                                               convert_logits=False)
    assert np.abs(clipped(x)).max() <= 2 and np.abs(wide(x)).max() > 2
    hidden = x
    for layer in wide.layers[:-2]:  # up to the last Linear's input: still converted
        hidden = layer(hidden)
    assert on_grid(hidden, 14)
    assert isinstance(wide.layers[-1], Quantize) and wide.layers[-1].forward_quantizer is None
    assert wide.layers[-1].backward_quantizer is kinds["errors"]  # p − y is still converted
    train_steps(wide, optimizer, x, y, steps=1)
    assert all(on_grid(p.data, 14) for p in wide.parameters())
    ends_in_relu = nn.Sequential(nn.Flatten(), nn.Linear(784, 3, rng=0), nn.ReLU())
    with pytest.raises(ValueError, match="convert_logits=False: expected the model to end"):
        limited_precision(ends_in_relu, fmt, "nearest", 0.01, rng, convert_logits=False)


def test_with_rounding_makes_a_deterministic_copy_and_leaves_the_model_alone():
    rng = np.random.default_rng(6)
    model, _, _ = limited_precision(models.mlp((784, 32, 10), rng=rng), FixedPoint(16, 8),
                                    "stochastic", 0.01, rng)
    model.eval()
    x = rng.random((50, 1, 28, 28)).astype(np.float32)
    assert not np.array_equal(model(x), model(x))  # stochastic rounding in every pass
    nearest = with_rounding(model, "nearest")
    nearest.eval()
    assert np.array_equal(nearest(x), nearest(x)) and on_grid(nearest(x), 8)
    quantizers = [m.forward_quantizer for m in model.modules() if isinstance(m, Quantize)]
    assert all(q.rounding == "stochastic" for q in quantizers if q is not None)
    assert all(np.array_equal(p.data, q.data) for p, q in zip(model.parameters(), nearest.parameters()))
