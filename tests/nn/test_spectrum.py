"""The Hessian's spectrum (top eigenvalues, trace, SLQ density) against ``hessian`` + eigh, in
float64, on small nets."""
import numpy as np
import pytest

from minicompress import nn
from minicompress.nn import curvature as cv
from minicompress.nn import hessian_operator, spectrum, stochastic_trace

from .settings import small_cnn, small_mlp


def mlp_problem(loss=None):
    """74 parameters; seed 0 (of 0-7 the only one) gives |λ_min| > λ_max: the power method
    must shift to find the largest algebraic eigenvalue."""
    rng = np.random.default_rng(0)
    model, x = small_mlp(rng, nn.Tanh), rng.standard_normal((5, 6))
    return model, loss or nn.SoftmaxCrossEntropy(), x, rng.integers(0, 3, 5)


def cnn_problem(rng):
    model, x = small_cnn(rng, nn.ReLU), rng.standard_normal((3, 1, 8, 8))
    return model, nn.MSELoss(), x, rng.standard_normal((3, 3))


def flat(arrays):
    return np.concatenate([a.ravel() for a in arrays])


def diagonal_hessian_problem(rng):
    """Linear + MSE on orthogonal, centred inputs: H is diagonal, with only two distinct
    eigenvalues (8 for the weights, 16 for the biases), each repeated."""
    q = np.linalg.qr(np.column_stack([np.ones(8), rng.standard_normal((8, 3))]))[0][:, 1:]
    model = nn.Sequential(nn.Linear(3, 2, rng=rng, dtype=np.float64))
    return model, nn.MSELoss("sum"), 2.0 * q, rng.standard_normal((8, 2))


# ----- top eigenvalues ----------------------------------------------------------------------------
@pytest.mark.parametrize("method", ["lanczos", "power"])
@pytest.mark.parametrize("kind", ["tanh-mlp-ce", "relu-cnn-mse"])
def test_top_eigenvalues_match_eigh(kind, method, rng):
    model, loss, x, y = mlp_problem() if kind == "tanh-mlp-ce" else cnn_problem(rng)
    lam, U = np.linalg.eigh(cv.hessian(model, loss, x, y))
    lam, U = lam[::-1], U[:, ::-1]
    if kind == "tanh-mlp-ce":
        assert -lam[-1] > lam[0] > 0  # largest *algebraic* is not largest in magnitude here
    values, vectors, info = cv.top_eigenvalues(model, loss, x, y, 3, tol=1e-10, max_iter=5000,
                                               rng=1, method=method, return_info=True)
    assert info["converged"] and info["hvps"] == len(info["history"])
    assert np.all(np.diff(values) < 0)
    np.testing.assert_array_less(np.abs(values - lam[:3]) / np.abs(lam[:3]), 1e-6)
    for i, v in enumerate(vectors):
        assert [a.shape for a in v] == [p.shape for p in model.parameters()]
        assert abs(flat(v) @ U[:, i]) > 1 - 1e-6
        assert np.isclose(np.linalg.norm(flat(v)), 1)


def test_lanczos_needs_fewer_hvps_than_power_iteration(rng):
    model, loss, x, y = mlp_problem()
    count = {m: cv.top_eigenvalues(model, loss, x, y, 1, tol=1e-8, max_iter=5000, rng=2,
                                   method=m, return_info=True)[2]["hvps"] for m in ("lanczos", "power")}
    assert count["lanczos"] < count["power"] / 3, count


def test_repeated_eigenvalues_are_found_by_restarting(rng):
    """The Krylov space of a random vector has dimension 2 here (two distinct eigenvalues):
    the third eigenvalue (a second copy of the largest) needs a restart."""
    model, loss, x, y = diagonal_hessian_problem(rng)
    lam = np.sort(np.diag(cv.hessian(model, loss, x, y)))[::-1]
    for method in ("lanczos", "power"):
        values, _ = cv.top_eigenvalues(model, loss, x, y, 3, tol=1e-10, rng=0, method=method)
        np.testing.assert_allclose(values, lam[:3], rtol=1e-9)


