"""HAWQ / HAWQ-V2: the quantizer against a loop and a hand computation, the per-layer curvature
against the dense Hessian block (float64), the frontier and the budgeted choice against brute
force, bad inputs, and the quantized copy."""
import itertools

import numpy as np
import pytest

from minicompress import nn
from minicompress.nn.curvature import hessian
from minicompress.papers import dong2019_hawq as hawq


def tiny_net(seed=0):
    rng = np.random.default_rng(seed)
    model = nn.Sequential(nn.Conv2d(1, 2, 3, rng=rng, dtype=np.float64), nn.Tanh(), nn.Flatten(),
                          nn.Linear(18, 3, rng=rng, dtype=np.float64))
    x, y = rng.normal(size=(6, 1, 5, 5)), rng.integers(0, 3, 6)
    return model, nn.SoftmaxCrossEntropy(), x, y


def blocks(model, loss, x, y):
    """The dense Hessian's diagonal block of each weight layer."""
    H = hessian(model, loss, x, y)
    starts = np.cumsum([0] + [p.data.size for p in model.parameters()])
    index = {id(p): (a, b) for p, a, b in zip(model.parameters(), starts[:-1], starts[1:])}
    out = []
    for layer in hawq.weight_layers(model):
        a, b = index[id(layer.weight)]
        out.append(H[a:b, a:b])
    return H, index, out


def loop_perturbation(w, bits):
    """‖Q_b(W) − W‖² entry by entry: S_c = max|W_c| / (2^(b−1) − 1), q = round-half-even(w/S_c)."""
    top, total = 2 ** (bits - 1) - 1, 0.0
    rows = np.asarray(w, np.float64).reshape(len(w), -1)
    for row in rows:
        scale = max(max(abs(v) for v in row) / top, float(np.finfo(np.float32).eps))
        for v in row:
            q = min(max(round(v / scale), -top), top)  # Python's round is half to even
            total += (scale * q - v) ** 2
    return total


def test_perturbation_by_hand_and_against_a_loop():
    w = np.array([[1.0, 0.4, -0.2], [0.5, -0.5, 0.1]])
    # 2 bits: codes {-1, 0, 1}; row 0 S = 1: 1, 0, 0 -> 0 + .16 + .04; row 1 S = .5: .5, -.5, 0 -> .01
    assert hawq.perturbation(w, 2) == pytest.approx(0.21, abs=1e-12)
    rng = np.random.default_rng(1)
    for shape in [(4, 7), (3, 2, 3, 3)]:
        w = rng.normal(size=shape)
        for bits in (2, 3, 4, 8):
            assert hawq.perturbation(w, bits) == pytest.approx(loop_perturbation(w, bits), rel=1e-10)
    errors = [hawq.perturbation(w, b) for b in (2, 4, 8)]
    assert errors[0] > errors[1] > errors[2] > 0


def test_layer_curvature_against_the_dense_hessian_blocks():
    model, loss, x, y = tiny_net()
    _, _, H = blocks(model, loss, x, y)
    top = hawq.layer_curvature(model, loss, x, y, criterion="eigenvalue", tol=1e-10, max_iter=60, rng=0)
    np.testing.assert_allclose(top, [np.linalg.eigvalsh(h)[-1] for h in H], rtol=1e-6)
    n = 4000
    avg = hawq.layer_curvature(model, loss, x, y, criterion="trace", n=n, rng=0)
    exact = np.array([np.trace(h) / len(h) for h in H])
    # One probe's per-layer value v_lᵀ(Hv)_l has variance ≤ 2‖H_ll‖_F² + ‖H_l,rest‖_F²; 5σ/√n
    full, index, _ = blocks(model, loss, x, y)
    for l, layer in enumerate(hawq.weight_layers(model)):
        a, b = index[id(layer.weight)]
        rest = np.delete(full[a:b], np.arange(a, b), axis=1)
        sigma = np.sqrt(2 * np.sum(H[l] ** 2) + np.sum(rest ** 2)) / (b - a)
        assert abs(avg[l] - exact[l]) <= 5 * sigma / np.sqrt(n)
        assert abs(avg[l] - exact[l]) < 0.1 * abs(exact[l])  # informative, not only within the bound


def test_sensitivity_is_curvature_times_perturbation():
    rng = np.random.default_rng(2)
    weights = [rng.normal(size=(3, 4)), rng.normal(size=(2, 3))]
    omega = hawq.sensitivity([2.0, 0.5], weights, (2, 4, 8))
    assert omega.shape == (2, 3)
    for l, (c, w) in enumerate(zip([2.0, 0.5], weights)):
        for i, b in enumerate((2, 4, 8)):
            assert omega[l, i] == pytest.approx(c * loop_perturbation(w, b), rel=1e-10)


def brute_force(omega, sizes, choices):
    points = []
    for index in itertools.product(range(len(choices)), repeat=len(sizes)):
        points.append((tuple(choices[i] for i in index),
                       sum(omega[l][i] for l, i in enumerate(index)),
                       sum(sizes[l] * choices[i] for l, i in enumerate(index))))
    return points


