"""Karnin's sensitivity, the method: the shadow array against hand-computed SGD and momentum
trajectories, the estimate against its definition, the brute-force reference against a naive
loop, bad input."""
import numpy as np
import pytest

from minicompress import nn
from minicompress.models import sigmoid_mlp
from minicompress.papers.karnin1990_sensitivity import (ShadowArray, brute_force_sensitivity,
                                                        sensitivity_estimate, shadow_update)
from minicompress.train import fit


def linear_problem(rng, n=6, d=3):
    """E(w) = Σ_n (x_n·w − t_n)², with its gradient 2 xᵀ(xw − t) written out by hand."""
    x, t = rng.normal(size=(n, d)), rng.normal(size=(n, 1))
    model = nn.Sequential(nn.Linear(d, 1, bias=False, rng=rng, dtype=np.float64))
    gradient = lambda w: 2 * x.T @ (x @ w - t)  # noqa: E731  (d, 1)
    return model, x, t, gradient


@pytest.mark.parametrize("momentum", [0.0, 0.9])
def test_shadow_array_matches_a_hand_computed_trajectory(rng, momentum):
    model, x, t, gradient = linear_problem(rng)
    w = model.layers[0].weight.data.T.copy()  # (d, 1)
    w_initial, lr = w.copy(), 0.01
    shadow = ShadowArray(nn.SGD(model.parameters(), lr=lr, momentum=momentum))
    fit(model, nn.MSELoss("sum"), shadow, x, t, epochs=5, batch_size=len(x), shuffle=False, verbose=False)
    velocity, expected = np.zeros_like(w), np.zeros_like(w)
    for _ in range(5):  # v ← μv + g, w ← w − ηv, shadow ← shadow − g·Δw
        g = gradient(w)
        velocity = momentum * velocity + g
        step = -lr * velocity
        expected -= g * step
        w = w + step
    np.testing.assert_allclose(model.layers[0].weight.data, w.T, rtol=1e-12)
    np.testing.assert_allclose(shadow.shadow[0], expected.T, rtol=1e-12)
    assert shadow.steps == 5
    estimate = shadow.sensitivity(min_change=0.0)[0]
    np.testing.assert_allclose(estimate, (expected * w / (w - w_initial)).T, rtol=1e-12)


def test_plain_sgd_reduces_to_the_sum_of_squared_steps(rng):
    """Δw = −η g, so Ŝ = Σ Δw² · w_f / (η (w_f − w_i))   [K90: shadow arrays]."""
    model, x, t, _ = linear_problem(rng)
    lr, steps, w = 0.02, [], model.layers[0].weight
    w_initial = w.data.copy()
    shadow = ShadowArray(nn.SGD(model.parameters(), lr=lr))
    loss = nn.MSELoss("sum")
    for _ in range(4):
        before = w.data.copy()
        model.zero_grad()
        loss(model(x), t)
        model.grad_params(loss.backward())
        shadow.step()
        steps.append(w.data - before)
    squares = sum(s * s for s in steps)
    np.testing.assert_allclose(shadow.shadow[0], squares / lr, rtol=1e-10)
    np.testing.assert_allclose(shadow.sensitivity(0.0)[0], squares * w.data / (lr * (w.data - w_initial)),
                               rtol=1e-10)


def test_estimate_is_the_definition_with_the_division_guarded():
    shadow = np.array([2.0, 3.0, 0.0, 1e-3, 5.0, 1e-3])
    w_i = np.array([1.0, -1.0, 0.5, 0.3, 0.2, 0.3])
    w_f = np.array([2.0, -4.0, 0.5, 0.3 + 1e-9, 0.1, 0.3 - 1e-9])
    got = sensitivity_estimate(shadow, w_i, w_f, min_change=1e-6)
    assert got[5] == pytest.approx(1e-3 * (0.3 - 1e-9) / -1e-6)  # clamped to the sign of the move
    assert got[0] == pytest.approx(2.0 * 2.0 / 1.0) and got[1] == pytest.approx(3.0 * -4.0 / -3.0)
    assert got[2] == 0.0  # never moved, never had a gradient
    assert got[3] == pytest.approx(1e-3 * (0.3 + 1e-9) / 1e-6)  # clamped, not 1e-3·0.3/1e-9
    assert got[4] == pytest.approx(5.0 * 0.1 / -0.1) and got[4] < 0  # moved toward 0: negative
    with np.errstate(invalid="ignore"):
        assert np.isnan(sensitivity_estimate(shadow, w_i, w_f, min_change=0.0)[2])  # 0/0 unguarded
    shadow_copy = shadow.copy()
    shadow_update(shadow_copy, np.ones(6), np.full(6, 0.5))
    np.testing.assert_allclose(shadow_copy, shadow - 0.5)