def test_params_selects_a_diagonal_block_and_masks_give_zero_rows(rng):
    model, loss, x, y = mlp_problem()
    H = cv.hessian(model, loss, x, y)
    layer = model[2]  # the middle Linear: entries 42..71 of the flat parameters
    block = slice(6 * 5 + 5, 6 * 5 + 5 + 5 * 4 + 4)
    lam = np.linalg.eigvalsh(H[block, block])[::-1]
    values, vectors = cv.top_eigenvalues(model, loss, x, y, 2, tol=1e-10, rng=0, params=layer)
    np.testing.assert_allclose(values, lam[:2], rtol=1e-8)
    assert [a.shape for a in vectors[0]] == [(4, 5), (4,)]
    for p in model.parameters():
        p.mask = rng.random(p.shape) > 0.5
    lam = np.linalg.eigvalsh(cv.hessian(model, loss, x, y))[::-1]
    values, vectors = cv.top_eigenvalues(model, loss, x, y, 2, tol=1e-10, rng=0)
    np.testing.assert_allclose(values, lam[:2], rtol=1e-8)
    # an eigenvector of a nonzero eigenvalue vanishes on the zero rows (to the tolerance)
    assert all(np.abs(a[p.mask == 0]).max(initial=0) < 1e-8 for a, p in zip(vectors[0], model.parameters()))


def test_float32_model_and_the_start_vector(rng):
    model, loss, x, y = mlp_problem()
    lam = np.linalg.eigvalsh(cv.hessian(model, loss, x, y))[-1]
    v0 = [np.ones(p.shape) for p in model.parameters()]
    a, _ = cv.top_eigenvalues(model, loss, x, y, tol=1e-10, v0=v0)
    b, _ = cv.top_eigenvalues(model, loss, x, y, tol=1e-10, v0=v0)
    assert a[0] == b[0] and abs(a[0] - lam) < 1e-9 * lam  # no randomness used with v0
    model32 = small_mlp(np.random.default_rng(7), nn.Tanh, dtype=np.float32)
    values, vectors = cv.top_eigenvalues(model32, loss, x.astype(np.float32), y, tol=1e-4, rng=0)
    assert values.dtype == np.float64 and all(a.dtype == np.float32 for a in vectors[0])


def test_not_converging_warns(rng):
    model, loss, x, y = mlp_problem()
    with pytest.warns(RuntimeWarning, match=r"not converged to tol=1e-12 in max_iter=4"):
        cv.top_eigenvalues(model, loss, x, y, 1, tol=1e-12, max_iter=4, rng=0)


# ----- the trace ----------------------------------------------------------------------------------
def record_probes(monkeypatch):
    """Keep every Rademacher vector the estimators draw (the same draws, just recorded)."""
    drawn, draw = [], hessian_operator.rademacher
    for module in (spectrum, stochastic_trace):
        monkeypatch.setattr(module, "rademacher", lambda r, size: drawn.append(draw(r, size)) or drawn[-1])
    return drawn


def test_hutchinson_is_the_mean_of_vt_h_v_and_within_five_sigma(rng, monkeypatch):
    """Given its probes the estimate is exactly mean vᵀHv (dense H); its error is within
    5σ/√n, σ² = 2(‖H‖_F² − Σ H_ii²) the variance of one Rademacher probe; per parameter the
    same with the symmetrized block rows."""
    model, loss, x, y = mlp_problem()
    H, n = cv.hessian(model, loss, x, y), 400
    drawn = record_probes(monkeypatch)
    total = cv.trace(model, loss, x, y, n=n, rng=3)
    V = np.array(drawn).T
    assert V.shape == (H.shape[0], n)
    assert abs(total - np.einsum("in,ij,jn->", V, H, V) / n) < 1e-12
    sigma = np.sqrt(2 * ((H ** 2).sum() - (np.diag(H) ** 2).sum()))
    assert abs(total - np.trace(H)) <= 5 * sigma / np.sqrt(n)
    parts = cv.trace(model, loss, x, y, n=n, rng=4, per_layer=True)
    assert len(parts) == 6
    assert abs(sum(parts) - cv.trace(model, loss, x, y, n=n, rng=4)) < 1e-12  # same probes
    start = 0
    for p, t in zip(model.parameters(), parts):
        D = np.zeros_like(H)
        D[start:start + p.data.size] = H[start:start + p.data.size]
        M = (D + D.T) / 2
        s = np.sqrt(2 * ((M ** 2).sum() - (np.diag(M) ** 2).sum()))
        assert abs(t - np.trace(D)) <= 5 * s / np.sqrt(n) + 1e-12, p.name
        start += p.data.size


