"""Srinivas & Babu, the method: the pairwise saliency (vectorized = loop), the greedy merge order
(cheap updates = recomputing everything), exact merges of duplicates, the knee, the refusals."""
import numpy as np
import pytest

from minicompress import nn
from minicompress.papers.srinivas2015_data_free import (Merge, knee, merge_neurons, merge_sequence,
                                                        pairwise_saliency, weight_sets)

F64 = dict(dtype=np.float64)


def saliency_loop(w_in, a_out):
    """s[i, j] = mean_k a[k, j]² · Σ_d (w[i, d] − w[j, d])², one pair at a time."""
    n = w_in.shape[0]
    s = np.full((n, n), np.inf)
    for i in range(n):
        for j in range(n):
            if i != j:
                s[i, j] = np.mean(a_out[:, j] ** 2) * np.sum((w_in[i] - w_in[j]) ** 2)
    return s


def greedy_by_recomputing(w_in, a_out, n_remove):
    """The paper's algorithm read literally: recompute every saliency after every merge."""
    a, alive, out = a_out.astype(float).copy(), np.ones(len(w_in), bool), []
    for _ in range(n_remove):
        s = saliency_loop(w_in, a)
        s[~alive, :] = s[:, ~alive] = np.inf
        i, j = np.unravel_index(int(np.argmin(s)), s.shape)
        out.append((int(i), int(j), s[i, j]))
        a[:, i] += a[:, j]
        alive[j] = False
    return out


def mlp(activation=nn.ReLU, hidden=6, seed=0):
    r = np.random.default_rng(seed)
    return nn.Sequential(nn.Linear(5, hidden, rng=r, **F64), activation(),
                         nn.Linear(hidden, 3, rng=r, **F64))


def test_vectorized_saliency_equals_the_loop(rng):
    w, a = rng.standard_normal((9, 6)), rng.standard_normal((4, 9))
    np.testing.assert_allclose(pairwise_saliency(w, a), saliency_loop(w, a), rtol=1e-10, atol=1e-12)
    w[4] = w[7]  # an exact duplicate costs exactly nothing, either way round
    s = pairwise_saliency(w, a)
    assert s[4, 7] == 0 and s[7, 4] == 0 and np.isinf(np.diag(s)).all()


def test_greedy_with_cheap_updates_equals_recomputing_everything(rng):
    w, a = rng.standard_normal((10, 4)), rng.standard_normal((3, 10))
    ours = merge_sequence(w, a, 9)
    reference = greedy_by_recomputing(w, a, 9)
    assert [(m.kept, m.removed) for m in ours] == [(i, j) for i, j, _ in reference]
    np.testing.assert_allclose([m.saliency for m in ours], [s for *_, s in reference], rtol=1e-9)
    assert all(m.scale == 1.0 for m in ours)


@pytest.mark.parametrize("activation", [nn.ReLU, nn.Tanh, nn.Sigmoid])
def test_merging_an_exact_duplicate_leaves_the_outputs_unchanged(activation, rng):
    model = mlp(activation)
    model[0].weight.data[4] = model[0].weight.data[1]
    model[0].bias.data[4] = model[0].bias.data[1]
    merges = merge_sequence(*weight_sets(model, 0), 1)
    assert {merges[0].kept, merges[0].removed} == {1, 4} and merges[0].saliency == 0
    small = merge_neurons(model, 0, merges)
    x = rng.standard_normal((8, 5))
    np.testing.assert_allclose(small(x), model(x), rtol=0, atol=1e-12)
    assert small[0].out_features == small[2].in_features == 5
    assert model[0].out_features == 6  # the original is untouched
    without = merge_neurons(model, 0, merges, surgery=False)  # deleting alone changes them
    assert np.abs(without(x) - model(x)).max() > 1e-3


