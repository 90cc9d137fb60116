"""Second derivatives, each against an independent reference, in float64."""
import numpy as np
import pytest

from minicompress import nn
from minicompress.nn import curvature as cv
from minicompress.nn.gradcheck import analytic_gradients, assert_close, numerical_hessian, numerical_hvp

from .curvature_reference import jacobian, lecun_loop, output_hessian
from .settings import ACTIVATIONS, small_cnn, small_mlp

LOSSES = [nn.SoftmaxCrossEntropy("mean"), nn.SoftmaxCrossEntropy("sum"), nn.MSELoss("mean"),
          nn.MSELoss("sum")]
LOSS_IDS = ["ce-mean", "ce-sum", "mse-mean", "mse-sum"]


def problem(rng, kind, activation, loss, pool=nn.MaxPool2d):
    """A small float64 network with data and targets suited to ``loss``."""
    if kind == "mlp":
        model, x = small_mlp(rng, activation), rng.standard_normal((5, 6))
    else:
        model, x = small_cnn(rng, activation, pool), rng.standard_normal((3, 1, 8, 8))
    n = len(x)
    y = rng.integers(0, 3, n) if isinstance(loss, nn.SoftmaxCrossEntropy) else rng.standard_normal((n, 3))
    return model, x, y


def flat(arrays):
    return np.concatenate([a.ravel() for a in arrays])


def gradient(model, loss, x, y):
    return flat(analytic_gradients(model, loss, x, y)[1])


# ----- hvp and the dense Hessian -------------------------------------------------------------
@pytest.mark.parametrize("loss", LOSSES, ids=LOSS_IDS)
@pytest.mark.parametrize("activation", ACTIVATIONS, ids=lambda a: a.__name__)
@pytest.mark.parametrize("kind", ["mlp", "cnn"])
def test_hvp_matches_central_differences_of_the_gradient(kind, activation, loss, rng):
    model, x, y = problem(rng, kind, activation, loss, pool=nn.MaxPool2d if kind == "cnn" else None)
    params = model.parameters()
    v = [rng.standard_normal(p.shape) for p in params]
    hv = flat(cv.hvp(model, loss, x, y, v))
    assert_close([("Hv", hv, flat(numerical_hvp(model, loss, x, y, v)))], rtol=1e-5, atol=1e-8)


@pytest.mark.parametrize("pool", [nn.MaxPool2d, nn.AvgPool2d], ids=["max", "avg"])
def test_hessian_is_symmetric_and_matches_finite_differences(pool, rng):
    model, x, y = problem(rng, "cnn", nn.Tanh, nn.SoftmaxCrossEntropy(), pool)
    loss = nn.SoftmaxCrossEntropy()
    H = cv.hessian(model, loss, x, y)
    P = sum(p.data.size for p in model.parameters())
    assert H.shape == (P, P)
    np.testing.assert_allclose(H, H.T, atol=1e-12)
    assert_close([("H", H, numerical_hessian(model, loss, x, y))], rtol=1e-5, atol=1e-8)