def test_hutchinson_is_exact_for_a_diagonal_hessian(rng):
    model, loss, x, y = diagonal_hessian_problem(rng)
    H = cv.hessian(model, loss, x, y)
    assert abs(cv.trace(model, loss, x, y, n=2, rng=0) - np.trace(H)) < 1e-12
    assert np.allclose(cv.trace(model, loss, x, y, n=1, rng=0, per_layer=True), [48.0, 32.0])


def test_hutchpp_recomputed_from_its_probes_and_exact_when_it_spans_the_space(rng, monkeypatch):
    model, loss, x, y = mlp_problem()
    H = cv.hessian(model, loss, x, y)
    P = H.shape[0]
    drawn = record_probes(monkeypatch)
    estimate = cv.trace(model, loss, x, y, n=31, rng=5, method="hutch++")
    S, G = np.array(drawn[:10]).T, np.array(drawn[10:]).T  # m = 10 sketch, 11 probes
    Q = np.linalg.qr(H @ S)[0]
    W = G - Q @ (Q.T @ G)
    assert G.shape == (P, 11)
    assert abs(estimate - (np.trace(Q.T @ H @ Q) + np.trace(W.T @ H @ W) / 11)) < 1e-10
    # 3P hvps: Q spans everything, so each parameter's block trace comes out exactly
    parts = cv.trace(model, loss, x, y, n=3 * P, rng=0, method="hutch++", per_layer=True)
    bounds = np.cumsum([0] + [p.data.size for p in model.parameters()])
    exact = [np.trace(H[i:j, i:j]) for i, j in zip(bounds[:-1], bounds[1:])]
    np.testing.assert_allclose(parts, exact, rtol=1e-9, atol=1e-12)


def test_hutchpp_has_lower_variance_than_hutchinson_at_equal_hvps():
    """Inputs whose scales decay (0.3^j) give a ReLU net's Hessian a decaying spectrum: with
    30 hvps, Hutch++ takes the top 10 directions exactly and only the tail is estimated.
    Over 40 seeds its mean squared error must be below half of Hutchinson's (measured: about
    a sixth), and Hutchinson's must match its exact variance 2(‖H‖_F² − Σ H_ii²)/n."""
    rng = np.random.default_rng(1)
    model = small_mlp(rng, nn.ReLU)
    x, y, loss = rng.standard_normal((20, 6)) * 0.3 ** np.arange(6), rng.standard_normal((20, 3)), nn.MSELoss()
    H = cv.hessian(model, loss, x, y)
    lam = np.sort(np.abs(np.linalg.eigvalsh(H)))[::-1]
    assert lam[10:].sum() < 0.25 * lam.sum()  # the decay that Hutch++ exploits
    errors = {m: np.array([cv.trace(model, loss, x, y, n=30, rng=s, method=m) - np.trace(H)
                           for s in range(40)]) for m in ("hutchinson", "hutch++")}
    mse = {m: np.mean(e ** 2) for m, e in errors.items()}
    variance = 2 * ((H ** 2).sum() - (np.diag(H) ** 2).sum()) / 30
    assert 0.5 * variance < mse["hutchinson"] < 2 * variance
    assert mse["hutch++"] < mse["hutchinson"] / 2, mse


