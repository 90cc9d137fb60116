"""Frankle & Carbin 2019's IMP pieces: the per-layer rates and the remaining fractions they give,
magnitude order within a layer, and exact resets (to θ₀, to θ_k, to a fresh initialization)."""
import numpy as np
import pytest

from minicompress import nn, pruning
from minicompress.models import lenet_300_100
from minicompress.papers.frankle2019_lottery_ticket import (layer_rates, prune_round, reinitialize,
                                                            remaining_counts, remaining_fraction,
                                                            rewind, snapshot)
from minicompress.train import fit

SIZES = (235_200, 30_000, 1_000)  # LeNet-300-100's weights, layer by layer


def test_output_layer_is_pruned_at_half_the_rate():
    rates = layer_rates(lenet_300_100(rng=0), 0.2)
    assert [r for _, r in rates] == [0.2, 0.2, 0.1]
    assert [w.shape for w, _ in rates] == [(300, 784), (100, 300), (10, 100)]
    assert [r for _, r in layer_rates(lenet_300_100(rng=0), 0.3, 0.05)] == [0.3, 0.3, 0.05]


@pytest.mark.parametrize("bad", [0, 0.0, 1.0, 1.5, -0.2, np.nan, True, "0.2"])
def test_rates_outside_the_open_unit_interval_are_refused(bad):
    with pytest.raises(ValueError, match="rate: expected a fraction in \\(0, 1\\)"):
        layer_rates(lenet_300_100(rng=0), bad)
    with pytest.raises(ValueError, match="output_rate: expected a fraction in \\(0, 1\\)"):
        prune_round(lenet_300_100(rng=0), 0.2, bad)
    with pytest.raises(ValueError, match="rate"):
        remaining_counts(SIZES, bad, None, 3)
    with pytest.raises(ValueError, match="rounds"):
        remaining_counts(SIZES, 0.2, None, -1)


def test_the_stated_remaining_fractions():
    # a loop of the rule: each round delete round(rate · remaining) per layer
    n, fractions = list(SIZES), []
    for round_ in range(1, 16):
        n = [k - round((0.1 if i == 2 else 0.2) * k) for i, k in enumerate(n)]
        fractions.append(sum(n) / sum(SIZES))
        assert remaining_counts(SIZES, 0.2, None, round_) == n
    assert remaining_counts(SIZES, 0.2, None, 1) == [188_160, 24_000, 900]
    # the paper's numbers: 51.3% after 3 rounds, 21.1% after 7, 10.8% after 10, 3.6% after 15
    assert [round(100 * fractions[r - 1], 1) for r in (3, 7, 10, 15)] == [51.3, 21.1, 10.8, 3.6]
    assert fractions[6] == pytest.approx(0.8 ** 7 * 265_200 / 266_200 + 0.9 ** 7 * 1_000 / 266_200, abs=2e-5)


def test_prune_rounds_give_those_counts_and_cut_the_smallest_magnitudes():
    model = lenet_300_100(rng=1)
    for round_ in range(1, 5):
        prune_round(model)
        kept = [int(np.count_nonzero(w.mask)) for w in pruning.weights(model)]
        assert kept == remaining_counts(SIZES, 0.2, None, round_)
        assert remaining_fraction(model) == pytest.approx(sum(kept) / sum(SIZES))
    for w in pruning.weights(model):
        magnitude = np.abs(w.data)
        assert magnitude[w.mask == 0].max() <= magnitude[w.mask == 1].min()
    assert all(p.mask is None for name, p in model.named_parameters() if name.endswith("bias"))


def _train_a_little(model, seed=0):
    x = np.random.default_rng(seed).standard_normal((64, 1, 28, 28)).astype(np.float32)
    y = np.arange(64) % 10
    fit(model, nn.SoftmaxCrossEntropy(), nn.Adam(model.parameters(), lr=1e-2), x, y, epochs=2,
        batch_size=16, rng=seed, verbose=False)


def test_rewinding_restores_exactly_the_stored_weights_and_keeps_the_masks():
    model = lenet_300_100(rng=2)
    theta_0 = snapshot(model)
    _train_a_little(model)
    theta_k = snapshot(model)
    assert not np.array_equal(theta_k["1.weight"], theta_0["1.weight"])
    prune_round(model)
    masks = [w.mask.copy() for w in pruning.weights(model)]
    _train_a_little(model, seed=1)
    for state in (theta_0, theta_k):
        rewind(model, state)
        for name, p in model.named_parameters():
            assert p.data.dtype == state[name].dtype
            np.testing.assert_array_equal(p.data, state[name])  # bit for bit
            assert not p.grad.any()
        for w, m in zip(pruning.weights(model), masks):
            np.testing.assert_array_equal(w.mask, m)
    kept = {k: v.copy() for k, v in theta_0.items()}
    rewind(model, theta_0)
    _train_a_little(model, seed=2)  # training after a rewind leaves the stored state alone
    for p in model.parameters():
        p.data += 1  # nor does changing the weights in place: rewind copies
    for name in theta_0:
        np.testing.assert_array_equal(theta_0[name], kept[name])
    state = snapshot(model)
    model.named_parameters()[0][1].data += 1  # the snapshot is a copy, not a view
    assert not np.array_equal(model.named_parameters()[0][1].data, state["1.weight"])


def test_reinitialize_keeps_the_masks_with_fresh_values():
    model = lenet_300_100(rng=3)
    prune_round(model)
    fresh = lenet_300_100(rng=4)
    control = reinitialize(model, fresh)
    for (name, p), (_, q) in zip(control.named_parameters(), fresh.named_parameters()):
        np.testing.assert_array_equal(p.data, q.data)
    assert remaining_fraction(control) == pytest.approx(sum(remaining_counts(SIZES, 0.2, None, 1)) / sum(SIZES))


def test_rewind_rejects_a_state_of_another_model():
    model = lenet_300_100(rng=0)
    with pytest.raises(ValueError, match="state: expected the parameters"):
        rewind(model, {"1.weight": np.zeros((300, 784))})
    state = snapshot(model)
    state["1.weight"] = np.zeros((3, 3))
    with pytest.raises(ValueError, match="has shape"):
        rewind(model, state)
