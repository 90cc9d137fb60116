"""Optimal Brain Damage, the method: the paper's objective, h_kk and the saliencies against
independent references (float64), the Taylor terms against a dense Hessian, deletion."""
import numpy as np
import pytest

from minicompress import nn
from minicompress.nn import curvature
from minicompress.nn.gradcheck import numerical_gradient, numerical_hessian
from minicompress.papers import lecun1989_obd as obd


def tanh_net(rng, sizes=(4, 3, 2)):
    layers = []
    for a, b in zip(sizes[:-1], sizes[1:]):
        layers += [nn.Linear(a, b, rng=rng, dtype=np.float64), nn.Tanh()]
    return nn.Sequential(*layers)


def test_squared_error_sums_over_outputs_and_averages_over_patterns(rng):
    """E = (1/P) Σ_p Σ_i (d − x)²: C times MSELoss's mean over all entries; its gradient and
    second derivatives against central differences and a loop over patterns."""
    o, d = rng.standard_normal((7, 5)), rng.standard_normal((7, 5))
    loss = obd.SquaredError()
    value = loss(o, d)
    assert np.isclose(value, sum(((d[p] - o[p]) ** 2).sum() for p in range(7)) / 7, rtol=1e-12)
    assert np.isclose(value, 5 * nn.MSELoss()(o, d), rtol=1e-12)
    g = loss.backward()
    np.testing.assert_allclose(g, numerical_gradient(lambda: loss(o, d), o), rtol=1e-6)
    loss(o, d)
    np.testing.assert_allclose(loss.hessian_diag(), np.full((7, 5), 2 / 7), rtol=1e-12)
    sqrt = loss.hessian_sqrt()  # S Sᵀ = H per pattern: 2/P times the identity
    np.testing.assert_allclose(np.einsum("cnk,cnl->nkl", sqrt, sqrt), np.broadcast_to(2 / 7 * np.eye(5), (7, 5, 5)))


def test_squared_error_hvp_and_evaluate_on_the_papers_scale(rng):
    """Through a network: the hvp with SquaredError matches a finite-difference Hessian, and
    evaluate() (batch by batch) gives the same per-pattern mean as one batch."""
    model, x, t = tanh_net(rng), rng.standard_normal((9, 4)), rng.uniform(-1, 1, (9, 2))
    loss = obd.SquaredError()
    H = numerical_hessian(model, loss, x, t)
    v = [rng.standard_normal(p.shape) for p in model.parameters()]
    hv = np.concatenate([a.ravel() for a in curvature.hvp(model, loss, x, t, v)])
    np.testing.assert_allclose(hv, H @ np.concatenate([a.ravel() for a in v]), rtol=1e-5, atol=1e-8)
    from minicompress.train import evaluate
    assert np.isclose(evaluate(model, loss, x, t, batch_size=4)["loss"], loss(model(x), t), rtol=1e-12)
    assert repr(loss) == "SquaredError()"


def test_saliency_is_half_h_u_squared(rng):
    """s_k = ½·h_kk·u_k² with h_kk from the requested curvature. Through Linear - tanh with a
    squared error, LeCun's Gauss-Newton recursion is exactly the GGN diagonal (itself tested
    against dense Jacobians); without the tanh it is the exact Hessian diagonal, which is
    checked here against a finite-difference Hessian."""
    x, t = rng.standard_normal((20, 6)), rng.uniform(-1, 1, (20, 3))
    loss = obd.SquaredError()
    model = nn.Sequential(nn.Linear(6, 3, rng=rng, dtype=np.float64), nn.Tanh())
    ggn, exact = curvature.diag_ggn(model, loss, x, t), curvature.diag_hessian(model, loss, x, t)
    for method, reference in (("lecun", ggn), ("ggn", ggn), ("exact", exact)):
        for s, h, p in zip(obd.saliencies(model, loss, x, t, method), reference, model.parameters()):
            np.testing.assert_allclose(s, 0.5 * h * p.data ** 2, rtol=1e-10)
    linear = nn.Sequential(nn.Linear(6, 3, rng=rng, dtype=np.float64))
    h_fd = np.diag(numerical_hessian(linear, loss, x, t))
    s_fd = 0.5 * h_fd * np.concatenate([p.data.ravel() for p in linear.parameters()]) ** 2
    s = np.concatenate([a.ravel() for a in obd.saliencies(linear, loss, x, t)])
    np.testing.assert_allclose(s, s_fd, rtol=1e-5, atol=1e-10)


def test_each_method_names_its_curvature(rng):
    """Two hidden layers, where the recursion, the Gauss-Newton and the exact diagonals differ:
    each method gives its own (the exact diagonal against finite differences)."""
    model, x, t = tanh_net(rng, (4, 3, 3, 2)), rng.standard_normal((6, 4)), rng.uniform(-1, 1, (6, 2))
    loss = obd.SquaredError()
    flat = lambda arrays: np.concatenate([a.ravel() for a in arrays])
    lecun, ggn, exact = (flat(obd.second_derivatives(model, loss, x, t, m)) for m in ("lecun", "ggn", "exact"))
    np.testing.assert_allclose(lecun, flat(curvature.diag_lecun(model, loss, x, t)), rtol=1e-12)
    np.testing.assert_allclose(ggn, flat(curvature.diag_ggn(model, loss, x, t)), rtol=1e-12)
    np.testing.assert_allclose(exact, np.diag(numerical_hessian(model, loss, x, t)), rtol=1e-5, atol=1e-9)
    assert not np.allclose(lecun, ggn, rtol=1e-3) and not np.allclose(ggn, exact, rtol=1e-3)


