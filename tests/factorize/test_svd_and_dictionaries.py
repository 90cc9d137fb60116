"""The truncated SVD (Eckart–Young), the layer made from it, and the fixed dictionaries."""
import numpy as np
import pytest

from minicompress import nn
from minicompress.factorize import (check_indices, gaussian_atoms, identity_atoms, pixel_coordinates,
                                    random_indices, relative_error, svd_layer, truncated_svd)

F64 = dict(dtype=np.float64)


def test_truncated_svd_residual_is_the_root_sum_of_the_discarded_squared_singular_values(rng):
    W = rng.standard_normal((30, 20))
    for rank in (1, 5, 19, 20):
        left, right, s = truncated_svd(W, rank)
        assert left.shape == (30, rank) and right.shape == (20, rank)
        residual = np.linalg.norm(W - left @ right.T)
        assert residual == pytest.approx(np.sqrt((s[rank:] ** 2).sum()), abs=1e-10)
        assert np.linalg.matrix_rank(left @ right.T) == rank
    # Eckart–Young: no other rank-5 matrix does better, e.g. a truncation of a perturbed W
    left, right, _ = truncated_svd(W + 0.1 * rng.standard_normal(W.shape), 5)
    assert np.linalg.norm(W - left @ right.T) > np.sqrt((s[5:] ** 2).sum())
    with pytest.raises(ValueError, match=r"rank must be in \[1, 20\], got 21"):
        truncated_svd(W, 21)


def test_relative_error():
    W = np.array([[3.0, 4.0]])
    assert relative_error(W, np.zeros_like(W)) == 1.0
    assert relative_error(W, np.array([[3.0, 3.0]])) == pytest.approx(1 / 5)


def test_svd_layer_computes_the_truncated_weight(rng):
    linear = nn.Linear(12, 7, rng=rng, **F64)
    layer = svd_layer(linear, 3)
    left, right, _ = truncated_svd(linear.weight.data, 3)
    np.testing.assert_allclose(layer.effective_weight(), left @ right.T, atol=1e-12)
    assert layer.learns_basis and layer.n_learned() == 3 * (12 + 7) + 7
    full = svd_layer(linear, 7)
    x = rng.standard_normal((4, 12))
    np.testing.assert_allclose(full(x), linear(x), atol=1e-12)


def test_pixel_coordinates_follow_flatten_order():
    p = pixel_coordinates((3, 4))
    assert p.shape == (12, 2) and tuple(p[5]) == (1.0, 1.0) and tuple(p[11]) == (2.0, 3.0)
    image = np.arange(12.0).reshape(1, 1, 3, 4)
    flat = nn.Flatten()(image)[0]
    assert all(image[0, 0, int(r), int(c)] == flat[k] for k, (r, c) in enumerate(p))


def test_random_indices_are_distinct_sorted_and_seeded():
    a = random_indices(50, 10, 3)
    assert len(set(a)) == 10 and np.all(np.diff(a) > 0) and a.max() < 50
    np.testing.assert_array_equal(a, random_indices(50, 10, 3))
    with pytest.raises(ValueError, match=r"n_atoms: expected an int in \[1, 50\], got 51"):
        random_indices(50, 51, 0)
    with pytest.raises(ValueError, match=r"distinct int indices in \[0, 4\)"):
        check_indices(np.array([1, 1]), 4)
    with pytest.raises(ValueError, match=r"distinct int indices in \[0, 4\)"):
        check_indices(np.array([0.0, 1.0]), 4)


def test_gaussian_and_identity_atoms():
    U = gaussian_atoms(400, 30, 2, rng=0)
    assert U.shape == (2, 400, 30)
    assert np.mean(np.linalg.norm(U, axis=1) ** 2) == pytest.approx(1, rel=0.05)  # E‖atom‖² = 1
    np.testing.assert_array_equal(U, gaussian_atoms(400, 30, 2, rng=0))
    alphas = np.array([[0, 3], [1, 2]])
    E = identity_atoms(alphas, 5)
    assert E.shape == (2, 5, 2)
    for g in range(2):
        np.testing.assert_array_equal(E[g][alphas[g]], np.eye(2))
        assert not np.delete(E[g], alphas[g], axis=0).any()
