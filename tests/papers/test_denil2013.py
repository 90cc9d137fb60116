"""Denil et al. 2013: the factorized layer's derivatives (every order against an independent
reference, float64), the dictionaries, the truncated SVD, and the quick reproduction's claims."""
import numpy as np
import pytest

from minicompress import metrics, nn
from minicompress.nn import curvature as cv
from minicompress.nn.gradcheck import analytic_gradients, assert_close, check_gradients, numerical_hessian, numerical_hvp
from minicompress.reproductions import denil2013_predicting_parameters as denil
from minicompress.factorize import FactorizedLinear

from ..nn.curvature_reference import jacobian, lecun_loop, output_hessian

F64 = dict(dtype=np.float64)
# id, basis shape (groups, i, k), out_features, learn_basis, bias: uneven groups on purpose
LAYERS = [
    ("fixed-1group", (1, 5, 2), 3, False, True),
    ("fixed-3groups-uneven", (3, 5, 2), 7, False, True),
    ("learned-1group", (1, 5, 3), 4, True, True),
    ("learned-2groups-nobias", (2, 5, 2), 5, True, False),
]
IDS = [s[0] for s in LAYERS]


def layer_from(setting, rng):
    _, shape, out, learn, bias = setting
    return FactorizedLinear(rng.standard_normal(shape), out, bias=bias, learn_basis=learn, rng=rng,
                            **F64)


def network(setting, rng, activation=nn.Tanh):
    """FactorizedLinear - f - Linear: the factorized layer below a second layer, as in the paper."""
    first = layer_from(setting, rng)
    return nn.Sequential(first, activation(), nn.Linear(first.out_features, 3, rng=rng, **F64))


def flat(arrays):
    return np.concatenate([a.ravel() for a in arrays])


def gradient(model, loss, x, y):
    return flat(analytic_gradients(model, loss, x, y)[1])


# ----- the layer: forward, gradients -----------------------------------------------------------
@pytest.mark.parametrize("setting", LAYERS, ids=IDS)
def test_forward_is_a_linear_layer_with_the_effective_weight(setting, rng):
    layer = layer_from(setting, rng)
    U, V = layer.basis_value(), layer.coefficients.data
    W = layer.effective_weight()
    for g, rows in enumerate(layer.groups):  # W = V Uᵀ, group by group
        np.testing.assert_allclose(W[rows], V[rows] @ U[g].T)
    x = rng.standard_normal((4, 5))
    b = 0 if layer.bias is None else layer.bias.data
    np.testing.assert_allclose(layer(x), x @ W.T + b, atol=1e-12)
    sizes = [r.stop - r.start for r in layer.groups]  # contiguous, sizes differ by at most one
    assert len(sizes) == setting[1][0] and sum(sizes) == setting[2] and max(sizes) - min(sizes) <= 1
    assert all(a.stop == b.start for a, b in zip(layer.groups, layer.groups[1:]))


def targets(loss, rng, n, c=3):
    if isinstance(loss, nn.SoftmaxCrossEntropy):
        return rng.integers(0, c, n)
    return rng.standard_normal((n, c))


@pytest.mark.parametrize("loss", [nn.SoftmaxCrossEntropy(), nn.MSELoss("sum")], ids=["ce", "mse-sum"])
@pytest.mark.parametrize("setting", LAYERS, ids=IDS)
def test_gradients_match_finite_differences(setting, loss, rng):
    model = network(setting, rng)
    x, y = rng.standard_normal((4, 5)), targets(loss, rng, 4)
    assert check_gradients(model, loss, x, y) <= 1


def test_masked_coefficients_get_no_gradient_and_no_update(rng):
    model = network(LAYERS[2], rng)
    layer = model[0]
    layer.coefficients.mask = rng.random(layer.coefficients.shape) > 0.4
    x, y = rng.standard_normal((6, 5)), rng.integers(0, 3, 6)
    before = layer.coefficients.data.copy()
    assert check_gradients(model, nn.SoftmaxCrossEntropy(), x, y) <= 1
    assert not layer.coefficients.grad[layer.coefficients.mask == 0].any()
    nn.SGD(model.parameters(), lr=0.1).step()
    frozen = layer.coefficients.mask == 0
    np.testing.assert_array_equal(layer.coefficients.data[frozen], before[frozen])