def test_the_papers_scale_multiplies_h_by_the_number_of_outputs(rng):
    """h_kk of E = Σ over outputs (mean over patterns) is C times that of MSELoss's mean over
    every entry: the ranking is the same, the predicted increase is on the paper's scale."""
    model, x, t = tanh_net(rng, (4, 3, 5)), rng.standard_normal((8, 4)), rng.uniform(-1, 1, (8, 5))
    for ours, mean in zip(obd.second_derivatives(model, obd.SquaredError(), x, t),
                          obd.second_derivatives(model, nn.MSELoss(), x, t)):
        np.testing.assert_allclose(ours, 5 * mean, rtol=1e-12)


def test_shared_weight_saliency_sums_over_connections(rng):
    """(5): a conv weight's h_kk is the sum over its connections. For one Conv2d layer with a
    squared error the recursion is exact, so it must equal the finite-difference diagonal."""
    model = nn.Sequential(nn.Conv2d(1, 2, 3, rng=rng, dtype=np.float64), nn.Flatten())
    x, t = rng.standard_normal((3, 1, 5, 5)), rng.standard_normal((3, 18))
    loss = obd.SquaredError()
    h = np.concatenate([a.ravel() for a in obd.second_derivatives(model, loss, x, t)])
    np.testing.assert_allclose(h, np.diag(numerical_hessian(model, loss, x, t)), rtol=1e-5, atol=1e-9)


def test_saliency_checks_shapes():
    with pytest.raises(ValueError, match=r"saliency: h \(2,\) and u \(3,\)"):
        obd.saliency(np.ones(2), np.ones(3))


def test_taylor_terms_against_the_dense_hessian(rng):
    model = tanh_net(rng)
    x, t = rng.standard_normal((10, 4)), rng.uniform(-1, 1, (10, 2))
    loss = obd.SquaredError()
    h = obd.second_derivatives(model, loss, x, t)
    obd.delete(model, 0.4, obd.saliencies(model, loss, x, t))
    du = np.concatenate([(-(1 - p.mask) * p.data).ravel() for p in model.parameters()])
    masks = [p.mask.copy() for p in model.parameters()]
    terms = obd.taylor_terms(model, loss, x, t, h)
    assert all(np.array_equal(p.mask, m) for p, m in zip(model.parameters(), masks))  # restored
    obd.unmask(model)
    assert all(p.mask is None for p in model.parameters())
    H = numerical_hessian(model, loss, x, t)
    g = np.concatenate([numerical_gradient(lambda: loss(model(x), t), p.data).ravel()
                        for p in model.parameters()])
    hdiag = np.concatenate([a.ravel() for a in h])
    assert np.isclose(terms["first_order"], g @ du, rtol=1e-6)
    assert np.isclose(terms["quadratic"], 0.5 * du @ H @ du, rtol=1e-5)
    assert np.isclose(terms["predicted_increase"], 0.5 * np.sum(hdiag * du ** 2), rtol=1e-12)
    assert terms["predicted_increase"] > 0 and np.count_nonzero(du) == round(0.4 * du.size)


def test_taylor_terms_without_deletions_are_zero_and_masks_survive_errors(rng):
    model = tanh_net(rng)
    x, t = rng.standard_normal((5, 4)), rng.uniform(-1, 1, (5, 2))
    loss = obd.SquaredError()
    h = obd.second_derivatives(model, loss, x, t)
    assert obd.taylor_terms(model, loss, x, t, h) == dict(first_order=0.0, predicted_increase=0.0, quadratic=0.0)
    obd.delete(model, 3, [np.abs(p.data) for p in model.parameters()])
    masks = [p.mask.copy() for p in model.parameters()]
    with pytest.raises(ValueError):  # wrong targets: the forward pass fails inside
        obd.taylor_terms(model, loss, x, t[:, :1], h)
    assert all(np.array_equal(p.mask, m) for p, m in zip(model.parameters(), masks))
    with pytest.raises(ValueError, match="taylor_terms: h must hold one array per parameter"):
        obd.taylor_terms(model, loss, x, t, h[:-1])


def test_delete_masks_the_lowest_scores_globally_and_keeps_earlier_deletions(rng):
    model = nn.Sequential(nn.Linear(3, 2, rng=rng), nn.Linear(2, 1, rng=rng))
    scores = [np.arange(6.0).reshape(2, 3), np.array([10.0, -1.0]), np.array([[0.5, 7.0]]), np.array([3.5])]
    obd.delete(model, 3, scores)
    kept = [p.mask for p in model.parameters()]
    # the three lowest of all eleven scores: -1 (bias 0), 0 (weight 0), 0.5 (weight 1)
    assert kept[0].ravel().tolist() == [0, 1, 1, 1, 1, 1] and kept[1].tolist() == [1, 0]
    assert kept[2].ravel().tolist() == [0, 1] and kept[3].tolist() == [1]
    obd.delete(model, 1, scores)  # the next lowest still present: 1 (weight 0, entry 1)
    assert model.parameters()[0].mask.ravel().tolist() == [0, 0, 1, 1, 1, 1]
    assert sum(int((p.mask == 0).sum()) for p in model.parameters()) == 4


def test_bad_curvature_method():
    with pytest.raises(ValueError, match="method must be one of"):
        obd.saliencies(None, None, None, None, "hutchinson")
