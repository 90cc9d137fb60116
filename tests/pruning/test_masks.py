"""Masks against hand-computed cases: counts, rounding, repeated pruning, ties, global, structured,
random, remove; masked weights stay zero through training."""
import math

import numpy as np
import pytest

from minicompress import nn, pruning
from minicompress.models import sigmoid_mlp
from minicompress.pruning import compute_mask
from minicompress.pruning.masks import flat_parameters, with_parameters
from minicompress.train import fit


def param(values):
    return nn.Parameter(np.asarray(values, dtype=np.float64), "w")


def test_int_amount_prunes_that_many_lowest():
    scores = np.array([0.5, -3.0, 2.0, 0.1, 7.0, 1.0, 4.0, 0.2, 6.0, 5.0])
    mask = compute_mask(scores, 3)
    assert mask.tolist() == [1, 0, 1, 0, 1, 1, 1, 0, 1, 1]  # -3.0, 0.1, 0.2 go: scores as given


def test_float_amount_is_a_fraction_rounded_half_to_even():
    scores = np.arange(10.0)
    assert compute_mask(scores, 0.3).sum() == 7  # 3 of 10
    assert compute_mask(scores, 0.25).sum() == 8  # round(2.5) = 2
    assert compute_mask(scores, 0.35).sum() == 6  # round(3.5) = 4
    assert compute_mask(scores, 0.0).sum() == 10 and compute_mask(scores, 1.0).sum() == 0
    assert compute_mask(scores, 0).sum() == 10


def test_magnitude_prune_uses_absolute_values():
    p = param([[0.5, -3.0], [0.1, -0.2]])
    pruning.prune(p, 2)
    assert p.mask.tolist() == [[1, 1], [0, 0]]
    assert p.value().tolist() == [[0.5, -3.0], [0.0, -0.0]]
    assert p.data.tolist() == [[0.5, -3.0], [0.1, -0.2]]  # data keeps the pruned values


def test_pruning_twice_applies_to_the_remaining_entries():
    p = param(np.arange(1.0, 101.0))
    pruning.prune(p, 0.5)
    pruning.prune(p, 0.5)
    assert p.mask.sum() == 25
    assert np.flatnonzero(p.mask).tolist() == list(range(75, 100))  # the largest quarter
    with pytest.raises(ValueError, match=r"amount: an int count must be in \[0, 25\]"):
        pruning.prune(p, 26)


def test_only_unpruned_entries_are_candidates():
    # entry 0 (the smallest) is already masked; 0.5 of the 4 others = the next two smallest
    mask = compute_mask([1.0, 2.0, 3.0, 4.0, 5.0], 0.5, mask=[0, 1, 1, 1, 1])
    assert mask.tolist() == [0, 0, 0, 1, 1]


def test_ties_are_broken_by_flat_index_lower_first():
    assert compute_mask(np.ones(5), 2).tolist() == [0, 0, 1, 1, 1]
    scores = np.array([[2.0, 1.0, 1.0], [1.0, 0.0, 2.0]])
    assert compute_mask(scores, 3).tolist() == [[1, 0, 0], [1, 0, 1]]


@pytest.mark.parametrize("amount, error, text", [
    (-1, ValueError, r"amount: an int count must be in \[0, 4\] .*, got -1"),
    (5, ValueError, r"amount: an int count must be in \[0, 4\] .*, got 5"),
    (1.5, ValueError, r"amount: a float fraction must be in \[0, 1\], got 1.5"),
    (-0.1, ValueError, r"amount: a float fraction must be in \[0, 1\], got -0.1"),
    (math.nan, ValueError, r"amount: a float fraction must be in \[0, 1\], got nan"),
    (True, TypeError, r"amount: expected an int \(a count\) or a float in \[0, 1\] \(a fraction\), got bool"),
    ("0.5", TypeError, r"amount: expected .* got str '0.5'"),
    (None, TypeError, r"amount: expected .* got NoneType"),
])
def test_bad_amounts_are_rejected_clearly(amount, error, text):
    with pytest.raises(error, match=text):
        compute_mask(np.arange(4.0), amount)


