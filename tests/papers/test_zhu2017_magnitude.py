"""Magnitude pruning as the libraries ship it: one-shot pruning by method, Zhu & Gupta's Eq. 1 in
the paper's own parameters (t₀, n, Δt), and the pruner inside ``fit``."""
import numpy as np
import pytest

from minicompress import nn, pruning
from minicompress.models import lenet_300_100, mlp
from minicompress.papers.zhu2017_magnitude import (GradualPruning, gradual_schedule, layer_sparsities,
                                                  prune_weights)
from minicompress.train import fit


@pytest.mark.parametrize("method", ["layer", "global", "random"])
def test_prune_weights_reaches_the_sparsity_and_keeps_the_biases(method):
    model = lenet_300_100(rng=0)
    prune_weights(model, method, 1 - 1 / 8, rng=1)
    weights = pruning.weights(model)
    assert pruning.masked_fraction(weights) == pytest.approx(7 / 8, abs=1e-5)
    if method != "global":
        for w in weights:
            assert pruning.masked_fraction([w]) == pytest.approx(7 / 8, abs=1e-3)
    assert all(p.mask is None for p in model.parameters() if p.name.endswith("bias"))


def test_layer_and_global_delete_the_smallest_magnitudes():
    model = mlp((3, 2, 2), rng=0)
    first, second = pruning.weights(model)
    first.data[...] = [[0.1, -0.5, 0.3], [0.9, -0.05, 0.2]]
    second.data[...] = [[1.0, -2.0], [0.01, 3.0]]
    prune_weights(model, "layer", 0.5)  # round(0.5·6) = 3 and round(0.5·4) = 2 per layer
    assert first.mask.tolist() == [[0, 1, 1], [1, 0, 0]] and second.mask.tolist() == [[0, 1], [0, 1]]
    other = mlp((3, 2, 2), rng=0)
    for p, q in zip(pruning.weights(other), (first, second)):
        p.data[...] = q.data
    prune_weights(other, "global", 0.5)  # 5 of 10, one ranking: 0.01, 0.05, 0.1, 0.2, 0.3
    assert pruning.weights(other)[0].mask.tolist() == [[0, 1, 0], [1, 0, 0]]
    assert pruning.weights(other)[1].mask.tolist() == [[1, 1], [0, 1]]


def test_prune_weights_takes_one_rate_per_layer():
    model = lenet_300_100(rng=0)
    prune_weights(model, "layer", (0.92, 0.91, 0.74))  # Han et al.'s Table 2 rates
    assert [round(pruning.masked_fraction([w]), 4) for w in pruning.weights(model)] == [0.92, 0.91, 0.74]
    assert layer_sparsities(model, 0.5) == [0.5, 0.5, 0.5]


@pytest.mark.parametrize("method, sparsity, text", [("magnitude", 0.5, "method: expected one of"),
                                                     ("layer", (0.5, 0.5), r"one per weight matrix \(3\)"),
                                                     ("global", (0.5, 0.5, 0.5), "global pruning takes one number")])
def test_prune_weights_rejects_bad_arguments(method, sparsity, text):
    with pytest.raises(ValueError, match=text):
        prune_weights(lenet_300_100(rng=0), method, sparsity)


def test_gradual_schedule_is_eq_1_with_t0_n_and_delta_t():
    s = gradual_schedule(0.9, begin_step=100, n_updates=4, frequency=50)
    updates = [k for k in range(0, 1000) if s(k) is not None]
    assert updates == [100, 150, 200, 250, 300]  # t0, t0 + Δt, ..., t0 + nΔt
    # s_t = s_f + (s_i − s_f)(1 − (t − t0)/(nΔt))³, by hand: 0.9·(1 − 0.75³) at t0 + Δt
    assert [round(s(k), 10) for k in updates] == [0.0, round(0.9 * (1 - 0.75 ** 3), 10),
                                                  round(0.9 * (1 - 0.5 ** 3), 10),
                                                  round(0.9 * (1 - 0.25 ** 3), 10), 0.9]
    start = gradual_schedule(0.5, begin_step=0, n_updates=2, frequency=10, initial_sparsity=0.1)(0)
    assert start == pytest.approx(0.1)
    for bad in (0, -1, 2.0, True):
        with pytest.raises(ValueError, match="n_updates: expected an int >= 1"):
            gradual_schedule(0.9, begin_step=0, n_updates=bad, frequency=10)


def test_gradual_pruning_in_fit_reaches_each_layers_sparsity_and_masks_only_grow():
    rng = np.random.default_rng(0)
    x, y = rng.random((64, 1, 4, 4)).astype(np.float32), rng.integers(0, 3, 64)
    model = mlp((16, 12, 3), rng=1)
    schedule = GradualPruning(model, (0.75, 0.5), begin_step=1, n_updates=3, frequency=2)
    masks = []

    def on_step(k):
        schedule(k)
        masks.append([w.mask.copy() for w in pruning.weights(model) if w.mask is not None])

    fit(model, nn.SoftmaxCrossEntropy(), nn.SGD(model.parameters(), lr=0.1), x, y, epochs=3,
        batch_size=16, rng=2, verbose=False, on_step=on_step)
    assert [r["step"] for r in schedule.history] == [1, 3, 5, 7]
    assert [pruning.masked_fraction([w]) for w in pruning.weights(model)] == [0.75, 0.5]
    assert schedule.sparsity() == pytest.approx((0.75 * 192 + 0.5 * 36) / 228)
    assert schedule.target(7) == pytest.approx(schedule.sparsity()) and schedule.target(1) == 0
    assert schedule.history[-1]["sparsity"] == schedule.sparsity()
    full = [m for m in masks if len(m) == 2]
    for before, after in zip(full, full[1:]):
        assert all(np.all(a <= b) for a, b in zip(after, before))  # a zero never comes back
