"""Wen et al. SSL, the method: group norms (= loops), the group-lasso gradient (= finite
differences), the proximal step (= the prox), both ways of stepping, zeroed groups held by masks,
surgery that removes zero filters, channels, shape columns and neurons with unchanged outputs."""
import numpy as np
import pytest

from minicompress import nn
from minicompress.metrics import flops
from minicompress.nn.gradcheck import numerical_gradient
from minicompress.papers.wen2016_ssl import (GroupLasso, GroupTerm, group_lasso, group_lasso_grad, group_norms,
                                             group_shrink, shrink_structured, ssl_terms, survivors,
                                             zero_small_groups)
from minicompress.pruning.lowered import ColumnConv2d

F64 = dict(dtype=np.float64)
CONV_KINDS, LINEAR_KINDS = ("filter", "channel", "shape", "layer"), ("neuron", "input", "layer")


def small_cnn(seed=0):
    """(n, 2, 14, 14) → conv 6@3×3 → pool → conv 5@3×3 → pool → fc 20→7 → fc 7→3."""
    r = np.random.default_rng(seed)
    return nn.Sequential(nn.Conv2d(2, 6, 3, rng=r, **F64), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(6, 5, 3, rng=r, **F64), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                         nn.Linear(20, 7, rng=r, **F64), nn.ReLU(), nn.Linear(7, 3, rng=r, **F64))


def norms_by_loop(w, kind):
    if kind == "filter":
        return np.array([np.linalg.norm(w[n]) for n in range(w.shape[0])])
    if kind == "channel":
        return np.array([np.linalg.norm(w[:, c]) for c in range(w.shape[1])])
    if kind == "shape":
        return np.array([[[np.linalg.norm(w[:, c, m, k]) for k in range(w.shape[3])]
                          for m in range(w.shape[2])] for c in range(w.shape[1])])
    if kind == "neuron":
        return np.array([np.linalg.norm(w[o]) for o in range(w.shape[0])])
    if kind == "input":
        return np.array([np.linalg.norm(w[:, i]) for i in range(w.shape[1])])
    return np.linalg.norm(w)


@pytest.mark.parametrize("shape, kinds", [((4, 3, 2, 2), CONV_KINDS), ((5, 4), LINEAR_KINDS)])
def test_group_norms_equal_a_loop_and_broadcast_against_the_weight(shape, kinds, rng):
    w = rng.standard_normal(shape)
    for kind in kinds:
        norms = group_norms(w, kind)
        assert norms.ndim == w.ndim and (w / norms).shape == w.shape
        np.testing.assert_allclose(norms.squeeze(), norms_by_loop(w, kind), rtol=1e-12)
        assert group_lasso(w, kind) == pytest.approx(np.sum(norms_by_loop(w, kind)))


@pytest.mark.parametrize("shape, kind", [((4, 3, 2, 2), k) for k in CONV_KINDS] +
                         [((5, 4), k) for k in LINEAR_KINDS])
def test_group_lasso_gradient_matches_finite_differences(shape, kind, rng):
    w = rng.standard_normal(shape)  # every group far from zero, where R is differentiable
    numeric = numerical_gradient(lambda: group_lasso(w, kind), w)
    np.testing.assert_allclose(group_lasso_grad(w, kind), numeric, rtol=1e-6, atol=1e-8)


def test_a_zero_group_gets_the_zero_subgradient(rng):
    w = rng.standard_normal((4, 3, 2, 2))
    w[2] = 0.0
    g = group_lasso_grad(w, "filter")
    assert np.all(g[2] == 0) and np.all(np.isfinite(g))


@pytest.mark.parametrize("kind", ["filter", "channel", "shape"])
def test_group_shrink_is_the_proximal_operator(kind, rng):
    v, t = rng.standard_normal((4, 3, 2, 2)), 1.2
    p = group_shrink(v, kind, t)
    before, after = group_norms(v, kind), group_norms(p, kind)
    small = np.broadcast_to(before <= t, v.shape)
    assert np.all(p[small] == 0)  # exactly zero, not merely small
    np.testing.assert_allclose(after[before > t], before[before > t] - t)
    objective = lambda w: 0.5 * np.sum((w - v) ** 2) + t * group_lasso(w, kind)
    for _ in range(30):  # prox(v) minimizes ½‖w − v‖² + t R(w)
        assert objective(p) <= objective(p + 1e-3 * rng.standard_normal(v.shape)) + 1e-12