# ----- the layer: second-order rules ------------------------------------------------------------
@pytest.mark.parametrize("setting", LAYERS, ids=IDS)
def test_hvp_matches_central_differences_of_the_gradient(setting, rng):
    model, loss = network(setting, rng), nn.SoftmaxCrossEntropy()
    x, y = rng.standard_normal((4, 5)), rng.integers(0, 3, 4)
    params = model.parameters()
    v = [rng.standard_normal(p.shape) for p in params]
    hv = flat(cv.hvp(model, loss, x, y, v))
    assert_close([("Hv", hv, flat(numerical_hvp(model, loss, x, y, v)))], rtol=1e-5, atol=1e-8)


def test_hessian_of_a_learned_basis_layer_is_symmetric_and_matches_finite_differences(rng):
    model, loss = network(LAYERS[3], rng, nn.Sigmoid), nn.MSELoss()
    x, y = rng.standard_normal((3, 5)), rng.standard_normal((3, 3))
    H = cv.hessian(model, loss, x, y)
    np.testing.assert_allclose(H, H.T, atol=1e-12)
    assert_close([("H", H, numerical_hessian(model, loss, x, y))], rtol=1e-5, atol=1e-8)


@pytest.mark.parametrize("loss", [nn.SoftmaxCrossEntropy(), nn.MSELoss()], ids=["ce", "mse"])
@pytest.mark.parametrize("setting", LAYERS, ids=IDS)
def test_diag_ggn_matches_jt_h_j_from_dense_jacobians(setting, loss, rng):
    model = network(setting, rng)
    x, y = rng.standard_normal((4, 5)), targets(loss, rng, 4)
    ggn = flat(cv.diag_ggn(model, loss, x, y))
    z = model(x)
    J = np.concatenate([jacobian(lambda: model(x), p.data) for p in model.parameters()], axis=1)
    J = J.reshape(len(x), z.shape[1], -1)  # (n, C, P)
    reference = np.einsum("ncp,ncd,ndp->p", J, output_hessian(loss, z), J)
    assert_close([("diag GGN", ggn, reference)], rtol=1e-6, atol=1e-10)


@pytest.mark.parametrize("setting", LAYERS[2:], ids=IDS[2:])
def test_ggn_equals_exact_diagonal_for_relu_networks_even_with_a_learned_basis(setting, rng):
    """y is bilinear in (U, V) but linear in each single entry: the diagonal of Σ ∂E/∂z ∂²z/∂θ²
    vanishes, so the exact diagonal is the GGN's (the off-diagonal U-V terms are not)."""
    model, loss = network(setting, rng, nn.ReLU), nn.SoftmaxCrossEntropy()
    x, y = rng.standard_normal((5, 5)), rng.integers(0, 3, 5)
    assert_close(list(zip([p.name for p in model.parameters()], cv.diag_ggn(model, loss, x, y),
                          cv.diag_hessian(model, loss, x, y))), rtol=1e-8, atol=1e-12)


@pytest.mark.parametrize("setting", LAYERS, ids=IDS)
def test_lecun_is_exact_for_a_single_factorized_layer_with_mse(setting, rng):
    """One layer and a diagonal loss Hessian: V[o, k] reaches only output o, and U's dropped cross
    terms between outputs are zero, so the recursion is the exact diagonal."""
    model, loss = nn.Sequential(layer_from(setting, rng)), nn.MSELoss()
    x, y = rng.standard_normal((6, 5)), rng.standard_normal((6, setting[2]))
    names = [p.name for p in model.parameters()]
    lecun, exact = cv.diag_lecun(model, loss, x, y), cv.diag_hessian(model, loss, x, y)
    assert_close(list(zip(names, lecun, exact)), rtol=1e-8, atol=1e-12)


