"""Tucker (HOSVD, HOOI) and CP (ALS) against independent references, in float64."""
import numpy as np
import pytest

from minicompress import factorize as fz


def test_unfold_fold_mode_product_and_khatri_rao_by_their_definitions(rng):
    x = rng.standard_normal((3, 4, 2, 5))
    for k in range(4):
        assert np.array_equal(fz.fold(fz.unfold(x, k), k, x.shape), x)
        U = rng.standard_normal((6, x.shape[k]))
        y = fz.mode_product(x, U, k)
        letters = "abcd"
        ref = np.einsum(f"z{letters[k]},abcd->{letters.replace(letters[k], 'z')}", U, x)
        np.testing.assert_allclose(y, ref, atol=1e-12)
        np.testing.assert_allclose(fz.unfold(y, k), U @ fz.unfold(x, k), atol=1e-12)
    A, B, C = rng.standard_normal((3, 2)), rng.standard_normal((4, 2)), rng.standard_normal((2, 2))
    kr = fz.khatri_rao([A, B, C])
    for r in range(2):
        np.testing.assert_allclose(kr[:, r], np.kron(np.kron(A[:, r], B[:, r]), C[:, r]))
    np.testing.assert_allclose(fz.cp_to_tensor(np.array([2.0, -1.0]), [A, B, C]),
                               np.einsum("r,ir,jr,kr->ijk", [2.0, -1.0], A, B, C), atol=1e-12)


@pytest.mark.parametrize("modes", [None, (0, 1), (1, 3)])
@pytest.mark.parametrize("n_iter", [0, 2])
def test_full_rank_tucker_reproduces_the_tensor(modes, n_iter, rng):
    x = rng.standard_normal((5, 4, 3, 3))
    ranks = [x.shape[k] for k in (range(4) if modes is None else modes)]
    core, factors = fz.tucker(x.astype(np.float32), ranks, modes=modes, n_iter=n_iter)
    assert core.dtype == np.float64 and all(U.dtype == np.float64 for U in factors)
    err = np.linalg.norm(fz.tucker_to_tensor(core, factors, modes) - x.astype(np.float32))
    assert err / np.linalg.norm(x) < 1e-10


def test_hosvd_factors_are_orthonormal_and_obey_its_error_bound(rng):
    """De Lathauwer et al. (2000): ‖X − X̂‖² = ‖X‖² − ‖G‖² ≤ Σ_k Σ_{i>r_k} σ_i(X_(k))²."""
    x = rng.standard_normal((6, 5, 4))
    ranks = (3, 2, 2)
    core, factors = fz.tucker(x, ranks)
    for U, r in zip(factors, ranks):
        np.testing.assert_allclose(U.T @ U, np.eye(r), atol=1e-12)
    err2 = np.linalg.norm(fz.tucker_to_tensor(core, factors) - x) ** 2
    np.testing.assert_allclose(err2, np.linalg.norm(x) ** 2 - np.linalg.norm(core) ** 2, rtol=1e-10)
    bound = sum(np.sum(np.linalg.svd(fz.unfold(x, k), compute_uv=False)[r:] ** 2)
                for k, r in enumerate(ranks))
    assert err2 <= bound * (1 + 1e-12)
    # the factors span the leading left singular subspace of each unfolding
    for k, (U, r) in enumerate(zip(factors, ranks)):
        u = np.linalg.svd(fz.unfold(x, k))[0][:, :r]
        np.testing.assert_allclose(U @ U.T, u @ u.T, atol=1e-10)


def test_tucker_of_a_matrix_is_the_truncated_svd(rng):
    """Eckart–Young: for a matrix, Tucker at (r, r) is the best rank-r approximation."""
    W = rng.standard_normal((7, 5))
    core, (U, V) = fz.tucker(W, (2, 2), n_iter=3)
    left, right, _ = fz.truncated_svd(W, 2)
    np.testing.assert_allclose(U @ core @ V.T, left @ right.T, atol=1e-10)


def test_hooi_never_increases_the_error_and_improves_on_hosvd(rng):
    x = rng.standard_normal((8, 7, 6)) + 3 * np.einsum("i,j,k->ijk", *[rng.standard_normal(s) for s in (8, 7, 6)])
    errors = []
    for n in range(8):
        core, factors = fz.tucker(x, (2, 3, 2), n_iter=n)
        errors.append(np.linalg.norm(fz.tucker_to_tensor(core, factors) - x))
    assert all(b <= a * (1 + 1e-12) for a, b in zip(errors, errors[1:])), errors
    assert errors[-1] < errors[0] * (1 - 1e-4)


def planted_cp(rng, shape, rank):
    factors = [np.linalg.qr(rng.standard_normal((s, rank)))[0] + 0.3 * rng.standard_normal((s, rank))
               for s in shape]
    return fz.cp_to_tensor(np.linspace(1, 2, rank), factors)


