"""FactorizedLinear: forward, gradients and every second-order rule against independent
references (float64), counts, dtype and errors."""
import numpy as np
import pytest

from minicompress import metrics, nn
from minicompress.factorize import FactorizedLinear, identity_atoms, random_indices
from minicompress.models import mlp
from minicompress.nn import curvature as cv
from minicompress.nn.gradcheck import (analytic_gradients, assert_close, check_gradients,
                                       numerical_hessian, numerical_hvp)

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


# ----- the layer in the middle of a network: R{x} ≠ None, need_input=True ----------------------
def middle(setting, rng, activation=nn.Tanh):
    """Linear - f - FactorizedLinear - f - Linear: below it a layer whose curvature needs the
    factorized layer's input-side results (h_in, s_in, g_in, R{g_in}); above it R{x} ≠ None."""
    layer = layer_from(setting, rng)
    return nn.Sequential(nn.Linear(4, layer.in_features, rng=rng, **F64), activation(), layer,
                         activation(), nn.Linear(layer.out_features, 3, rng=rng, **F64))


def close(pairs, rtol, atol):
    """assert_close, after checking that nothing compared is NaN or infinite."""
    for name, ours, reference in pairs:
        assert np.isfinite(ours).all() and np.isfinite(reference).all(), f"{name}: not finite"
    assert_close(pairs, rtol, atol)


@pytest.mark.parametrize("loss", [nn.SoftmaxCrossEntropy(), nn.MSELoss("sum")], ids=["ce", "mse-sum"])
@pytest.mark.parametrize("setting", LAYERS, ids=IDS)
def test_in_the_middle_gradients_and_hvp_match_central_differences(setting, loss, rng):
    """forward_r with R{x} from the layer below, backward_r returning g_in and R{g_in} to it."""
    model = middle(setting, rng)
    x, y = rng.standard_normal((5, 4)), targets(loss, rng, 5)
    assert check_gradients(model, loss, x, y) <= 1
    v = [rng.standard_normal(p.shape) for p in model.parameters()]
    hv, reference = cv.hvp(model, loss, x, y, v), numerical_hvp(model, loss, x, y, v)
    close([(p.name, a, b) for p, a, b in zip(model.parameters(), hv, reference)], 1e-5, 1e-8)
    below = [i for i, p in enumerate(model.parameters()) if p.name.startswith("0.")]
    only_below = [vp if i in below else np.zeros_like(vp) for i, vp in enumerate(v)]
    hv = cv.hvp(model, loss, x, y, only_below)  # R{θ} zero in the layer: only R{x} reaches it
    close([(p.name, a, b) for p, a, b in zip(model.parameters(), hv,
                                             numerical_hvp(model, loss, x, y, only_below))], 1e-5, 1e-8)


@pytest.mark.parametrize("setting", [LAYERS[1], LAYERS[3]], ids=[IDS[1], IDS[3]])
def test_in_the_middle_the_dense_hessian_matches_finite_differences(setting, rng):
    model, loss = middle(setting, rng), nn.SoftmaxCrossEntropy()
    x, y = rng.standard_normal((4, 4)), rng.integers(0, 3, 4)
    H = cv.hessian(model, loss, x, y)
    np.testing.assert_allclose(H, H.T, atol=1e-10)
    close([("H", H, numerical_hessian(model, loss, x, y))], rtol=1e-5, atol=1e-8)


@pytest.mark.parametrize("loss", [nn.SoftmaxCrossEntropy(), nn.MSELoss()], ids=["ce", "mse"])
@pytest.mark.parametrize("setting", LAYERS, ids=IDS)
def test_in_the_middle_diag_ggn_matches_jt_h_j_from_dense_jacobians(setting, loss, rng):
    """backward_ggn's s_in = s W feeds the first Linear's GGN diagonal."""
    model = middle(setting, rng)
    x, y = rng.standard_normal((4, 4)), targets(loss, rng, 4)
    ggn = cv.diag_ggn(model, loss, x, y)
    z = model(x)
    J = np.concatenate([jacobian(lambda: model(x), p.data) for p in model.parameters()], axis=1)
    J = J.reshape(len(x), z.shape[1], -1)  # (n, C, P)
    reference = np.einsum("ncp,ncd,ndp->p", J, output_hessian(loss, z), J)
    close([("diag GGN", flat(ggn), reference)], rtol=1e-6, atol=1e-10)


@pytest.mark.parametrize("gauss_newton", [True, False])
@pytest.mark.parametrize("setting", LAYERS, ids=IDS)
def test_in_the_middle_lecun_equals_slow_loop_recursion(setting, gauss_newton, rng):
    """backward_diag's g_in = g W and h_in = h (W ⊙ W) feed the first Linear's h_kk."""
    model, loss = middle(setting, rng), nn.SoftmaxCrossEntropy()
    x, y = rng.standard_normal((4, 4)), rng.integers(0, 3, 4)
    ours = cv.diag_lecun(model, loss, x, y, gauss_newton=gauss_newton)
    reference = lecun_loop(model, loss, x, y, gauss_newton)
    close([(p.name, a, b) for p, a, b in zip(model.parameters(), ours, reference)], 1e-5, 1e-9)


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
    model = mlp((784, 500, 500, 10), first_layer=fixed, rng=0)
    assert metrics.count_params(model) == fixed.n_learned() + 500 * 501 + 501 * 10
    with pytest.raises(ValueError, match="first_layer must map 784 -> 300 features"):
        mlp((784, 300, 10), first_layer=fixed)


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
    basis = identity_atoms([random_indices(784, 78, g) for g in range(2)], 784)
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