def test_lecun_for_one_layer_with_cross_entropy_exact_for_v_approximate_for_u(rng):
    model, loss = nn.Sequential(layer_from(LAYERS[2], rng)), nn.SoftmaxCrossEntropy()
    x, y = rng.standard_normal((6, 5)), rng.integers(0, 4, 6)
    basis, coefficients, bias = cv.diag_lecun(model, loss, x, y)
    exact = cv.diag_hessian(model, loss, x, y)
    assert_close([("coefficients", coefficients, exact[1]), ("bias", bias, exact[2])], 1e-8, 1e-12)
    assert np.abs(basis - exact[0]).max() > 1e-3  # softmax couples the outputs U feeds


@pytest.mark.parametrize("gauss_newton", [True, False])
@pytest.mark.parametrize("setting", LAYERS, ids=IDS)
def test_lecun_equals_slow_loop_recursion_below_a_second_layer(setting, gauss_newton, rng):
    model, loss = network(setting, rng), nn.SoftmaxCrossEntropy()
    x, y = rng.standard_normal((4, 5)), rng.integers(0, 3, 4)
    ours = cv.diag_lecun(model, loss, x, y, gauss_newton=gauss_newton)
    reference = lecun_loop(model, loss, x, y, gauss_newton)
    assert_close([(p.name, a, b) for p, a, b in zip(model.parameters(), ours, reference)], 1e-5, 1e-9)


def test_fisher_diag_equals_per_example_loop(rng):
    model, loss = network(LAYERS[2], rng), nn.SoftmaxCrossEntropy()
    x, y = rng.standard_normal((4, 5)), rng.integers(0, 3, 4)
    fisher = cv.fisher_diag(model, loss, x, y)
    squares = [np.zeros_like(p.data) for p in model.parameters()]
    for n in range(len(x)):
        for s, g in zip(squares, analytic_gradients(model, loss, x[n:n + 1], y[n:n + 1])[1]):
            s += g * g / len(x)
    assert_close([(p.name, a, b) for p, a, b in zip(model.parameters(), fisher, squares)],
                 rtol=1e-10, atol=1e-14)


def test_masked_entries_report_zero_curvature_and_hvp_matches_the_masked_gradient(rng):
    model, loss = network(LAYERS[3], rng), nn.SoftmaxCrossEntropy()
    layer = model[0]
    layer.coefficients.mask = rng.random(layer.coefficients.shape) > 0.3
    layer.basis.mask = rng.random(layer.basis.shape) > 0.3
    x, y = rng.standard_normal((5, 5)), rng.integers(0, 3, 5)
    v = [rng.standard_normal(p.shape) for p in model.parameters()]
    hv = cv.hvp(model, loss, x, y, v)
    for result in (cv.diag_lecun(model, loss, x, y), cv.diag_ggn(model, loss, x, y), hv):
        for p, r in zip(layer.parameters()[:2], result[:2]):  # basis, coefficients
            assert not r[p.mask == 0].any() and r[p.mask == 1].any()
    assert_close([("masked Hv", flat(hv), flat(numerical_hvp(model, loss, x, y, v)))],
                 rtol=1e-5, atol=1e-8)


# ----- the layer: counts, dtype, errors -------------------------------------------------------------
def test_parameter_counts_count_only_what_is_learned(rng):
    fixed = FactorizedLinear(rng.standard_normal((10, 784, 39)), 500, rng=0)
    assert fixed.n_learned() == 500 * 39 + 500 == metrics.count_params(fixed)
    assert fixed.n_dense() == 784 * 500 + 500
    assert fixed.learned_fraction() == pytest.approx(39 / 784)
    assert set(fixed.state_dict()) == {"coefficients", "bias"}  # U is rebuilt from its recipe
    learned = FactorizedLinear(rng.standard_normal((784, 76)), 500, learn_basis=True, rng=0)
    assert learned.n_learned() == 76 * (784 + 500) + 500 == metrics.count_params(learned)
    assert learned.learned_fraction() == pytest.approx(76 * 1284 / (784 * 500))
    model = denil.mlp(fixed, rng=0)
    assert metrics.count_params(model) == fixed.n_learned() + 500 * 501 + 501 * 10
    assert metrics.count_params(model) == denil.mlp_count(500) - 784 * 500 + 500 * 39