@pytest.mark.parametrize("shape, rank", [((5, 6, 4), 3), ((6, 4, 3, 3), 2), ((4, 5), 3)])
def test_cp_at_the_planted_rank_reproduces_the_tensor(shape, rank, rng):
    x = planted_cp(rng, shape, rank)
    weights, factors, errors = fz.cp(x, rank, n_iter=2000, rng=0, return_errors=True)
    assert errors[-1] < 1e-10, errors[-1]
    np.testing.assert_allclose(fz.cp_to_tensor(weights, factors), x, atol=1e-9)
    assert (weights >= 0).all()
    for A in factors:
        np.testing.assert_allclose(np.linalg.norm(A, axis=0), 1, rtol=1e-12)


@pytest.mark.parametrize("init", ["svd", "random"])
def test_als_never_increases_the_error_and_reports_it(init, rng):
    x = rng.standard_normal((6, 5, 4))
    weights, factors, errors = fz.cp(x, 4, n_iter=60, rng=3, init=init, tol=0, return_errors=True)
    assert len(errors) == 60
    assert all(b <= a + 1e-12 for a, b in zip(errors, errors[1:])), np.diff(errors).max()
    assert errors[-1] < errors[0]
    recomputed = np.linalg.norm(fz.cp_to_tensor(weights, factors) - x) / np.linalg.norm(x)
    assert np.isclose(errors[-1], recomputed, rtol=1e-12)


def test_cp_rank_one_of_a_matrix_is_the_leading_singular_pair(rng):
    W = rng.standard_normal((6, 4))
    weights, (a, b) = fz.cp(W, 1, n_iter=500, rng=0, tol=0)
    u, s, vt = np.linalg.svd(W)
    np.testing.assert_allclose(weights[0], s[0], rtol=1e-8)
    np.testing.assert_allclose(np.abs(a[:, 0] @ u[:, 0]) * np.abs(b[:, 0] @ vt[0]), 1, rtol=1e-8)


def test_cp_stopping_rule_and_determinism(rng):
    x = planted_cp(rng, (5, 4, 3), 2)
    w1, f1, e1 = fz.cp(x, 2, n_iter=5000, rng=7, tol=1e-9, return_errors=True)
    assert len(e1) < 5000 and e1[-2] - e1[-1] < 1e-9 and all(a - b >= 1e-9 for a, b in zip(e1[:-2], e1[1:-1]))
    w2, f2 = fz.cp(x, 2, n_iter=5000, rng=7, tol=1e-9)
    assert np.array_equal(w1, w2) and all(np.array_equal(a, b) for a, b in zip(f1, f2))


def test_bad_ranks_and_inputs_give_clear_errors(rng):
    x = rng.standard_normal((4, 3, 2))
    with pytest.raises(ValueError, match=r"tucker: the rank of mode 1 \(size 3\) must be an int in \[1, 3\], got 0"):
        fz.tucker(x, (2, 0, 1))
    with pytest.raises(ValueError, match=r"rank of mode 0 \(size 4\).*\[1, 4\], got 5"):
        fz.tucker(x, 5)
    with pytest.raises(ValueError, match="expected 2 ranks"):
        fz.tucker(x, (1, 1, 1), modes=(0, 1))
    with pytest.raises(ValueError, match="modes must be distinct axes"):
        fz.tucker(x, (1, 1), modes=(0, 3))
    with pytest.raises(ValueError, match="must be an int"):
        fz.tucker(x, (1.5, 1, 1))
    with pytest.raises(ValueError, match="n_iter"):
        fz.tucker(x, 1, n_iter=-1)
    with pytest.raises(ValueError, match=r"cp: rank .*must be an int in \[1, 6\], got 0"):
        fz.cp(x, 0)
    with pytest.raises(ValueError, match=r"\[1, 6\], got 7"):
        fz.cp(x, 7)
    with pytest.raises(ValueError, match="init"):
        fz.cp(x, 2, init="nvecs")
    bad = x.copy()
    bad[0, 0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        fz.tucker(bad, 1)
    with pytest.raises(ValueError, match="at least 2"):
        fz.cp(np.ones(3), 1)


@pytest.mark.parametrize("seed", range(3))
def test_ridge_keeps_als_away_from_degenerate_components(seed):
    """Plain ALS on noise at rank 10 drifts into huge cancelling components (Σλ² ≫ ‖X‖²); a
    Tikhonov term μ = 0.01 keeps Σλ² within a few ‖X‖² at a similar error (within 0.05)."""
    x = np.random.default_rng(seed).standard_normal((8, 7, 6))
    norm2 = np.linalg.norm(x) ** 2
    plain = fz.cp(x, 10, n_iter=300, rng=0, return_errors=True)
    ridge = fz.cp(x, 10, n_iter=300, rng=0, ridge=0.01, return_errors=True)
    assert np.sum(ridge[0] ** 2) / norm2 < 4 < np.sum(plain[0] ** 2) / norm2
    assert abs(ridge[2][-1] - plain[2][-1]) < 0.05
    with pytest.raises(ValueError, match="ridge must be a finite number >= 0"):
        fz.cp(x, 2, ridge=-1.0)
