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


@pytest.mark.parametrize("momentum", [0.0, 0.9])
@pytest.mark.parametrize("method", ["proximal", "subgradient"])
def test_one_step_of_each_method_by_hand(method, momentum, rng):
    p = nn.Parameter(rng.standard_normal((3, 4)), "w")
    p.data[1, 2] = 5e-5  # a tiny weight: the subgradient step's zeroing takes it (if it stays tiny)
    g, w0, lr, lam = rng.standard_normal((3, 4)), p.data.copy(), 0.1, 2.0
    g[1, 2] = -2.0 * group_lasso_grad(w0, "neuron")[1, 2]  # no net push on it from the subgradient step
    opt = GroupLasso(nn.SGD([p], lr=lr, momentum=momentum), [GroupTerm(p, "neuron", lam)], method=method)
    opt.zero_grad()
    p.grad += g
    opt.step()
    if method == "proximal":  # from zero velocity, v = g; then the prox of lr·λ/(1 − μ)·R
        expected = group_shrink(w0 - lr * g, "neuron", lr * lam / (1 - momentum))
    else:  # v = g + λ W/‖W‖; weights at or below 1e-4 then set to zero (the authors' Caffe)
        expected = w0 - lr * (g + lam * group_lasso_grad(w0, "neuron"))
        assert abs(expected[1, 2]) <= 1e-4
        expected[np.abs(expected) <= 1e-4] = 0.0
    np.testing.assert_allclose(p.data, expected, rtol=1e-12, atol=1e-15)
    assert opt.penalty() == pytest.approx(lam * group_lasso(p.data, "neuron"))


def fixed_point(a, lam, method, *, lr, momentum=0.9, steps=3000, start=None, zero_below=1e-4):
    """SSL on E(w) = ½‖w − a‖² with one neuron-wise group: the norms of w over the steps. The
    minimizer of E + λ‖w‖ is a·max(0, 1 − λ/‖a‖)."""
    p = nn.Parameter(np.array([a if start is None else start], dtype=np.float64), "w")
    opt = GroupLasso(nn.SGD([p], lr=lr, momentum=momentum), [GroupTerm(p, "neuron", lam)], method,
                     zero_below=zero_below)
    norms = []
    for _ in range(steps):
        opt.zero_grad()
        p.add_grad(p.data - a)
        opt.step()
        norms.append(float(np.linalg.norm(p.data)))
    return np.array(norms)


@pytest.mark.parametrize("lr", [0.1, 0.01])
def test_proximal_steps_with_momentum_minimize_the_stated_objective(lr):
    """The objective is E + λR, not E + (1 − μ)λR: ‖a‖ = 0.5, λ = 0.2 ends at 0.30 (a threshold of
    lr·λ would give 0.48), and ‖a‖ = 0.15 < λ ends exactly at zero."""
    norms = fixed_point([0.3, 0.4], 0.2, "proximal", lr=lr, steps=1500)
    assert norms[-1] == pytest.approx(0.30, abs=1e-6)
    assert np.all(fixed_point([0.09, 0.12], 0.2, "proximal", lr=lr, steps=1500)[-100:] == 0.0)


def test_subgradient_steps_with_zeroing_minimize_the_same_objective():
    """The paper's step: the same fixed point on average; a group that should be zero oscillates
    around zero without the authors' zeroing and is exactly zero with it (at a learning rate
    small enough that one step moves a weight less than 1e-4)."""
    assert np.mean(fixed_point([0.3, 0.4], 0.2, "subgradient", lr=0.01, steps=1500)[-200:]) == pytest.approx(0.30, abs=1e-3)
    kw = dict(lr=3e-4, momentum=0.0, steps=500, start=[0.0009, 0.0012])
    assert np.all(fixed_point([0.09, 0.12], 0.2, "subgradient", **kw)[-100:] == 0.0)
    assert np.all(fixed_point([0.09, 0.12], 0.2, "subgradient", zero_below=0.0, **kw)[-100:] > 0.0)


def test_proximal_steps_reach_exact_zero_where_plain_subgradient_steps_oscillate():
    final = {}
    for method in ("proximal", "subgradient"):
        p = nn.Parameter(np.array([[0.30, -0.41]]), "w")  # no loss: only the penalty acts
        opt = GroupLasso(nn.SGD([p], lr=0.1), [GroupTerm(p, "neuron", 0.07)], method=method, zero_below=0.0)
        for _ in range(100):
            opt.zero_grad()
            opt.step()
        final[method] = np.linalg.norm(p.data)
    assert final["proximal"] == 0.0
    assert 0 < final["subgradient"] <= 0.1 * 0.07  # hovers within one step of zero


def test_zeroing_touches_only_the_regularized_weights_and_respects_masks():
    w, other = nn.Parameter(np.array([[5e-5, 1.0], [3e-5, -2.0]]), "w"), nn.Parameter(np.array([5e-5]), "b")
    w.mask = np.array([[1.0, 1.0], [0.0, 1.0]])
    opt = GroupLasso(nn.SGD([w, other], lr=0.1), [GroupTerm(w, "input", 0.0)], "subgradient")  # no gradient
    opt.zero_grad()
    opt.step()
    np.testing.assert_array_equal(w.data, [[0.0, 1.0], [3e-5, -2.0]])  # the masked entry is left alone
    assert other.data[0] == 5e-5


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
    with pytest.raises(TypeError, match="optimizer: expected an nn.SGD"):
        GroupLasso(nn.Adam(model.parameters()), terms)
    with pytest.raises(ValueError, match="zero_below"):
        GroupLasso(nn.SGD(model.parameters(), lr=0.1), terms, "subgradient", zero_below=float("nan"))
    single = nn.Conv2d(1, 4, 3, rng=0)  # one input channel: its only channel group is the whole layer
    with pytest.raises(ValueError, match="one input channel, is the whole layer; use kind='layer'"):
        GroupTerm(single.weight, "channel", 0.1)
    GroupTerm(single.weight, "layer", 0.1)  # asked for by its name, it is fine


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
