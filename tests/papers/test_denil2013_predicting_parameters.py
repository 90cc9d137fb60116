"""Denil et al. 2013, the method: the SE and empirical kernels, the kernel ridge dictionary
U_α = k_αᵀ(K_αα + λI)⁻¹, feature prediction w = U_α w_α, the columns, and the predicted layer."""
import numpy as np
import pytest

from minicompress.factorize import pixel_coordinates
from minicompress.papers import denil2013_predicting_parameters as denil


def test_se_kernel_values():
    p = pixel_coordinates((3, 4))
    K = denil.se_kernel(p, p, length_scale=2.0)
    np.testing.assert_allclose(np.diag(K), 1)
    np.testing.assert_allclose(K, K.T)
    assert K[0, 1] == pytest.approx(np.exp(-1 / 8))  # one pixel apart, ℓ = 2: exp(−1/(2·4))
    assert K[0, 5] == pytest.approx(np.exp(-2 / 8))
    assert np.linalg.eigvalsh(K).min() > -1e-10  # positive semi-definite
    with pytest.raises(ValueError, match="length_scale must be > 0, got 0"):
        denil.se_kernel(p, p, 0)


def test_empirical_kernel_is_the_scaled_input_covariance(rng):
    x = rng.standard_normal((50, 1, 3, 3)) * np.arange(1, 10).reshape(1, 1, 3, 3)
    K = denil.empirical_kernel(x)
    C = np.cov(x.reshape(50, 9), rowvar=False)
    np.testing.assert_allclose(K, C / np.trace(C) * 9)
    assert np.diag(K).mean() == pytest.approx(1)


def test_kernel_ridge_dictionary_is_the_formula_and_interpolates_as_ridge_goes_to_zero(rng):
    grid = pixel_coordinates((8, 8))
    K = denil.se_kernel(grid, grid, 1.5)
    alpha = np.sort(rng.choice(64, 16, replace=False))
    U = denil.kernel_ridge_dictionary(K, alpha, 0.1)  # against the textbook formula, by inversion
    np.testing.assert_allclose(U, K[:, alpha] @ np.linalg.inv(K[np.ix_(alpha, alpha)] + 0.1 * np.eye(16)),
                               atol=1e-10)
    W = rng.standard_normal((3, 64))
    errors = []
    for ridge in (1e-1, 1e-3, 1e-5, 1e-8):
        U = denil.kernel_ridge_dictionary(K, alpha, ridge)
        assert U.shape == (64, 16)
        errors.append(np.abs(denil.predict_features(W, U, alpha)[:, alpha] - W[:, alpha]).max())
    assert all(a > b for a, b in zip(errors, errors[1:]))  # monotone in λ
    assert errors[-1] < 1e-5
    exact = denil.kernel_ridge_dictionary(K, alpha, 0.0)
    np.testing.assert_allclose(exact[alpha], np.eye(16), atol=1e-8)
    # a feature in the span of K's columns at α (w = K_{·α} c) is predicted exactly at λ = 0
    w = (K[:, alpha] @ rng.standard_normal(16))[None]
    np.testing.assert_allclose(denil.predict_features(w, exact, alpha), w, atol=1e-7)
    with pytest.raises(ValueError, match="ridge must be >= 0, got -1"):
        denil.kernel_ridge_dictionary(K, alpha, -1)
    with pytest.raises(ValueError, match=r"distinct int indices in \[0, 4\)"):
        denil.kernel_ridge_dictionary(np.eye(4), np.array([1, 1]), 0.1)


def test_smooth_features_are_predicted_accurately_from_a_quarter_of_their_values(rng):
    """Features drawn from the SE prior itself are predicted well from a quarter of their values,
    far better than keeping the values at α alone (the paper's premise, on data that meet it)."""
    grid = pixel_coordinates((28, 28))
    K = denil.se_kernel(grid, grid, 3.0)
    W = (np.linalg.cholesky(K + 1e-6 * np.eye(784)) @ rng.standard_normal((784, 5))).T  # (5, 784)
    alpha = np.sort(rng.choice(784, 196, replace=False))
    smooth = denil.predict_features(W, denil.kernel_ridge_dictionary(K, alpha, 1e-3), alpha)
    kept = denil.predict_features(W, np.eye(784)[:, alpha], alpha)
    relative = lambda M: np.linalg.norm(W - M) / np.linalg.norm(W)  # noqa: E731
    assert relative(smooth) < 0.1 and relative(kept) > 0.8  # a tenth of the error of α alone


@pytest.mark.parametrize("kind", ["se_kernel", "empirical", "identity_subset", "random_gaussian"])
def test_column_dictionaries_shapes_and_seeds(kind, rng):
    grid = pixel_coordinates((6, 6))
    kernel = denil.se_kernel(grid, grid, 1.0) if kind != "empirical" else denil.empirical_kernel(
        rng.random((40, 36)))
    U, alpha = denil.column_dictionaries(kind, 36, 5, 3, rng=4, kernel=kernel)
    assert U.shape == (3, 36, 5)
    again, _ = denil.column_dictionaries(kind, 36, 5, 3, rng=4, kernel=kernel)
    np.testing.assert_array_equal(U, again)
    if kind == "random_gaussian":
        assert alpha is None
        return
    assert alpha.shape == (3, 5) and all(len(set(a)) == 5 for a in alpha)
    assert not all(np.array_equal(alpha[0], a) for a in alpha[1:])  # each column its own α
    if kind == "identity_subset":
        for g in range(3):
            np.testing.assert_array_equal(U[g][alpha[g]], np.eye(5))
            assert not np.delete(U[g], alpha[g], axis=0).any()
    else:  # each column's dictionary is the kernel ridge dictionary of its own α
        for g in range(3):
            np.testing.assert_array_equal(U[g], denil.kernel_ridge_dictionary(kernel, alpha[g], 1e-3))