def test_proximal_and_subgradient_steps(rng):
    for method in ("proximal", "subgradient"):
        p = nn.Parameter(rng.standard_normal((3, 4)), "w")
        g = rng.standard_normal((3, 4))
        w0 = p.data.copy()
        opt = GroupLasso(nn.SGD([p], lr=0.1), [GroupTerm(p, "neuron", 2.0)], method=method)
        opt.zero_grad()
        p.grad += g
        opt.step()
        expected = (group_shrink(w0 - 0.1 * g, "neuron", 0.1 * 2.0) if method == "proximal"
                    else w0 - 0.1 * (g + 2.0 * group_lasso_grad(w0, "neuron")))
        np.testing.assert_allclose(p.data, expected, rtol=1e-12)
        assert opt.penalty() == pytest.approx(2.0 * group_lasso(p.data, "neuron"))


def test_proximal_steps_reach_exact_zero_where_subgradient_steps_oscillate(rng):
    final = {}
    for method in ("proximal", "subgradient"):
        p = nn.Parameter(np.array([[0.30, -0.41]]), "w")  # no loss: only the penalty acts
        opt = GroupLasso(nn.SGD([p], lr=0.1), [GroupTerm(p, "neuron", 0.07)], method=method)
        for _ in range(100):
            opt.zero_grad()
            opt.step()
        final[method] = np.linalg.norm(p.data)
    assert final["proximal"] == 0.0
    assert 0 < final["subgradient"] <= 0.1 * 0.07  # hovers within one step of zero


def test_bad_groups_and_bad_wrappers_are_refused(rng):
    model = small_cnn()
    with pytest.raises(ValueError, match=r"filter-wise groups need a conv \(N, C, M, K\) weight, got shape \(7, 20\)"):
        ssl_terms(model, {7: {"filter": 0.1}})
    with pytest.raises(ValueError, match="kind: expected one of"):
        group_norms(rng.standard_normal((2, 2)), "row")
    with pytest.raises(ValueError, match="has no weight"):
        ssl_terms(model, {1: {"filter": 0.1}})
    terms = ssl_terms(model, {0: {"filter": 0.1}})
    with pytest.raises(ValueError, match="not updated by the optimizer"):
        GroupLasso(nn.SGD(model[3].parameters(), lr=0.1), terms)
    with pytest.raises(ValueError, match="method: expected one of"):
        GroupLasso(nn.SGD(model.parameters(), lr=0.1), terms, method="admm")
    with pytest.raises(ValueError, match="strength"):
        GroupTerm(model[0].weight, "filter", -1.0)


def test_zeroed_groups_are_masked_and_stay_zero_under_training(rng):
    model = small_cnn()
    model[0].weight.data[[1, 4]] *= 1e-6  # two filters with tiny norms
    terms = ssl_terms(model, {0: {"filter": 0.1}})
    assert zero_small_groups(terms, threshold=1e-4) == 2
    x, y = rng.standard_normal((6, 2, 14, 14)), rng.integers(0, 3, 6)
    opt, loss = nn.SGD(model.parameters(), lr=0.1, momentum=0.9), nn.SoftmaxCrossEntropy()
    for _ in range(3):
        model.zero_grad()
        loss(model(x), y)
        model.grad_params(loss.backward())
        opt.step()
    assert not model[0].weight.value()[[1, 4]].any() and model[0].weight.value()[0].all()


def test_groups_at_zero_are_removed_and_the_outputs_are_unchanged(rng):
    model = small_cnn()
    model[0].weight.data[1] = 0.0  # a dead filter: emits relu(b), folded into conv 2's bias
    model[3].weight.data[:, 2] = 0.0  # a dead channel of conv 2: filter 2 of conv 1 goes too
    model[3].weight.data[:, 0, 0, 1] = 0.0  # two dead shape columns of conv 2
    model[3].weight.data[:, 3, 2, 2] = 0.0
    model[7].weight.data[4] = 0.0  # a dead neuron of fc 1
    small = shrink_structured(model)
    x = rng.standard_normal((4, 2, 14, 14))
    np.testing.assert_allclose(small(x), model(x), rtol=0, atol=1e-12)
    assert isinstance(small[3], ColumnConv2d) and len(small[3].columns) == 4 * 9 - 2
    assert small[0].weight.shape == (4, 2, 3, 3) and small[7].weight.shape == (6, 20)
    # by hand: 4·2·9 weights × 12·12 positions + 5·34 × 4·4 + 6·20 + 3·6
    assert [r["dense"] for r in flops(small, (2, 14, 14))["layers"]] == [10_368, 2_720, 120, 18]
    assert survivors(model) == [
        dict(layer="0", filters=4, of_filters=6, channels=2, of_channels=2, columns=18, of_columns=18),
        dict(layer="3", filters=5, of_filters=5, channels=4, of_channels=6, columns=34, of_columns=54)]
