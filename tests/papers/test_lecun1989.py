"""Optimal Brain Damage: saliencies against independent references, and the quick reproduction."""
import numpy as np
import pytest

from minicompress import nn
from minicompress.nn import curvature
from minicompress.reproductions import lecun1989_obd as obd


def test_saliency_is_half_h_w_squared(rng):
    """s_k = ½·h_kk·w_k² with h_kk from the requested curvature. Through Linear - tanh with a
    squared error, LeCun's Gauss-Newton recursion is exactly the GGN diagonal (itself tested
    against dense Jacobians); without the tanh it is the exact Hessian diagonal."""
    x, t = rng.standard_normal((20, 6)), rng.uniform(-1, 1, (20, 3))
    loss = nn.MSELoss()
    model = nn.Sequential(nn.Linear(6, 3, rng=rng, dtype=np.float64), nn.Tanh())
    ggn, exact = curvature.diag_ggn(model, loss, x, t), curvature.diag_hessian(model, loss, x, t)
    for method, reference in (("lecun", ggn), ("ggn", ggn), ("exact", exact)):
        for s, h, p in zip(obd.saliencies(model, loss, x, t, method), reference, model.parameters()):
            np.testing.assert_allclose(s, 0.5 * h * p.data ** 2, rtol=1e-10)
    linear = nn.Sequential(nn.Linear(6, 3, rng=rng, dtype=np.float64))
    exact = curvature.diag_hessian(linear, loss, x, t)
    for s, h, p in zip(obd.saliencies(linear, loss, x, t), exact, linear.parameters()):
        np.testing.assert_allclose(s, 0.5 * h * p.data ** 2, rtol=1e-10)


def test_taylor_terms_against_the_dense_hessian(rng):
    model = nn.Sequential(nn.Linear(4, 3, rng=rng, dtype=np.float64), nn.Tanh(),
                          nn.Linear(3, 2, rng=rng, dtype=np.float64), nn.Tanh())
    x, t = rng.standard_normal((10, 4)), rng.uniform(-1, 1, (10, 2))
    loss = nn.MSELoss()
    h = curvature.diag_lecun(model, loss, x, t)
    obd.delete(model, 0.4, obd.saliencies(model, loss, x, t))
    du = np.concatenate([(-(1 - p.mask) * p.data).ravel() for p in model.parameters()])
    masks = [p.mask for p in model.parameters()]
    terms = obd.taylor_terms(model, loss, x, t, h)
    assert all(np.array_equal(p.mask, m) for p, m in zip(model.parameters(), masks))  # restored
    obd.unmask(model)
    H = curvature.hessian(model, loss, x, t)
    model.zero_grad()
    loss(model(x), t)
    model.backward(loss.backward())
    g = np.concatenate([p.grad.ravel() for p in model.parameters()])
    hdiag = np.concatenate([a.ravel() for a in h])
    assert np.isclose(terms["first_order"], g @ du)
    assert np.isclose(terms["quadratic"], 0.5 * du @ H @ du)
    assert np.isclose(terms["predicted_increase"], 0.5 * np.sum(hdiag * du ** 2))


def test_delete_masks_the_lowest_scores_globally(rng):
    model = nn.Sequential(nn.Linear(3, 2, rng=rng), nn.Linear(2, 1, rng=rng))
    scores = [np.arange(6.0).reshape(2, 3), np.array([10.0, -1.0]), np.array([[0.5, 7.0]]), np.array([3.5])]
    obd.delete(model, 3, scores)
    kept = [p.mask for p in model.parameters()]
    # the three lowest of all eleven scores: -1 (bias 0), 0 (weight 0), 0.5 (weight 1)
    assert kept[0].ravel().tolist() == [0, 1, 1, 1, 1, 1] and kept[1].tolist() == [1, 0]
    assert kept[2].ravel().tolist() == [0, 1] and kept[3].tolist() == [1]


def test_bad_arguments():
    with pytest.raises(ValueError, match="curvature must be one of"):
        obd.saliencies(None, None, None, None, "hutchinson")
    with pytest.raises(ValueError, match="objective must be"):
        obd.objective(obd.Config(objective="hinge"))


def test_quick_reproduction_shows_the_papers_claims(tmp_path):
    report = obd.reproduce(quick=True, out_dir=tmp_path)
    rows = {(r["net"], r["method"], r["deleted"]): r for r in report.rows}
    fractions = obd.Config.quick().fractions
    # Fig. 1a, the paper's regime (MLP): OBD deletes more cheaply than magnitude at every level,
    # and random deletion is far worse than OBD
    for f in fractions:
        assert rows["mlp", "OBD", f]["actual"] < rows["mlp", "magnitude", f]["actual"]
        assert rows["mlp", "OBD", f]["actual"] < rows["mlp", "random", f]["actual"]
    # Fig. 1b: the diagonal prediction is the right order of magnitude for small deletions
    ratio = rows["mlp", "OBD", 0.1]["predicted"] / rows["mlp", "OBD", 0.1]["actual"]
    assert 0.1 < ratio < 2
    assert report.figures[0].is_file() and any("with retraining" in n for n in report.notes)