def test_predicted_layer_learns_the_stated_fraction():
    grid = pixel_coordinates((28, 28))
    K = denil.se_kernel(grid, grid, 1.0)
    layer = denil.predicted_layer("se_kernel", 0.1, 500, kernel=K, rng=0)
    assert layer.basis_value().shape == (10, 784, 78) and not layer.learns_basis
    assert layer.learned_fraction() == pytest.approx(78 / 784)
    low_rank = denil.predicted_layer("learned", 0.25, 500, rng=0)
    assert low_rank.learns_basis and low_rank.atoms == denil.low_rank_for_fraction(0.25, 500, 784) == 76
    assert low_rank.learned_fraction() == pytest.approx(76 * 1284 / (784 * 500))


def test_fraction_and_dictionary_errors():
    for bad in (0, -0.1, 1.5):
        with pytest.raises(ValueError, match=rf"fraction: expected a number in \(0, 1\], got {bad}"):
            denil.atoms_for_fraction(bad, 784)
    assert denil.atoms_for_fraction(1, 784) == 784 and denil.atoms_for_fraction(1e-4, 784) == 1
    with pytest.raises(ValueError, match="unknown kind 'dct'; expected one of se_kernel, empirical, "
                                         "random_gaussian, identity_subset"):
        denil.column_dictionaries("dct", 10, 2)
    with pytest.raises(ValueError, match="unknown kind 'dct'; expected one of se_kernel, empirical, "
                                         "random_gaussian, identity_subset, learned"):
        denil.check_kind("dct")
    with pytest.raises(ValueError, match=r"needs a kernel of shape \(10, 10\), got None"):
        denil.column_dictionaries("se_kernel", 10, 2)
    with pytest.raises(ValueError, match="fraction"):
        denil.predicted_layer("learned", 2.0, 10)


def test_kernel_atoms_have_norm_about_l_sqrt_pi_not_one():
    """The paper file's statement: an isolated α point's atom is k(·, p)/(1 + λ), of norm ≈ ℓ√π
    inside the grid; close α points shrink their atoms (medians 1.75, 1.71, 1.63, 1.46 at 5%,
    10%, 25%, 50%, ℓ = 1 px, λ = 1e-3); the random and identity atoms have norm ≈ 1."""
    grid = pixel_coordinates((28, 28))
    centre = np.array([14 * 28 + 14])
    for length_scale in (1.0, 2.0):
        K = denil.se_kernel(grid, grid, length_scale)
        U = denil.kernel_ridge_dictionary(K, centre, 1e-3)
        np.testing.assert_allclose(U[:, 0], K[:, centre[0]] / (1 + 1e-3), atol=1e-12)
        assert np.linalg.norm(U) * (1 + 1e-3) == pytest.approx(length_scale * np.sqrt(np.pi), rel=1e-3)
    K = denil.se_kernel(grid, grid, 1.0)
    for seed in (0, 1):
        medians = [np.median(np.linalg.norm(denil.column_dictionaries(
            "se_kernel", 784, denil.atoms_for_fraction(f, 784), 10, rng=seed, kernel=K)[0], axis=1))
            for f in (0.05, 0.1, 0.25, 0.5)]
        np.testing.assert_allclose(medians, [1.75, 1.71, 1.63, 1.46], atol=0.03)
    for kind in ("random_gaussian", "identity_subset"):
        U, _ = denil.column_dictionaries(kind, 784, 78, 10, rng=0)
        assert np.median(np.linalg.norm(U, axis=1)) == pytest.approx(1, abs=0.05)


def test_ridge_sets_the_conditioning_not_the_span():
    """The paper file's statement: U_α spans k_αᵀ's columns whatever λ; the largest eigenvalue of
    a column's U Uᵀ is 3.5-12 at λ = 1e-3 and 1.0-1.25 at λ = 1 (ℓ = 1 px, f = 5-50%)."""
    grid = pixel_coordinates((28, 28))
    K = denil.se_kernel(grid, grid, 1.0)
    for f in (0.05, 0.1, 0.25, 0.5):
        k = denil.atoms_for_fraction(f, 784)
        sharp, _ = denil.column_dictionaries("se_kernel", 784, k, 3, rng=1, kernel=K, ridge=1e-3)
        smooth, alpha = denil.column_dictionaries("se_kernel", 784, k, 3, rng=1, kernel=K, ridge=1.0)
        top = lambda U: np.array([np.linalg.norm(u, 2) ** 2 for u in U])  # noqa: E731
        assert ((3.5 <= top(sharp)) & (top(sharp) <= 12)).all()
        assert ((1.0 <= top(smooth)) & (top(smooth) <= 1.25)).all()
        for g in range(3):  # same span: each is k_αᵀ times an invertible |α| × |α| matrix
            M = np.linalg.lstsq(K[:, alpha[g]], smooth[g], rcond=None)[0]
            np.testing.assert_allclose(K[:, alpha[g]] @ M, smooth[g], atol=1e-8)