@pytest.mark.parametrize("loss", LOSSES[::3], ids=LOSS_IDS[::3])
def test_diag_hessian_matches_second_differences_of_the_loss(loss, rng):
    """(E(θ + εe_k) − 2E(θ) + E(θ − εe_k)) / ε²: needs neither gradients nor hvp."""
    model, x, y = problem(rng, "cnn", nn.Sigmoid, loss, nn.AvgPool2d)
    diag = cv.diag_hessian(model, loss, x, y)
    E = lambda: loss(model(x), y)  # noqa: E731
    eps, pairs = 1e-4, []
    for p, d in zip(model.parameters(), diag):
        ref = np.zeros_like(d)
        for k in range(d.size):
            saved, base = p.data.flat[k], E()
            p.data.flat[k] = saved + eps
            up = E()
            p.data.flat[k] = saved - eps
            down = E()
            p.data.flat[k] = saved
            ref.flat[k] = (up - 2 * base + down) / eps ** 2
        pairs.append((p.name, d, ref))
    assert_close(pairs, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(flat(diag), np.diag(cv.hessian(model, loss, x, y)), atol=1e-13)


# ----- the generalized Gauss-Newton diagonal ------------------------------------------------
@pytest.mark.parametrize("loss", LOSSES, ids=LOSS_IDS)
@pytest.mark.parametrize("kind, activation", [("mlp", nn.Tanh), ("mlp", nn.ScaledTanh),
                                              ("cnn", nn.Sigmoid), ("cnn", nn.ReLU)])
def test_diag_ggn_matches_jt_h_j_from_dense_jacobians(kind, activation, loss, rng):
    model, x, y = problem(rng, kind, activation, loss, nn.AvgPool2d)
    ggn = flat(cv.diag_ggn(model, loss, x, y))
    z = model(x)
    H = output_hessian(loss, z)
    params = model.parameters()
    J = np.concatenate([jacobian(lambda: model(x), p.data) for p in params], axis=1)  # (n·C, P)
    J = J.reshape(len(x), z.shape[1], -1)
    reference = np.einsum("ncp,ncd,ndp->p", J, H, J)
    assert_close([("diag GGN", ggn, reference)], rtol=1e-6, atol=1e-10)


@pytest.mark.parametrize("images_per_chunk", [1, 2])
def test_conv_ggn_in_several_chunks_equals_jt_h_j(images_per_chunk, rng, monkeypatch):
    """Conv2d forms per-example gradients in chunks of images (to bound memory); force chunks
    of one and of two images (5 images: 5 chunks, or 3 with a short last one) so that every
    chunk must add to the others."""
    from minicompress.nn import conv
    model = nn.Sequential(nn.Conv2d(2, 3, 3, stride=2, padding=1, rng=rng, dtype=np.float64),
                          nn.Tanh(), nn.Flatten(), nn.Linear(3 * 3 * 3, 4, rng=rng, dtype=np.float64))
    x, y, loss = rng.standard_normal((5, 2, 5, 5)), rng.integers(0, 4, 5), nn.SoftmaxCrossEntropy()
    classes, kernel = 4, 2 * 3 * 3  # the columns m and the entries per filter k of the chunk rule
    monkeypatch.setattr(conv, "GGN_CHUNK_FLOATS", images_per_chunk * classes * 3 * kernel)
    ggn = cv.diag_ggn(model, loss, x, y)
    J = np.concatenate([jacobian(lambda: model(x), p.data) for p in model.parameters()], axis=1)
    J = J.reshape(len(x), classes, -1)
    reference = np.einsum("ncp,ncd,ndp->p", J, output_hessian(loss, model(x)), J)
    assert_close([("diag GGN", flat(ggn), reference)], rtol=1e-6, atol=1e-10)


@pytest.mark.parametrize("loss", LOSSES[::2], ids=LOSS_IDS[::2])
@pytest.mark.parametrize("pool", [nn.MaxPool2d, nn.AvgPool2d], ids=["max", "avg"])
def test_ggn_equals_exact_diagonal_for_relu_networks(pool, loss, rng):
    model, x, y = problem(rng, "cnn", nn.ReLU, loss, pool)
    assert_close(list(zip([p.name for p in model.parameters()], cv.diag_ggn(model, loss, x, y),
                          cv.diag_hessian(model, loss, x, y))), rtol=1e-8, atol=1e-12)


def test_ggn_differs_from_exact_diagonal_for_tanh(rng):
    """The test above could pass vacuously; here the f″ term must show."""
    model, x, y = problem(rng, "mlp", nn.Tanh, nn.SoftmaxCrossEntropy())
    loss = nn.SoftmaxCrossEntropy()
    gap = flat(cv.diag_ggn(model, loss, x, y)) - flat(cv.diag_hessian(model, loss, x, y))
    assert np.abs(gap).max() > 1e-3


# ----- LeCun's recursion ----------------------------------------------------------------------
def assert_lecun_exact(model, loss, x, y, gauss_newton, which=None):
    exact = cv.diag_hessian(model, loss, x, y)
    ours = cv.diag_lecun(model, loss, x, y, gauss_newton=gauss_newton)
    names = [p.name for p in model.parameters()]
    which = range(len(names)) if which is None else which
    assert_close([(names[i], ours[i], exact[i]) for i in which], rtol=1e-8, atol=1e-12)


@pytest.mark.parametrize("loss", LOSSES, ids=LOSS_IDS)
def test_lecun_exact_for_a_single_linear_layer(loss, rng):
    model = nn.Sequential(nn.Linear(5, 3, rng=rng, dtype=np.float64))
    x = rng.standard_normal((6, 5))
    y = rng.integers(0, 3, 6) if isinstance(loss, nn.SoftmaxCrossEntropy) else rng.standard_normal((6, 3))
    assert_lecun_exact(model, loss, x, y, gauss_newton=True)


def test_lecun_exact_for_a_single_conv_layer_with_mse(rng):
    """Shared weights: the dropped cross terms between a weight's connections vanish because
    the MSE Hessian is diagonal in the outputs."""
    model = nn.Sequential(nn.Conv2d(2, 3, 3, stride=2, padding=1, rng=rng, dtype=np.float64),
                          nn.Flatten())
    x = rng.standard_normal((2, 2, 5, 5))
    assert_lecun_exact(model, nn.MSELoss(), x, rng.standard_normal((2, 27)), gauss_newton=True)


@pytest.mark.parametrize("gauss_newton", [True, False])
@pytest.mark.parametrize("loss", LOSSES[::2], ids=LOSS_IDS[::2])
def test_lecun_exact_for_the_last_layer(loss, gauss_newton, rng):
    model, x, y = problem(rng, "cnn", nn.Tanh, loss, nn.MaxPool2d)
    assert_lecun_exact(model, loss, x, y, gauss_newton, which=[4, 5])


@pytest.mark.parametrize("loss", LOSSES[::2], ids=LOSS_IDS[::2])
@pytest.mark.parametrize("activation", [nn.Tanh, nn.Sigmoid, nn.ReLU], ids=lambda a: a.__name__)
def test_lecun_last_layer_under_an_output_nonlinearity(activation, loss, rng):
    """Linear - tanh - Linear - f - loss (OBD's tanh outputs for f = tanh). For the last Linear
    nothing is dropped except, with gauss_newton=True, the f″ term: the recursion is then the
    GGN diagonal, and the Hessian's only when f is piecewise linear."""
    model = nn.Sequential(nn.Linear(5, 4, rng=rng, dtype=np.float64), nn.Tanh(),
                          nn.Linear(4, 3, rng=rng, dtype=np.float64), activation())
    x = rng.standard_normal((6, 5))
    y = rng.integers(0, 3, 6) if isinstance(loss, nn.SoftmaxCrossEntropy) else rng.standard_normal((6, 3))
    assert_lecun_exact(model, loss, x, y, gauss_newton=False, which=[2, 3])
    ggn, obd = cv.diag_ggn(model, loss, x, y), cv.diag_lecun(model, loss, x, y, gauss_newton=True)
    assert_close([(f"last {i}", obd[i], ggn[i]) for i in (2, 3)], rtol=1e-8, atol=1e-12)
    exact = cv.diag_hessian(model, loss, x, y)[2]
    gap = np.abs(obd[2] - exact).max() / np.abs(exact).max()
    if activation.piecewise_linear:
        assert gap < 1e-8
    else:  # the counter-case: OBD's h_kk of the last layer is not the Hessian's here
        assert gap > 0.1, gap


def test_lecun_last_conv_layer_exact_only_with_a_diagonal_loss_hessian(rng):
    """A shared weight reaches many outputs: its cross terms vanish under MSE (diagonal loss
    Hessian) but not under softmax cross-entropy."""
    model = nn.Sequential(nn.Conv2d(2, 3, 3, rng=rng, dtype=np.float64), nn.Tanh(),
                          nn.Conv2d(3, 2, 2, rng=rng, dtype=np.float64), nn.Tanh(), nn.Flatten())
    x = rng.standard_normal((2, 2, 6, 6))
    assert_lecun_exact(model, nn.MSELoss(), x, rng.standard_normal((2, 18)), gauss_newton=False,
                       which=[2, 3])
    loss, y = nn.SoftmaxCrossEntropy(), rng.integers(0, 18, 2)
    gap = cv.diag_lecun(model, loss, x, y, False)[2] - cv.diag_hessian(model, loss, x, y)[2]
    assert np.abs(gap).max() > 1e-3


@pytest.mark.parametrize("activation", ACTIVATIONS, ids=lambda a: a.__name__)
def test_lecun_one_layer_back_with_mse_is_the_ggn_under_gauss_newton(activation, rng):
    model = small_mlp(rng, activation, sizes=(4, 5, 3))
    x, y, loss = rng.standard_normal((6, 4)), rng.standard_normal((6, 3)), nn.MSELoss()
    assert_close([(p.name, a, b) for p, a, b in zip(model.parameters(), cv.diag_lecun(model, loss, x, y),
                                                    cv.diag_ggn(model, loss, x, y))], 1e-8, 1e-12)


@pytest.mark.parametrize("activation", ACTIVATIONS, ids=lambda a: a.__name__)
def test_lecun_exact_one_layer_back_with_mse_and_linear_outputs(activation, rng):
    """Linear - f - Linear - MSE: the loss Hessian is diagonal and each hidden unit feeds the
    outputs only through its own weights, so the full recursion (with f″) is exact."""
    model = small_mlp(rng, activation, sizes=(4, 5, 3))
    x, y = rng.standard_normal((6, 4)), rng.standard_normal((6, 3))
    assert_lecun_exact(model, nn.MSELoss(), x, y, gauss_newton=False)


@pytest.mark.parametrize("gauss_newton", [True, False])
@pytest.mark.parametrize("kind, activation, pool, loss", [
    ("mlp", nn.Tanh, None, nn.SoftmaxCrossEntropy()),
    ("mlp", nn.Sigmoid, None, nn.MSELoss("sum")),
    ("cnn", nn.ScaledTanh, nn.MaxPool2d, nn.SoftmaxCrossEntropy("sum")),
    ("cnn", nn.ReLU, nn.AvgPool2d, nn.MSELoss()),
], ids=["tanh-mlp-ce", "sigmoid-mlp-mse", "scaledtanh-cnn-max", "relu-cnn-avg"])
def test_lecun_equals_slow_loop_recursion_everywhere(kind, activation, pool, loss, gauss_newton, rng):
    model, x, y = problem(rng, kind, activation, loss, pool)
    ours = cv.diag_lecun(model, loss, x, y, gauss_newton=gauss_newton)
    reference = lecun_loop(model, loss, x, y, gauss_newton)
    assert_close([(p.name, a, b) for p, a, b in zip(model.parameters(), ours, reference)],
                 rtol=1e-5, atol=1e-9)
    assert all(p.hdiag is not None and np.array_equal(p.hdiag, a)
               for p, a in zip(model.parameters(), ours))
    if gauss_newton:
        assert all((a >= 0).all() for a in ours)


def test_lecun_is_an_approximation_below_the_last_layer(rng):
    """Below the last layer of a cross-entropy network the recursion must differ from the
    exact diagonal (otherwise the exactness tests prove nothing)."""
    model, x, y = problem(rng, "mlp", nn.Tanh, nn.SoftmaxCrossEntropy())
    loss = nn.SoftmaxCrossEntropy()
    gap = cv.diag_lecun(model, loss, x, y, False)[0] - cv.diag_hessian(model, loss, x, y)[0]
    assert np.abs(gap).max() > 1e-4


# ----- Hutchinson, Fisher, masks, errors --------------------------------------------------------
def test_hutchinson_converges_within_its_statistical_bound(rng):
    """Var[v_k (Hv)_k] = Σ_{j≠k} H_kj² for Rademacher v: every entry must lie within 5 standard
    errors, and the error must shrink as n grows."""
    model, x, y = problem(rng, "mlp", nn.Tanh, nn.SoftmaxCrossEntropy())
    loss = nn.SoftmaxCrossEntropy()
    H = cv.hessian(model, loss, x, y)
    sigma = np.sqrt((H ** 2).sum(axis=1) - np.diag(H) ** 2)
    errors = []
    for n in (50, 2000):
        estimate = flat(cv.diag_hutchinson(model, loss, x, y, n, rng=np.random.default_rng(5)))
        error = np.abs(estimate - np.diag(H))
        assert (error <= 5 * sigma / np.sqrt(n) + 1e-12).all()
        errors.append(np.mean(error))
    assert errors[1] < errors[0] / 3


def rademacher_covariance(H: np.ndarray) -> np.ndarray:
    """Covariance of one probe's v ⊙ Hv for Rademacher v: Cov(k, l) = H_kl² for k ≠ l and
    Var(k) = Σ_{j≠k} H_kj² (E[v_i v_j v_k v_l] is 1 only when the indices pair up)."""
    C = H ** 2
    np.fill_diagonal(C, 0.0)
    np.fill_diagonal(C, C.sum(axis=1))
    return C


def test_hutchinson_has_no_bias_of_two_percent(rng):
    """A bias proportional to the diagonal, E[estimate] = (1 + b)·diag(H), is what a scale
    error produces. With d = diag(H) and C the exact covariance of one probe, the best linear
    statistic z = wᵀ(estimate − d) / sd, w = C⁻¹d, is N(0, 1) for an unbiased estimator and
    moves by b·√(n dᵀC⁻¹d) under the bias. A small net whose parameters are weakly coupled
    (one tanh layer, MSE) keeps C small: 4000 probes move z by more than 8 for b = 2%, so
    |z| < 4 at a fixed seed rejects a 2% bias while an unbiased estimator passes."""
    model = nn.Sequential(nn.Linear(4, 3, rng=rng, dtype=np.float64), nn.Tanh())
    x, y, loss = rng.standard_normal((50, 4)), 0.5 * rng.standard_normal((50, 3)), nn.MSELoss("sum")
    H = cv.hessian(model, loss, x, y)
    d, C, n = np.diag(H), rademacher_covariance(H), 4000
    w = np.linalg.solve(C, d)
    sd = np.sqrt(w @ C @ w / n)
    assert 0.02 * (w @ d) / sd > 8  # the design has the power claimed above
    estimate = flat(cv.diag_hutchinson(model, loss, x, y, n, rng=np.random.default_rng(5)))
    z = w @ (estimate - d) / sd
    assert abs(z) < 4, z


def test_hutchinson_is_exact_when_the_hessian_is_diagonal(rng):
    """v_k² = 1 for Rademacher v, so v ⊙ Hv = diag(H) exactly when H is diagonal, for any n:
    a linear layer with MSE and orthogonal, centred inputs (the columns after the first of Q
    in the QR decomposition of [1, X]: orthonormal and orthogonal to the ones vector)."""
    q = np.linalg.qr(np.column_stack([np.ones(8), rng.standard_normal((8, 3))]))[0][:, 1:]
    model = nn.Sequential(nn.Linear(3, 2, rng=rng, dtype=np.float64))
    x, y, loss = 2.0 * q, rng.standard_normal((8, 2)), nn.MSELoss("sum")
    exact = cv.diag_hessian(model, loss, x, y)
    H = cv.hessian(model, loss, x, y)
    assert np.abs(H - np.diag(np.diag(H))).max() < 1e-12  # the Hessian is diagonal indeed
    estimate = cv.diag_hutchinson(model, loss, x, y, 3, rng=0)
    assert_close([(p.name, e, d) for p, e, d in zip(model.parameters(), estimate, exact)],
                 rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("loss", LOSSES, ids=LOSS_IDS)
def test_fisher_diag_equals_per_example_loop(loss, rng):
    model, x, y = problem(rng, "cnn", nn.Sigmoid, loss, nn.MaxPool2d)
    fisher = cv.fisher_diag(model, loss, x, y)
    squares = [np.zeros_like(p.data) for p in model.parameters()]
    for n in range(len(x)):
        _, grads, _ = analytic_gradients(model, loss, x[n:n + 1], y[n:n + 1])
        for s, g in zip(squares, grads):
            s += g * g / len(x)
    assert_close([(p.name, a, b) for p, a, b in zip(model.parameters(), fisher, squares)],
                 rtol=1e-10, atol=1e-14)


def test_masked_parameters_report_zero_curvature(rng):
    model, x, y = problem(rng, "cnn", nn.Tanh, nn.SoftmaxCrossEntropy(), nn.MaxPool2d)
    loss = nn.SoftmaxCrossEntropy()
    for p in model.parameters():
        p.mask = rng.random(p.shape) > 0.3
    v = [rng.standard_normal(p.shape) for p in model.parameters()]
    results = [cv.diag_lecun(model, loss, x, y), cv.diag_lecun(model, loss, x, y, False),
               cv.diag_ggn(model, loss, x, y), cv.hvp(model, loss, x, y, v),
               cv.diag_hessian(model, loss, x, y), cv.fisher_diag(model, loss, x, y),
               cv.diag_hutchinson(model, loss, x, y, 3, rng=0)]
    for result in results:
        for p, r in zip(model.parameters(), result):
            assert not r[p.mask == 0].any()
            assert r[p.mask == 1].any()
    # the masked network's Hessian is M H M: hvp must equal finite differences of its gradient
    assert_close([("masked Hv", flat(results[3]), flat(numerical_hvp(model, loss, x, y, v)))],
                 1e-5, 1e-8)


def test_float32_results_and_bad_arguments(rng):
    model = small_cnn(rng, dtype=np.float32)
    x, y = rng.standard_normal((2, 1, 8, 8)).astype(np.float32), np.array([0, 2])
    loss = nn.SoftmaxCrossEntropy()
    for fn in (cv.diag_lecun, cv.diag_ggn, cv.fisher_diag):
        assert all(r.dtype == np.float32 for r in fn(model, loss, x, y))
    v = [np.ones(p.shape, np.float32) for p in model.parameters()]
    assert all(r.dtype == np.float32 for r in cv.hvp(model, loss, x, y, v))
    with pytest.raises(ValueError, match="one array per parameter"):
        cv.hvp(model, loss, x, y, v[:-1])
    with pytest.raises(ValueError, match=r"direction for '6.weight' has shape \(2,\)"):
        cv.hvp(model, loss, x, y, v[:4] + [np.ones(2)] + v[5:])
    with pytest.raises(ValueError, match="positive int"):
        cv.diag_hutchinson(model, loss, x, y, 0)
    bad = [vp.copy() for vp in v]
    bad[2][1, 0, 1, 1] = np.nan
    with pytest.raises(ValueError, match=r"hvp: the direction for '3.weight' contains 1 NaN/inf "
                                         r"value\(s\), first at flat index 15 \(nan\)"):
        cv.hvp(model, loss, x, y, bad)
    bad[2][1, 0, 1, 1] = np.inf
    with pytest.raises(ValueError, match=r"'3.weight' contains 1 NaN/inf"):
        cv.hvp(model, loss, x, y, bad)
    with pytest.raises(TypeError, match=r"hvp: v must be a list of arrays, one per parameter \(6\), got NoneType"):
        cv.hvp(model, loss, x, y, None)
    with pytest.raises(TypeError, match="gauss_newton must be True or False, got 'yes'"):
        cv.diag_lecun(model, loss, x, y, gauss_newton="yes")
    with pytest.raises(TypeError, match=r"direction for '0.weight' must be a real array, got dtype complex"):
        cv.hvp(model, loss, x, y, [v[0] + 1j] + v[1:])


def test_custom_layer_without_rules_fails_loudly(rng):
    class Custom(nn.Module):
        def forward(self, x):
            return 2 * x

    model = nn.Sequential(nn.Linear(3, 2, rng=0, dtype=np.float64), Custom())
    with pytest.raises(NotImplementedError, match="Custom.*backward_diag"):
        cv.diag_lecun(model, nn.MSELoss(), rng.standard_normal((2, 3)), rng.standard_normal((2, 2)))