def test_dtype_follows_the_model_and_the_same_seed_gives_the_same_bits(rng):
    basis = rng.standard_normal((2, 6, 3))
    layer = FactorizedLinear(basis, 4, rng=7)
    assert layer.basis_value().dtype == np.float32
    assert layer(np.ones((2, 6), np.float32)).dtype == np.float32
    again = FactorizedLinear(basis, 4, rng=7)
    np.testing.assert_array_equal(layer.coefficients.data, again.coefficients.data)
    model = nn.Sequential(layer).astype(np.float64)
    assert model(np.ones((2, 6))).dtype == np.float64 and layer.basis_value().dtype == np.float64


def test_initial_rows_have_the_expected_norm_of_a_dense_layer(rng):
    """V ~ U(±1/‖U_g‖_F) gives E‖row of W‖² = 1/3, as PyTorch's Linear init, for any dictionary."""
    basis, _ = denil.column_basis("identity_subset", 784, 78, 2, rng=0)
    W = FactorizedLinear(basis, 2000, rng=1, **F64).effective_weight()
    dense = nn.Linear(784, 2000, rng=1, **F64).weight.data
    assert (W ** 2).sum(1).mean() == pytest.approx(1 / 3, rel=0.03)
    assert (dense ** 2).sum(1).mean() == pytest.approx(1 / 3, rel=0.03)


def test_bad_input_gives_clear_errors(rng):
    with pytest.raises(ValueError, match=r"basis must be .* \(i, k\) or \(groups, i, k\), "
                                         r"got .* shape \(5,\)"):
        FactorizedLinear(np.ones(5), 3)
    with pytest.raises(ValueError, match="4 column groups need at least as many output features, "
                                         "got out_features=3"):
        FactorizedLinear(np.ones((4, 5, 2)), 3)
    with pytest.raises(ValueError, match="out_features must be a positive int"):
        FactorizedLinear(np.ones((5, 2)), 0)
    layer = FactorizedLinear(np.ones((5, 2)), 3)
    with pytest.raises(ValueError, match=r"FactorizedLinear\(5 -> 3.*expected input of shape "
                                         r"\(n, 5\), got \(2, 4\)"):
        layer(np.ones((2, 4), np.float32))
    with pytest.raises(RuntimeError, match="backward called before forward"):
        layer.backward(np.ones((2, 3), np.float32))


# ----- dictionaries, kernel ridge regression, truncated SVD ----------------------------------------
def test_se_kernel_values():
    p = denil.pixel_coordinates((3, 4))
    assert p.shape == (12, 2) and tuple(p[5]) == (1.0, 1.0)  # C order, as Flatten
    K = denil.se_kernel(p, p, length_scale=2.0)
    np.testing.assert_allclose(np.diag(K), 1)
    np.testing.assert_allclose(K, K.T)
    assert K[0, 1] == pytest.approx(np.exp(-1 / 8))  # one pixel apart, ℓ = 2: exp(−1/(2·4))
    assert K[0, 5] == pytest.approx(np.exp(-2 / 8))
    assert np.linalg.eigvalsh(K).min() > -1e-10  # positive semi-definite


def test_empirical_kernel_is_the_scaled_input_covariance(rng):
    x = rng.standard_normal((50, 1, 3, 3)) * np.arange(1, 10).reshape(1, 1, 3, 3)
    K = denil.empirical_kernel(x)
    C = np.cov(x.reshape(50, 9), rowvar=False)
    np.testing.assert_allclose(K, C / np.trace(C) * 9)
    assert np.diag(K).mean() == pytest.approx(1)