def test_numpy_scalars_are_accepted_and_bad_scores_rejected():
    assert compute_mask(np.arange(4.0), np.int64(1)).sum() == 3
    assert compute_mask(np.arange(4.0), np.float32(0.5)).sum() == 2
    with pytest.raises(ValueError, match="NaN"):
        compute_mask([1.0, np.nan], 1)
    with pytest.raises(ValueError, match="scores: expected shape"):
        pruning.prune(param([1.0, 2.0]), 1, scores=[1.0, 2.0, 3.0])


@pytest.mark.parametrize("mask, error, text", [
    ([1, 2, 1, 1], ValueError, r"mask: expected only 0 and 1, got 2 \(1 entries other than 0/1\)"),
    ([1, -1, 0, 1], ValueError, r"mask: expected only 0 and 1, got -1"),
    ([1.0, 0.5, 0.5, 1.0], ValueError, r"got 0.5 \(2 entries"),
    ([1.0, np.nan, 1.0, 1.0], ValueError, r"got nan"),
    ([1, 1, 1], ValueError, r"mask: shape \(3,\) does not match scores of shape \(4,\)"),
    (["1", "0", "1", "1"], TypeError, r"mask: expected a real 0/1 array, got dtype <U1"),
])
def test_a_mask_must_hold_only_zeros_and_ones(mask, error, text):
    """A value other than 0/1 once came back as −1 in the new mask."""
    with pytest.raises(error, match=text):
        compute_mask(np.arange(4.0), 1, mask=mask)
    assert compute_mask(np.arange(4.0), 1, mask=np.array([True, False, True, True])).tolist() == [0, 0, 1, 1]


def test_pruning_functions_name_a_bad_param_or_norm():
    for call in (lambda: pruning.prune(np.ones(3), 1), lambda: pruning.remove(np.ones(3)),
                 lambda: pruning.ln_structured([1.0], 1, n=1, dim=0),
                 lambda: pruning.random_unstructured(np.ones(3), 1, rng=0)):
        with pytest.raises(TypeError, match="param: expected a Parameter .*got (ndarray|list)"):
            call()
    with pytest.raises(ValueError, match="n: expected a vector norm order .*got 'fro'"):
        pruning.ln_structured(param(np.ones((3, 3))), 1, n="fro", dim=0)


def test_global_prune_ranks_across_parameters():
    a, b = param([1.0, 5.0]), param([[2.0, 3.0], [-4.0, 0.5]])
    pruning.global_prune([a, b], 3)  # 0.5, 1, 2 go
    assert a.mask.tolist() == [0, 1] and b.mask.tolist() == [[0, 1], [1, 0]]
    pruning.global_prune([a, b], 0.5)  # 0.5 of the 3 left = round(1.5) = 2: 3 and -4
    assert a.mask.tolist() == [0, 1] and b.mask.tolist() == [[0, 0], [0, 0]]


def test_global_prune_ties_go_to_earlier_parameters_and_scores_plug_in():
    a, b = param([1.0, 1.0]), param([1.0, 1.0])
    pruning.global_prune([a, b], 3)
    assert a.mask.tolist() == [0, 0] and b.mask.tolist() == [0, 1]
    c, d = param([1.0, 2.0]), param([3.0, 4.0])
    pruning.global_prune([c, d], 2, scores=[np.array([9.0, 9.0]), np.array([0.0, 1.0])])
    assert c.mask.tolist() == [1, 1] and d.mask.tolist() == [0, 0]
    with pytest.raises(TypeError, match="item 0 is a ndarray, not a Parameter"):
        pruning.global_prune([np.ones(3)], 1)


def test_ln_structured_removes_whole_rows_by_norm():
    # row 0: L1 = 3, L2 = 3; row 1: L1 = 4, L2 = 2; row 2: large
    w = param([[3.0, 0.0, 0.0, 0.0], [1.0, 1.0, -1.0, 1.0], [5.0, 5.0, 5.0, 5.0]])
    pruning.ln_structured(w, 1, n=1, dim=0)
    assert w.mask.tolist() == [[0] * 4, [1] * 4, [1] * 4]
    w.mask = None
    pruning.ln_structured(w, 1, n=2, dim=0)
    assert w.mask.tolist() == [[1] * 4, [0] * 4, [1] * 4]
    pruning.ln_structured(w, 0.5, n=2, dim=0)  # round(0.5 · 2 rows left) = 1: row 0 (3 < 10)
    assert w.mask.tolist() == [[0] * 4, [0] * 4, [1] * 4]
    pruning.ln_structured(w, 0.5, n=2, dim=0)  # round(0.5 · 1) = 0 (half to even)
    assert w.mask.sum() == 4