def naive_sensitivity(model, loss, x, y):
    """E(w = 0) − E(w) by zeroing each entry and running the whole model."""
    base, out = loss(model(x), y), []
    for p in model.parameters():
        for k in range(p.data.size):
            saved = p.data.flat[k]
            p.data.flat[k] = 0.0
            out.append(loss(model(x), y) - base)
            p.data.flat[k] = saved
    return np.array(out)


def test_brute_force_sensitivity_matches_a_naive_loop(rng):
    model = sigmoid_mlp((4, 3, 2), rng=rng, dtype=np.float64)
    x, y = rng.normal(size=(7, 4)), rng.random((7, 2))
    loss = nn.MSELoss("sum")
    reference = naive_sensitivity(model, loss, x, y)
    np.testing.assert_allclose(brute_force_sensitivity(model, loss, x, y), reference, rtol=1e-10, atol=1e-13)
    some = np.array([0, 5, 13, 20, 22])
    np.testing.assert_allclose(brute_force_sensitivity(model, loss, x, y, entries=some), reference[some],
                               rtol=1e-10, atol=1e-13)
    weights = [model.layers[2].weight]  # after W (4x3) and b (3) of layer 0: positions 15-20
    np.testing.assert_allclose(brute_force_sensitivity(model, loss, x, y, weights), reference[15:21],
                               rtol=1e-10, atol=1e-13)


def test_brute_force_sensitivity_on_a_conv_layer_recomputes_it(rng):
    model = nn.Sequential(nn.Conv2d(1, 2, 2, rng=rng, dtype=np.float64), nn.Tanh(), nn.Flatten(),
                          nn.Linear(8, 3, rng=rng, dtype=np.float64))
    x, y = rng.normal(size=(3, 1, 3, 3)), np.array([0, 2, 1])
    loss = nn.SoftmaxCrossEntropy()
    np.testing.assert_allclose(brute_force_sensitivity(model, loss, x, y),
                               naive_sensitivity(model, loss, x, y), rtol=1e-10, atol=1e-13)


def test_masked_weights_have_no_shadow_and_no_sensitivity(rng):
    model, x, t, _ = linear_problem(rng)
    w = model.layers[0].weight
    w.mask = np.array([[1.0, 0.0, 1.0]])
    shadow = ShadowArray(nn.SGD(model.parameters(), lr=0.01, momentum=0.5))
    fit(model, nn.MSELoss("sum"), shadow, x, t, epochs=3, batch_size=2, rng=0, verbose=False)
    assert shadow.shadow[0][0, 1] == 0 and shadow.sensitivity()[0][0, 1] == 0
    assert (shadow.shadow[0][0, [0, 2]] > 0).all()  # training lowered E along both


def test_the_estimate_is_exact_where_the_gradient_is_constant():
    """E linear in w: ∂E/∂w = c everywhere, so −∫ c dw stretched to [0, w_f] is exactly
    E(0) − E(w_f) = −c·w_f, whatever path the weight took."""
    c, w0, lr = np.array([0.7, -1.3]), np.array([0.2, 0.4]), 0.05
    w, shadow = w0.copy(), np.zeros(2)
    for _ in range(6):
        step = -lr * c
        shadow_update(shadow, c, step)
        w = w + step
    np.testing.assert_allclose(sensitivity_estimate(shadow, w0, w), -c * w, rtol=1e-12)


def test_bad_input_gives_clear_errors(rng):
    model, x, t, _ = linear_problem(rng)
    with pytest.raises(TypeError, match="expected an optimizer"):
        ShadowArray(model.parameters())
    with pytest.raises(ValueError, match="must have the same shape"):
        sensitivity_estimate(np.zeros(3), np.zeros(3), np.zeros(4))
    with pytest.raises(ValueError, match="min_change must be >= 0"):
        sensitivity_estimate(np.zeros(3), np.zeros(3), np.zeros(3), min_change=-1.0)
    with pytest.raises(ValueError, match="must have the same shape"):
        shadow_update(np.zeros(3), np.zeros(2), np.zeros(3))
    loss = nn.MSELoss("sum")
    with pytest.raises(ValueError, match=r"entries must be a 1-D array of positions in \[0, 3\)"):
        brute_force_sensitivity(model, loss, x, t, entries=np.array([3]))
    other = nn.Linear(3, 1, rng=0, dtype=np.float64)
    with pytest.raises(ValueError, match="is not in the model"):
        brute_force_sensitivity(model, loss, x, t, params=[other.weight])
    with pytest.raises(TypeError, match="expected a Sequential"):
        brute_force_sensitivity(model.layers[0], loss, x, t)