def test_kernel_ridge_predictor_interpolates_as_ridge_goes_to_zero(rng):
    grid = denil.pixel_coordinates((8, 8))
    K = denil.se_kernel(grid, grid, 1.5)
    alpha = np.sort(rng.choice(64, 16, replace=False))
    W = rng.standard_normal((3, 64))
    errors = []
    for ridge in (1e-1, 1e-3, 1e-5, 1e-8):
        U = denil.kernel_ridge_predictor(K, alpha, ridge)
        assert U.shape == (64, 16)
        errors.append(np.abs(denil.reconstruct(W, U, alpha)[:, alpha] - W[:, alpha]).max())
    assert all(a > b for a, b in zip(errors, errors[1:]))  # monotone in λ
    assert errors[-1] < 1e-5
    exact = denil.kernel_ridge_predictor(K, alpha, 0.0)
    np.testing.assert_allclose(exact[alpha], np.eye(16), atol=1e-8)
    # the predictor is a kernel-weighted regression: a feature in the span of K's columns at α
    # (w = K_{·α} c) is predicted exactly from its values at α when λ = 0
    w = (K[:, alpha] @ rng.standard_normal(16))[None]
    np.testing.assert_allclose(denil.reconstruct(w, denil.kernel_ridge_predictor(K, alpha, 0.0), alpha),
                               w, atol=1e-7)


def test_truncated_svd_residual_is_the_root_sum_of_the_discarded_squared_singular_values(rng):
    W = rng.standard_normal((30, 20))
    for rank in (1, 5, 19, 20):
        left, right, s = denil.truncated_svd(W, rank)
        assert left.shape == (30, rank) and right.shape == (20, rank)
        residual = np.linalg.norm(W - left @ right.T)
        assert residual == pytest.approx(np.sqrt((s[rank:] ** 2).sum()), abs=1e-10)
        assert np.linalg.matrix_rank(left @ right.T) == rank
    # Eckart–Young: no other rank-5 matrix does better, e.g. a truncation of a perturbed W
    left, right, _ = denil.truncated_svd(W + 0.1 * rng.standard_normal(W.shape), 5)
    assert np.linalg.norm(W - left @ right.T) > np.sqrt((s[5:] ** 2).sum())
    with pytest.raises(ValueError, match=r"rank must be in \[1, 20\], got 21"):
        denil.truncated_svd(W, 21)


def test_svd_layer_computes_the_truncated_weight(rng):
    linear = nn.Linear(12, 7, rng=rng, **F64)
    layer = denil.svd_layer(linear, 3)
    left, right, _ = denil.truncated_svd(linear.weight.data, 3)
    np.testing.assert_allclose(layer.effective_weight(), left @ right.T, atol=1e-12)
    assert layer.learns_basis and layer.n_learned() == 3 * (12 + 7) + 7
    full = denil.svd_layer(linear, 7)
    x = rng.standard_normal((4, 12))
    np.testing.assert_allclose(full(x), linear(x), atol=1e-12)


@pytest.mark.parametrize("kind", ["se_kernel", "empirical", "identity_subset", "random_gaussian"])
def test_column_basis_shapes_and_seeds(kind, rng):
    grid = denil.pixel_coordinates((6, 6))
    kernel = denil.se_kernel(grid, grid, 1.0) if kind != "empirical" else denil.empirical_kernel(
        rng.random((40, 36)))
    U, alpha = denil.column_basis(kind, 36, 5, 3, rng=4, kernel=kernel)
    assert U.shape == (3, 36, 5)
    again, _ = denil.column_basis(kind, 36, 5, 3, rng=4, kernel=kernel)
    np.testing.assert_array_equal(U, again)
    if kind == "random_gaussian":
        assert alpha is None
        return
    assert alpha.shape == (3, 5) and all(len(set(a)) == 5 for a in alpha)
    assert not all(np.array_equal(alpha[0], a) for a in alpha[1:])  # each group its own α
    if kind == "identity_subset":
        for g in range(3):
            np.testing.assert_array_equal(U[g][alpha[g]], np.eye(5))
            assert not np.delete(U[g], alpha[g], axis=0).any()