def test_a_positively_scaled_duplicate_merges_exactly_after_normalizing_for_relu(rng):
    model = mlp(nn.ReLU)
    model[0].weight.data[4] = 2.5 * model[0].weight.data[1]
    model[0].bias.data[4] = 2.5 * model[0].bias.data[1]
    merges = merge_sequence(*weight_sets(model, 0), 1, normalize=True)
    first = merges[0]
    assert {first.kept, first.removed} == {1, 4} and first.saliency < 1e-20
    assert first.scale == pytest.approx(2.5 if first.removed == 4 else 1 / 2.5)
    x = rng.standard_normal((8, 5))
    np.testing.assert_allclose(merge_neurons(model, 0, merges)(x), model(x), rtol=0, atol=1e-12)
    plain = merge_sequence(*weight_sets(model, 0), 1)[0]  # the paper's saliency sees a distance
    assert plain.saliency > 0.1 or {plain.kept, plain.removed} != {1, 4}


def test_surgery_carries_what_a_neuron_absorbed_to_its_next_partner():
    model = mlp(nn.ReLU, hidden=4)
    a = model[2].weight.data.copy()  # (3, 4)
    small = merge_neurons(model, 0, [Merge(0, 1, 0.0), Merge(2, 0, 0.0)])  # 1 → 0, then 0 → 2
    np.testing.assert_allclose(small[2].weight.data, np.stack([a[:, 2] + a[:, 0] + a[:, 1], a[:, 3]], 1))
    np.testing.assert_array_equal(small[0].weight.data, model[0].weight.data[[2, 3]])


def test_weight_sets_are_incoming_weights_with_the_bias_and_outgoing_columns():
    model = mlp()
    w, a = weight_sets(model, 0)
    np.testing.assert_array_equal(w, np.c_[model[0].weight.data, model[0].bias.data])
    assert a is model[2].weight.data and w.shape == (6, 6) and a.shape == (3, 6)


def test_knee_is_where_a_slow_curve_turns_steep():
    curve = np.r_[np.linspace(0.0, 1.0, 80), np.linspace(2.0, 60.0, 20)]
    assert 78 <= knee(curve) <= 82
    assert knee(np.r_[curve[:50], curve[50:][::-1]]) == knee(np.r_[curve[:50], np.full(50, curve[-1])])
    with pytest.raises(ValueError, match="at least 3 merges"):
        knee([1.0, 2.0])


def test_refusals_name_what_was_wrong(rng):
    with pytest.raises(ValueError, match=r"w_in \(5, 3\) and a_out \(2, 4\)"):
        pairwise_saliency(rng.standard_normal((5, 3)), rng.standard_normal((2, 4)))
    w, a = rng.standard_normal((4, 3)), rng.standard_normal((2, 4))
    with pytest.raises(ValueError, match=r"n_remove: expected an int in \[0, 3\].*got 4"):
        merge_sequence(w, a, 4)
    conv = nn.Sequential(nn.Conv2d(1, 2, 3, rng=0), nn.ReLU(), nn.Flatten(), nn.Linear(8, 2, rng=0))
    with pytest.raises(ValueError, match=r"Linear, activation, Linear.*\['Conv2d', 'ReLU', 'Flatten'\]"):
        weight_sets(conv, 0)
    model = mlp()
    model[2].weight.mask = np.ones((3, 6))
    with pytest.raises(ValueError, match="carry masks"):
        merge_neurons(model, 0, [])


def test_a_neuron_with_no_outgoing_weights_still_cannot_merge_into_itself():
    w = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    a = np.array([[1.0, 0.0, 2.0], [3.0, 0.0, 1.0]])  # neuron 1's outgoing weights are all 0
    with np.errstate(invalid="raise"):  # no inf · 0 warning either
        s = pairwise_saliency(w, a)
    assert np.all(np.isposinf(np.diag(s))) and not np.isnan(s).any()
    assert np.all(s[:, 1][[0, 2]] == 0)  # deleting it costs nothing