# ----- stochastic Lanczos quadrature ------------------------------------------------------------
def test_slq_is_gauss_quadrature_of_each_probe(rng, monkeypatch):
    """Per probe v̂ = v/√P: Σ_i w_i θ_i^j = v̂ᵀHʲv̂ exactly for j < 2m (m Lanczos steps)."""
    model, loss, x, y = mlp_problem()
    H = cv.hessian(model, loss, x, y)
    drawn = record_probes(monkeypatch)
    m = 4
    nodes, weights = cv.spectral_density(model, loss, x, y, n_lanczos=m, n_probes=3, rng=0)
    assert nodes.shape == weights.shape == (3 * m,) and (weights >= 0).all()
    assert abs(weights.sum() - 1) < 1e-12
    for probe, v in enumerate(drawn):
        v = v / np.linalg.norm(v)
        part = slice(probe * m, (probe + 1) * m)
        for j in range(2 * m):
            exact = v @ np.linalg.matrix_power(H, j) @ v
            assert abs(3 * weights[part] @ nodes[part] ** j - exact) < 1e-10 * max(1, abs(exact))


def test_slq_moments_and_nodes(rng):
    """First and second moments of the measure within 5σ of Tr(H)/P and Tr(H²)/P (σ of a
    normalized Rademacher quadratic form); with P Lanczos steps every node is an eigenvalue."""
    model, loss, x, y = mlp_problem()
    H = cv.hessian(model, loss, x, y)
    P, probes = H.shape[0], 40
    nodes, weights = cv.spectral_density(model, loss, x, y, n_lanczos=10, n_probes=probes, rng=1)
    for M, moment in ((H, weights @ nodes), (H @ H, weights @ nodes ** 2)):
        sigma = np.sqrt(2 * ((M ** 2).sum() - (np.diag(M) ** 2).sum())) / P
        assert abs(moment - np.trace(M) / P) <= 5 * sigma / np.sqrt(probes)
    lam = np.linalg.eigvalsh(H)
    nodes, weights = cv.spectral_density(model, loss, x, y, n_lanczos=P, n_probes=1, rng=2)
    assert np.abs(nodes[:, None] - lam).min(axis=1).max() < 1e-8
    grid = np.linspace(nodes.min() - 1, nodes.max() + 1, 4001)
    curve = cv.smoothed_density(nodes, weights, grid, sigma=0.05)
    assert abs(np.sum((curve[1:] + curve[:-1]) / 2 * np.diff(grid)) - 1) < 1e-6


# ----- bad input ----------------------------------------------------------------------------------
def test_bad_arguments_give_clear_errors(rng):
    model, loss, x, y = mlp_problem()
    with pytest.raises(ValueError, match=r"top_eigenvalues: k = 75 exceeds the number of parameters \(74\)"):
        cv.top_eigenvalues(model, loss, x, y, 75)
    with pytest.raises(ValueError, match=r"k = 4 exceeds the number of parameters \(3\)"):
        cv.top_eigenvalues(model, loss, x, y, 4, params=model[4].bias)
    with pytest.raises(ValueError, match="top_eigenvalues: k must be an int >= 1, got 0"):
        cv.top_eigenvalues(model, loss, x, y, 0)
    with pytest.raises(ValueError, match="method must be one of .*'lanczos'.*got 'arnoldi'"):
        cv.top_eigenvalues(model, loss, x, y, method="arnoldi")
    with pytest.raises(ValueError, match="tol must be a positive finite number, got nan"):
        cv.top_eigenvalues(model, loss, x, y, tol=float("nan"))
    v0 = [np.ones(p.shape) for p in model.parameters()]
    v0[2][0, 1] = np.inf
    with pytest.raises(ValueError, match=r"top_eigenvalues: v0 for '2.weight' contains 1 NaN/inf"):
        cv.top_eigenvalues(model, loss, x, y, v0=v0)
    with pytest.raises(ValueError, match=r"v0 for '0.bias' has shape \(3,\), expected \(5,\)"):
        cv.top_eigenvalues(model, loss, x, y, v0=[v0[0], np.ones(3)] + v0[2:])
    with pytest.raises(ValueError, match="trace: n must be an int >= 1, got 0"):
        cv.trace(model, loss, x, y, n=0)
    with pytest.raises(ValueError, match="trace: n must be an int >= 3, got 2"):
        cv.trace(model, loss, x, y, n=2, method="hutch++")
    with pytest.raises(ValueError, match="trace: method must be one of"):
        cv.trace(model, loss, x, y, method="hutch+")
    with pytest.raises(ValueError, match="spectral_density: n_probes must be an int >= 1, got -1"):
        cv.spectral_density(model, loss, x, y, n_probes=-1)
    other = small_mlp(rng)
    with pytest.raises(ValueError, match="trace: Parameter.*in params is not a parameter of the model"):
        cv.trace(model, loss, x, y, params=[other[0].weight])
    with pytest.raises(TypeError, match="params must be None, a Parameter"):
        cv.trace(model, loss, x, y, params="0.weight")
    bad = x.copy()
    bad[1, 2] = np.nan
    with pytest.raises(nn.NonFiniteError, match="contains 1 NaN/inf"):
        cv.spectral_density(model, loss, bad, y)
    with pytest.raises(ValueError, match="sigma must be positive"):
        cv.smoothed_density(np.zeros(2), np.ones(2), np.zeros(3), sigma=0.0)