def test_fraction_and_dictionary_errors():
    for bad in (0, -0.1, 1.5):
        with pytest.raises(ValueError, match=rf"fraction: expected a number in \(0, 1\], got {bad}"):
            denil.atoms_for_fraction(bad, 784)
    assert denil.atoms_for_fraction(1, 784) == 784 and denil.atoms_for_fraction(1e-4, 784) == 1
    with pytest.raises(ValueError, match="unknown kind 'dct'; expected one of se_kernel, empirical, "
                                         "random_gaussian, identity_subset"):
        denil.column_basis("dct", 10, 2)
    with pytest.raises(ValueError, match=r"needs a kernel of shape \(10, 10\), got None"):
        denil.column_basis("se_kernel", 10, 2)
    with pytest.raises(ValueError, match=r"distinct int indices in \[0, 4\)"):
        denil.kernel_ridge_predictor(np.eye(4), np.array([1, 1]), 0.1)
    with pytest.raises(ValueError, match="fraction"):
        denil.factorized_layer("learned", 2.0, 10)


def test_reproduce_checks_its_config_before_training(tmp_path):
    with pytest.raises(ValueError, match="unknown kind 'dct'; expected one of se_kernel, empirical, "
                                         "random_gaussian, identity_subset, learned"):
        denil.reproduce(config=denil.Config(dictionaries=("se_kernel", "dct")), out_dir=tmp_path)
    with pytest.raises(ValueError, match=r"fraction: expected a number in \(0, 1\], got 0"):
        denil.reproduce(config=denil.Config(fractions=(0.1, 0)), out_dir=tmp_path)


def test_equal_count_width_is_the_widest_within_budget():
    budget = denil.mlp_count(500) - 784 * 500 + 500 * 78  # the factorized net at 10%
    h = denil.equal_count_width(budget)
    assert denil.mlp_count(h) <= budget < denil.mlp_count(h + 1)
    assert denil.low_rank_for_fraction(0.25, 500, 784) == 76  # as in the prototype (card 7)
    with pytest.raises(ValueError, match="below the smallest MLP"):
        denil.equal_count_width(100)


def test_reconstruction_of_smooth_features_is_accurate(rng):
    """Features drawn from the SE prior itself are predicted well from a quarter of their values,
    far better than keeping the values at α alone (the paper's premise, on data that meet it)."""
    grid = denil.pixel_coordinates((28, 28))
    K = denil.se_kernel(grid, grid, 3.0)
    W = (np.linalg.cholesky(K + 1e-6 * np.eye(784)) @ rng.standard_normal((784, 5))).T  # (5, 784)
    alpha = np.sort(rng.choice(784, 196, replace=False))
    U = denil.kernel_ridge_predictor(K, alpha, 1e-3)
    smooth = denil.relative_error(W, denil.reconstruct(W, U, alpha))
    kept = denil.relative_error(W, denil.reconstruct(W, np.eye(784)[:, alpha], alpha))
    assert smooth < 0.1 and kept > 0.8  # a tenth of the error of the values at α alone


# ----- the reproduction ----------------------------------------------------------------------------
def test_quick_reproduction(tmp_path):
    report = denil.reproduce(quick=True, seed=0, out_dir=tmp_path, verbose=False)
    assert len(report.figures) == 2 and all(f.read_bytes()[:4] == b"\x89PNG" for f in report.figures)
    rows = {(r["experiment"], r["method"], round(r["fraction"], 2)): r for r in report.rows}
    full = rows["full network", "dense 784-500-500-10", 1.0]["error"]
    se10, se25 = rows["trained", "se_kernel", 0.1]["error"], rows["trained", "se_kernel", 0.25]["error"]
    random10 = rows["trained", "random_gaussian", 0.1]["error"]
    assert full < 20  # percent; chance is 90
    assert se25 <= full + 0.5  # the target
    assert se10 < random10  # the target
    assert any(n.startswith("SE kernel with 25%") and "holds" in n for n in report.notes)
