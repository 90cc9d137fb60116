"""Skeletonization, the method: ρ̂ against finite differences in α, ρ against brute-force removal
written without gates, the linear error, the 0.8/0.2 average, the trimming loop, bad input."""
import numpy as np
import pytest

from minicompress import nn
from minicompress.datasets import load
from minicompress.models import sigmoid_mlp
from minicompress.nn.gradcheck import assert_close, numerical_gradient
from minicompress.papers.mozer1988_skeletonization import (LinearError, RelevanceTracker, ema,
                                                           error_function, relevance_estimate,
                                                           skeletonize, true_relevance)
from minicompress.pruning.gates import gate, gates, trainable, ungate
from minicompress.train import fit


def tiny_net(rng, sizes=(3, 4, 2)):
    """A gated float64 sigmoid net with gates set away from 1, so α enters non-trivially."""
    layers = []
    for a, b in zip(sizes[:-1], sizes[1:]):
        layers += [nn.Linear(a, b, rng=rng, dtype=np.float64), nn.Sigmoid()]
    model = gate(nn.Sequential(*layers))
    for g in gates(model):
        g.alpha.data = rng.uniform(0.5, 1.5, g.units)
    return model


def data(rng, n=5, sizes=(3, 4, 2)):
    x = rng.uniform(-1, 1, (n, sizes[0]))
    target = (rng.random((n, sizes[-1])) > 0.5).astype(np.float64)
    return x, target


def plain_error(weights, biases, x, target, dropped=None):
    """E^l of a sigmoid MLP written out in NumPy, with unit ``dropped = (layer, i)`` deleted
    (layer 0: input i, layer 1: hidden unit i): an independent reference with no gates."""
    h = x.copy()
    for layer, (w, b) in enumerate(zip(weights, biases)):
        if dropped is not None and dropped[0] == layer:
            h[:, dropped[1]] = 0.0
        h = 1 / (1 + np.exp(-(h @ w.T + b)))
    return np.abs(target - h).sum()


@pytest.mark.parametrize("error", ["linear", "quadratic", "softmax"])
def test_relevance_estimate_is_minus_the_finite_difference_derivative_in_alpha(rng, error):
    model, (x, target) = tiny_net(rng), data(rng)
    if error == "softmax":  # logits out, one-hot targets: the last sigmoid is dropped
        model.layers.pop()
        target = nn.one_hot(rng.integers(0, 2, len(x)), 2, dtype=np.float64)
    loss = LinearError(softmax=True) if error == "softmax" else error_function(error)
    estimate = relevance_estimate(model, x, target, loss)
    for g, rho in zip(gates(model), estimate):
        reference = -numerical_gradient(lambda: loss(model(x), target), g.alpha.data)
        assert_close([(f"gate {g.name}", rho, reference)], rtol=1e-6, atol=1e-9)


def test_relevance_estimate_leaves_gradients_alone(rng):
    model, (x, target) = tiny_net(rng), data(rng)
    for p in model.parameters():
        p.grad[...] = 7.0
    relevance_estimate(model, x, target)
    assert all((p.grad == 7.0).all() for p in model.parameters())


def test_true_relevance_is_error_without_the_unit_minus_error_with_it(rng):
    model, (x, target) = tiny_net(rng), data(rng)
    for g in gates(model):
        g.alpha.data[:] = 1.0  # the trained network: α = 1
    linears = [l for l in model.layers if isinstance(l, nn.Linear)]
    weights, biases = [l.weight.data for l in linears], [l.bias.data for l in linears]
    base = plain_error(weights, biases, x, target)
    rho = true_relevance(model, x, target)
    for layer, values in enumerate(rho):
        reference = [plain_error(weights, biases, x, target, (layer, i)) - base for i in range(len(values))]
        np.testing.assert_allclose(values, reference, rtol=1e-12)
    assert all((g.alpha.data == 1).all() for g in gates(model))  # restored


def test_the_estimate_predicts_the_true_relevance_of_a_small_change(rng):
    """ρ̂ is the first-order term of ρ: E(α_i = 1 − ε) − E(1) ≈ ε·ρ̂_i for small ε."""
    model, (x, target) = tiny_net(rng), data(rng)
    for g in gates(model):
        g.alpha.data[:] = 1.0
    rho_hat, error = relevance_estimate(model, x, target), LinearError()
    base, eps = error(model(x), target), 1e-5
    for g, estimate in zip(gates(model), rho_hat):
        for i in range(g.units):
            g.alpha.data[i] = 1 - eps
            assert (error(model(x), target) - base) / eps == pytest.approx(estimate[i], rel=1e-3, abs=1e-6)
            g.alpha.data[i] = 1.0