@pytest.mark.parametrize("seed", range(5))
def test_frontier_is_exactly_the_non_dominated_set(seed):
    rng = np.random.default_rng(seed)
    omega = rng.integers(0, 6, size=(3, 3)).astype(float)  # integers: ties in Ω and in size
    omega.sort(axis=1)
    omega = omega[:, ::-1].copy()  # more bits, less Ω, as in practice (not required)
    sizes = rng.integers(1, 4, size=3)
    points = brute_force(omega, sizes, (2, 4, 8))
    expect = {a for a, o, s in points
              if not any((s2 <= s and o2 <= o) and (s2 < s or o2 < o) for _, o2, s2 in points)}
    frontier = hawq.pareto_frontier(omega, sizes, (2, 4, 8))
    assert {a for a, _, _ in frontier} == expect
    assert [s for _, _, s in frontier] == sorted(s for _, _, s in frontier)
    for a, o, s in frontier:
        assert (o, s) == pytest.approx(next((o2, s2) for a2, o2, s2 in points if a2 == a))


@pytest.mark.parametrize("seed", range(5))
def test_choice_respects_the_budget_and_is_optimal(seed):
    rng = np.random.default_rng(10 + seed)
    omega, sizes = rng.random((4, 3)), rng.integers(1, 50, size=4)
    points = brute_force(omega, sizes, (2, 4, 8))
    for budget in np.linspace(2 * sizes.sum(), 8 * sizes.sum(), 7):
        a = hawq.choose_bits(omega, sizes, (2, 4, 8), float(budget))
        size, total = next((s, o) for a2, o, s in points if a2 == a)
        assert size <= budget
        assert total == pytest.approx(min(o for _, o, s in points if s <= budget))
        assert a in {f for f, _, _ in hawq.pareto_frontier(omega, sizes, (2, 4, 8))}
    for a, o, s in points:  # a budget of exactly an assignment's size admits it
        chosen = hawq.choose_bits(omega, sizes, (2, 4, 8), s)
        assert next(o2 for a2, o2, _ in points if a2 == chosen) <= o + 1e-12


def test_ties_go_to_the_smaller_assignment():
    omega, sizes = np.zeros((2, 3)), np.array([1, 1])
    assert hawq.choose_bits(omega, sizes, (2, 4, 8), 100) == (2, 2)


def test_bad_inputs_give_clear_errors():
    model, loss, x, y = tiny_net()
    with pytest.raises(ValueError, match="criterion"):
        hawq.layer_curvature(model, loss, x, y, criterion="hessian")
    for bits in (1, 17, 3.5, True):
        with pytest.raises(ValueError, match="bits"):
            hawq.perturbation(np.ones((2, 2)), bits)
    with pytest.raises(ValueError, match="2 axes"):
        hawq.perturbation(np.ones(3), 4)
    with pytest.raises(ValueError, match="one curvature per weight"):
        hawq.sensitivity([1.0], [np.ones((2, 2)), np.ones((2, 2))])
    with pytest.raises(ValueError, match="≥ 0"):
        hawq.sensitivity([-1.0], [np.ones((2, 2))])
    with pytest.raises(ValueError, match="≥ 0"):
        hawq.sensitivity([np.nan], [np.ones((2, 2))])
    with pytest.raises(ValueError, match="distinct"):
        hawq.sensitivity([1.0], [np.ones((2, 2))], (4, 4))
    with pytest.raises(ValueError, match="no assignment fits"):
        hawq.choose_bits(np.ones((2, 3)), np.array([10, 10]), (2, 4, 8), 39)
    with pytest.raises(ValueError, match="budget"):
        hawq.choose_bits(np.ones((2, 3)), np.array([10, 10]), (2, 4, 8), np.nan)
    with pytest.raises(ValueError, match="expected omega"):
        hawq.pareto_frontier(np.ones((2, 2)), np.array([10, 10]), (2, 4, 8))
    with pytest.raises(ValueError, match="finite"):
        hawq.pareto_frontier(np.full((2, 3), np.nan), np.array([10, 10]), (2, 4, 8))
    with pytest.raises(ValueError, match="exhaustive limit"):
        hawq.pareto_frontier(np.ones((11, 3)), np.ones(11, int), (2, 4, 8))
    with pytest.raises(ValueError, match="one bit width per weight layer"):
        hawq.quantize_weights(model, (4,))
    with pytest.raises(ValueError, match="no Linear or Conv2d"):
        hawq.weight_layers(nn.Sequential(nn.Tanh()))


def test_quantize_weights_returns_a_quantized_copy():
    model, loss, x, y = tiny_net()
    before = model.state_dict()
    quantized = hawq.quantize_weights(model, (2, 4))
    for name, value in model.state_dict().items():
        np.testing.assert_array_equal(value, before[name])  # the original is untouched
    original, copy = hawq.weight_layers(model), hawq.weight_layers(quantized)
    for layer, q, bits in zip(original, copy, (2, 4)):
        np.testing.assert_array_equal(q.weight.data, hawq.quantize(layer.weight.data, bits))
        np.testing.assert_array_equal(q.bias.data, layer.bias.data)  # biases stay in float
        for row in q.weight.data.reshape(len(q.weight.data), -1):
            assert len(np.unique(row)) <= 2 ** bits - 1
    assert q.weight is not layer.weight
    assert hawq.model_size(model, (2, 4)) == 18 * 2 + 54 * 4
    assert not np.allclose(quantized(x), model(x))