def test_ln_structured_ranks_the_effective_weights_of_a_pruned_parameter():
    """Row 0 stores a large value that an earlier mask deleted: its effective norm is 1, below
    row 1's √8, so row 0 goes (as PyTorch, which scores the masked weight)."""
    w = param([[10.0, 1.0], [2.0, 2.0]])
    w.mask = np.array([[0.0, 1.0], [1.0, 1.0]])
    pruning.ln_structured(w, 1, n=2, dim=0)
    assert w.mask.tolist() == [[0, 0], [1, 1]]


def test_ln_structured_on_columns_and_conv_filters():
    w = param([[1.0, 9.0, 0.1], [1.0, 9.0, 0.1]])
    pruning.ln_structured(w, 2, n=2, dim=-1)
    assert w.mask.tolist() == [[0, 1, 0], [0, 1, 0]]
    k = nn.Parameter(np.stack([np.full((2, 3, 3), v) for v in (3.0, 1.0, 2.0, 0.5)]), "k")
    pruning.ln_structured(k, 0.5, n=1, dim=0)  # filters 3 and 1 (the two smallest) go
    assert k.mask.reshape(4, -1).mean(axis=1).tolist() == [1, 0, 1, 0]
    with pytest.raises(ValueError, match=r"dim: expected an int in \[-4, 3\]"):
        pruning.ln_structured(k, 1, n=1, dim=4)


def test_random_pruning_counts_and_seeds():
    a, b, c = (param(np.ones((10, 10))) for _ in range(3))
    pruning.random_unstructured(a, 0.3, rng=0)
    pruning.random_unstructured(b, 0.3, rng=0)
    pruning.random_unstructured(c, 0.3, rng=1)
    assert a.mask.sum() == 70 and np.array_equal(a.mask, b.mask) and not np.array_equal(a.mask, c.mask)
    pruning.random_structured(c, 4, dim=1, rng=2)
    kept_columns = c.mask.any(axis=0)
    assert kept_columns.sum() == 6 and not c.mask[:, ~kept_columns].any()


def test_remove_bakes_the_mask_and_is_pruned_reports_masks():
    model = nn.Sequential(nn.Linear(3, 2, rng=0, dtype=np.float64))
    assert not pruning.is_pruned(model)
    w = model[0].weight
    pruning.prune(w, 3)
    assert pruning.is_pruned(model) and pruning.n_masked(w) == 3
    expected = w.value().copy()
    pruning.remove(w)
    assert w.mask is None and np.array_equal(w.data, expected) and not pruning.is_pruned(model)
    assert [p.name for p in pruning.weights(model)] == ["0.weight"]


@pytest.mark.parametrize("make_optimizer", [
    lambda ps: nn.SGD(ps, lr=0.1, momentum=0.9, weight_decay=1e-3, nesterov=True),
    lambda ps: nn.Adam(ps, lr=0.01, weight_decay=1e-3),
])
def test_masked_weights_stay_zero_through_training(rng, make_optimizer):
    model = nn.Sequential(nn.Linear(6, 8, rng=0), nn.ReLU(), nn.Linear(8, 3, rng=1))
    x = rng.standard_normal((64, 6)).astype(np.float32)
    y = rng.integers(0, 3, 64)
    pruning.global_prune(pruning.weights(model), 0.6)
    before = [p.data.copy() for p in pruning.weights(model)]
    fit(model, nn.SoftmaxCrossEntropy(), make_optimizer(model.parameters()), x, y, epochs=3,
        batch_size=16, rng=0, verbose=False)
    for p, old in zip(pruning.weights(model), before):
        off = p.mask == 0
        assert not p.value()[off].any() and np.array_equal(p.data[off], old[off])
        assert not np.array_equal(p.data[~off], old[~off])  # the others did train


def test_with_weights_masks_and_copies():
    net = sigmoid_mlp((2, 2, 1), rng=0)
    w = flat_parameters(net) + 1.0
    copy_ = with_parameters(net, w, [0, 4])
    assert np.all(flat_parameters(net) == w - 1.0)  # the original is untouched
    first, bias = copy_.parameters()[:2]
    assert first.mask.ravel().tolist() == [0, 1, 1, 1] and bias.mask.tolist() == [0, 1]