def test_linear_error_value_and_gradient(rng):
    out, target = rng.random((4, 3)), (rng.random((4, 3)) > 0.5).astype(float)
    error = LinearError()
    assert error(out, target) == pytest.approx(np.abs(target - out).sum())
    np.testing.assert_array_equal(error.backward(), np.sign(out - target))
    softmax = LinearError(softmax=True)
    z = out.copy()
    softmax(z, target)
    assert_close([("softmax", softmax.backward(), numerical_gradient(lambda: softmax(z, target), z))],
                 rtol=1e-6, atol=1e-9)
    assert isinstance(error_function("quadratic"), nn.MSELoss) and error_function(error) is error


def test_ema_and_the_tracker_follow_the_0_8_0_2_rule(rng):
    assert ema(np.array([1.0]), np.array([2.0])) == pytest.approx(0.8 + 0.4)
    model, (x, target) = tiny_net(rng), data(rng)
    tracker, every_other = RelevanceTracker(model, x, target), RelevanceTracker(model, x, target, every=2)
    expected = sparse = relevance_estimate(model, x, target)
    optimizer, loss = nn.SGD(trainable(model), lr=0.5), nn.MSELoss("sum")
    for step in range(1, 4):
        model.zero_grad()
        loss(model(x), target)
        model.grad_params(loss.backward())
        optimizer.step()
        tracker(step)
        every_other(step)
        now = relevance_estimate(model, x, target)
        expected = [0.8 * e + 0.2 * n for e, n in zip(expected, now)]
        if step == 2:  # the only step of the three that every_other averages in
            sparse = [0.8 * e + 0.2 * n for e, n in zip(sparse, now)]
    for got, want in zip(tracker.relevance + every_other.relevance, expected + sparse):
        np.testing.assert_allclose(got, want, rtol=1e-12)


def test_skeletonize_deletes_the_least_relevant_unit_each_time(rng):
    """With a 'training' that changes nothing, the average stays the estimate at the start, so
    each round must delete exactly the unit of least ρ̂ (checked by gating it off instead)."""
    model, (x, target) = tiny_net(rng, (3, 5, 2)), data(rng, 8, (3, 5, 2))
    for g in gates(model):
        g.alpha.data[:] = 1.0
    calls = []
    still = lambda m, on_step: (calls.append(gates(m)[1].units), (1, True))[1]  # noqa: E731
    reference = ungate(model)
    for _ in range(2):  # 5 → 3 units, one at a time
        unit = int(np.argmin(relevance_estimate(gate(reference), x, target)[1]))
        plain = gate(reference)
        gates(plain)[1].alpha.data[unit] = 0.0
        reference = ungate(plain)
    small, epochs, ok = skeletonize(model, x, target, 3, still)
    assert ok and epochs == 3 and calls == [5, 4, 3] and gates(small)[1].units == 3
    np.testing.assert_allclose(small(x), reference(x), rtol=1e-12)
    chosen = skeletonize(tiny_net(rng, (3, 5, 2)), x, target, 4, still, choose=lambda m: 0)[0]
    assert gates(chosen)[1].units == 4


def test_skeletonize_trims_the_multiplexer_net_to_the_target_size():
    x, y = load("multiplexer")
    target = y[:, None].astype(np.float32)
    done = lambda m: bool(np.abs(m(x) - target).max() < 0.1)  # noqa: E731

    def train(model, on_step):  # full-batch gradient descent on Σ(t − o)² to criterion
        history = fit(model, nn.MSELoss("sum"), nn.SGD(trainable(model), lr=0.5), x, target, epochs=3000,
                      batch_size=len(x), shuffle=False, verbose=False, on_step=on_step,
                      on_epoch=lambda record: done(model))
        return len(history), done(model)
    small, epochs, ok = skeletonize(gate(sigmoid_mlp((6, 6, 1), init_scale=0.5, rng=3)), x, target, 4, train)
    assert ok and epochs > 0 and gates(small)[1].units == 4 and done(small)


def test_bad_input_gives_clear_errors(rng):
    model, (x, target) = tiny_net(rng), data(rng)
    with pytest.raises(ValueError, match="no Gate layers.*gate\\(model\\)"):
        relevance_estimate(ungate(model), x, target)
    with pytest.raises(ValueError, match="error: expected one of"):
        relevance_estimate(model, x, target, error="cubic")
    with pytest.raises(ValueError, match="target must be an array of the output's shape"):
        relevance_estimate(model, x, target[:, :1])
    with pytest.raises(RuntimeError, match="backward called before forward"):
        LinearError().backward()
    with pytest.raises(ValueError, match="decay must be in"):
        ema(0.0, 1.0, decay=1.5)
    with pytest.raises(ValueError, match="decay must be in"):
        RelevanceTracker(model, x, target, decay=1.0)
    with pytest.raises(TypeError, match="choose must be a callable"):
        skeletonize(model, x, target, 2, lambda m, s: (0, True), choose="size")
    with pytest.raises(ValueError, match="no hidden layer"):
        skeletonize(gate(nn.Sequential(nn.Linear(3, 2))), x, target, 1, lambda m, s: (0, True))
    with pytest.raises(ValueError, match="n_units"):
        skeletonize(model, x, target, 0, lambda m, s: (0, True))