def test_bulk_edge_by_hand():
    nodes, weights = np.array([5.0, 0.1, -0.2, 0.0]), np.array([0.005, 0.3, 0.195, 0.5])  # unsorted
    assert cv.bulk_edge(nodes, weights) == pytest.approx(0.2)  # |t| ≤ 0.2 holds 99.5%
    assert cv.bulk_edge(nodes, weights, 0.8) == pytest.approx(0.1)
    assert cv.bulk_edge(nodes, np.array([0.2, 0.3, 0.0, 0.5])) == pytest.approx(5.0)  # the outlier is needed
    assert cv.bulk_edge(nodes, 2 * weights) == pytest.approx(0.2)  # mass relative to the total
    assert cv.bulk_edge(nodes, weights, 1.0) == pytest.approx(5.0)


def test_bulk_edge_refuses_bad_input():
    with pytest.raises(ValueError, match="one shape"):
        cv.bulk_edge(np.zeros(3), np.ones(2))
    with pytest.raises(ValueError, match="non-empty"):
        cv.bulk_edge(np.zeros(0), np.zeros(0))
    with pytest.raises(nn.NonFiniteError, match="NaN"):
        cv.bulk_edge(np.array([0.0, np.nan]), np.ones(2))
    for mass, weights in ((0.0, np.ones(2)), (1.5, np.ones(2)), (np.nan, np.ones(2)), (0.9, np.array([1.0, -0.5]))):
        with pytest.raises(ValueError, match="0 < mass ≤ 1 and weights ≥ 0"):
            cv.bulk_edge(np.zeros(2), weights, mass)


def test_a_non_finite_hessian_vector_product_is_an_error(rng):
    model, loss, x, y = mlp_problem(loss=nn.MSELoss())
    y = rng.standard_normal((5, 3))
    model[4].weight.data[:] = 1e200  # finite outputs; R{g} W overflows below the last layer
    with np.errstate(over="ignore", invalid="ignore"), pytest.raises(
            nn.NonFiniteError, match="top_eigenvalues: Hessian-vector product 1 contains"):
        cv.top_eigenvalues(model, loss, x, y)


@pytest.mark.slow  # about 10 s: LeNet-5 hvps
def test_the_top_eigenvalue_benchmark_runs_on_a_few_images(capsys):
    """``minicompress bench curvature``'s eigenvalue table, on 8 images instead of 1,000."""
    from minicompress import bench
    rows = bench.top_eigenvalue(n_images=8, max_iter=200)
    assert [r["method"] for r in rows] == ["power", "lanczos"]
    assert abs(rows[0]["lambda_max"] - rows[1]["lambda_max"]) < 2e-3 * rows[1]["lambda_max"]
    assert rows[1]["hvps_stop"] < rows[0]["hvps_stop"]
    assert "LeNet-5 top Hessian eigenvalue, 8 synthetic digits" in capsys.readouterr().out
