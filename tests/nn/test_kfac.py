"""K-FAC / KFC factors against the dense Gauss–Newton matrix, ``hessian`` and explicit loops
over examples with finite-difference Jacobians, in float64."""
import numpy as np
import pytest

from minicompress import nn
from minicompress.nn import curvature as cv
from minicompress.nn.im2col import im2col_loop
from minicompress.nn.per_example import gauss_newton

from .curvature_reference import jacobian, output_hessian
from .settings import small_cnn, small_mlp

LOSSES = [nn.SoftmaxCrossEntropy("mean"), nn.MSELoss("sum")]


def targets(rng, loss, n, c=3):
    return rng.integers(0, c, n) if isinstance(loss, nn.SoftmaxCrossEntropy) else rng.standard_normal((n, c))


def blocks(model):
    """Slices of each parameterized layer's entries in the flat parameter order."""
    out, start = [], 0
    for layer in model.layers:
        size = sum(p.data.size for p in layer.parameters())
        if size:
            out.append(slice(start, start + size))
        start += size
    return out


@pytest.mark.parametrize("loss", LOSSES, ids=["ce-mean", "mse-sum"])
def test_single_linear_layer_one_example_is_the_exact_ggn_and_hessian(loss, rng):
    model = nn.Sequential(nn.Linear(5, 3, rng=rng, dtype=np.float64))
    x = rng.standard_normal((1, 5))
    y = targets(rng, loss, 1)
    (factors,) = cv.kfac(model, loss, x, y)
    assert factors.A.shape == (6, 6) and factors.G.shape == (3, 3)
    np.testing.assert_allclose(factors.block(), gauss_newton(model, loss, x, y), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(factors.block(), cv.hessian(model, loss, x, y), rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize("loss", LOSSES, ids=["ce-mean", "mse-sum"])
def test_every_linear_block_is_exact_for_one_example_and_the_diagonal_is_diag_ggn(loss, rng):
    model = small_mlp(rng, nn.Tanh)
    x, y = rng.standard_normal((1, 6)), targets(rng, loss, 1)
    ggn = gauss_newton(model, loss, x, y)
    factors = cv.kfac(model, loss, x, y)
    assert [f.layer for f in factors] == ["0", "2", "4"]
    for f, part in zip(factors, blocks(model)):
        np.testing.assert_allclose(f.block(), ggn[part, part], rtol=1e-10, atol=1e-14)
    for a, b in zip(cv.kfac_diag(model, loss, x, y), cv.diag_ggn(model, loss, x, y)):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-14)


def test_linear_factors_with_many_examples_match_the_loop_definitions(rng):
    """A = (1/N) Σ ā āᵀ; G = Σ_n J_nᵀ H_n J_n with J_n = ∂z_n/∂s_n by finite differences of the
    layers above; and the Kronecker product is then an approximation (it must differ)."""
    model, loss = small_mlp(rng, nn.Tanh), nn.SoftmaxCrossEntropy()
    x, y = rng.standard_normal((4, 6)), rng.integers(0, 3, 4)
    factors = cv.kfac(model, loss, x, y)
    H = output_hessian(loss, model(x))
    h = model[0](x)  # the first layer's output s (n, 5)
    a = np.column_stack([x, np.ones(4)])
    np.testing.assert_allclose(factors[0].A, a.T @ a / 4, rtol=1e-12)
    G = 0
    for n in range(4):
        s = h[n:n + 1].copy()
        J = jacobian(lambda: nn.Sequential(*model.layers[1:])(s), s)  # (3, 5)
        G = G + J.T @ H[n] @ J
    np.testing.assert_allclose(factors[0].G, G, rtol=1e-6, atol=1e-10)
    ggn = gauss_newton(model, loss, x, y)[blocks(model)[0], blocks(model)[0]]
    assert np.abs(factors[0].block() - ggn).max() > 1e-3 * np.abs(ggn).max()


def test_kfc_conv_factors_match_the_loop_definitions(rng):
    """KFC: A = (1/N) Σ_n Σ_t ā_{n,t} ā_{n,t}ᵀ over the patches, G = (1/|T|) Σ_n Σ_t J_tᵀ H_n J_t
    with J_t = ∂z_n/∂s_{n,:,t} (finite differences of the layers above the first conv)."""
    model, loss = small_cnn(rng, nn.Tanh, nn.AvgPool2d), nn.SoftmaxCrossEntropy("sum")
    x, y = rng.standard_normal((2, 1, 8, 8)), rng.integers(0, 3, 2)
    first = cv.kfac(model, loss, x, y)[0]
    patches = im2col_loop(x, (3, 3), (1, 1), (0, 0))  # (9, 6·6·2)
    a = np.vstack([patches, np.ones(patches.shape[1])])
    np.testing.assert_allclose(first.A, a @ a.T / 2, rtol=1e-12)
    H, s_all = output_hessian(loss, model(x)), model[0](x)  # (2, 3, 6, 6)
    above = nn.Sequential(*model.layers[1:])
    G = 0
    for n in range(2):
        s = s_all[n:n + 1].copy()
        J = jacobian(lambda: above(s), s).reshape(3, 3, 36)  # (C, o, t)
        G = G + np.einsum("cot,cd,dpt->op", J, H[n], J) / 36
    np.testing.assert_allclose(first.G, G, rtol=1e-6, atol=1e-10)


def test_kfc_is_exact_for_one_location_and_one_example(rng):
    model = nn.Sequential(nn.Conv2d(2, 3, (4, 3), rng=rng, dtype=np.float64), nn.Flatten(), nn.Tanh(),
                          nn.Linear(3, 4, rng=rng, dtype=np.float64))
    x, y, loss = rng.standard_normal((1, 2, 4, 3)), np.array([2]), nn.SoftmaxCrossEntropy()
    conv_block = blocks(model)[0]
    ggn = gauss_newton(model, loss, x, y)[conv_block, conv_block]
    np.testing.assert_allclose(cv.kfac(model, loss, x, y)[0].block(), ggn, rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize("loss", LOSSES, ids=["ce-mean", "mse-sum"])
def test_sampled_g_is_unbiased(loss, rng):
    """The Monte-Carlo G (one sampled output per example) averages to the exact G: every
    entry within 5 standard errors over 400 draws; A does not depend on the draw."""
    model = small_mlp(rng, nn.Tanh)
    x, y = rng.standard_normal((3, 6)), targets(rng, loss, 3)
    exact = cv.kfac(model, loss, x, y)
    draws = [cv.kfac(model, loss, x, y, exact=False, rng=np.random.default_rng(s)) for s in range(400)]
    for i, f in enumerate(exact):
        G = np.array([d[i].G for d in draws])
        se = G.std(axis=0) / np.sqrt(len(G))
        assert (np.abs(G.mean(axis=0) - f.G) <= 5 * se + 1e-12).all(), f.layer
        assert np.array_equal(draws[0][i].A, f.A)
    assert not np.allclose(draws[0][0].G, exact[0].G)  # one draw is not the expectation


def test_params_masks_hdiag_and_errors(rng):
    model, loss = small_cnn(rng, nn.ReLU), nn.SoftmaxCrossEntropy()
    x, y = rng.standard_normal((2, 1, 8, 8)), rng.integers(0, 3, 2)
    every = cv.kfac(model, loss, x, y)
    assert [f.layer for f in every] == ["0", "3", "6"]
    (last,) = cv.kfac(model, loss, x, y, params=model[6])
    np.testing.assert_array_equal(last.G, every[2].G)
    diag = cv.kfac_diag(model, loss, x, y, params=[model[3].bias])
    assert len(diag) == 1 and diag[0].shape == (4,)
    model[0].weight.hdiag = np.full((3, 1, 3, 3), 7.0)
    model[3].weight.mask = rng.random((4, 3, 2, 2)) > 0.5
    d = cv.kfac_diag(model, loss, x, y)
    assert not d[2][model[3].weight.mask == 0].any() and d[2].any()
    assert (model[0].weight.hdiag == 7).all() and model[3].weight.hdiag is None
    with pytest.raises(TypeError, match="kfac: exact must be True or False, got 'no'"):
        cv.kfac(model, loss, x, y, exact="no")

    class Scale(nn.Module):
        def __init__(self):
            super().__init__()
            self.scale = nn.Parameter(np.ones(4), "scale")

        def forward(self, x):
            return x * self.scale.data

    odd = nn.Sequential(Scale(), nn.Linear(4, 3, rng=0, dtype=np.float64))
    with pytest.raises(NotImplementedError, match="kfac: .*Scale.* is not a Linear or"):
        cv.kfac(odd, loss, rng.standard_normal((2, 4)), np.array([0, 1]))
    assert len(cv.kfac(odd, loss, rng.standard_normal((2, 4)), np.array([0, 1]), params=odd[1])) == 1
