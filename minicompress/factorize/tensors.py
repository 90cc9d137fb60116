"""Tensor decompositions: Tucker (HOSVD, refined by HOOI) and CP (alternating least squares).

Index conventions: a tensor X of order N has modes k = 0 … N−1 of sizes I_k. The mode-k
unfolding X_(k) (I_k, ∏_{j≠k} I_j) puts mode k on the rows and the other modes, in increasing
order with the last one fastest, on the columns. The mode-k product X ×_k U (U of shape (J, I_k))
multiplies every mode-k fibre by U: (X ×_k U)_(k) = U X_(k).

Tucker: X ≈ G ×_0 U_0 ×_1 U_1 … with a small core G (r_0, r_1, …) and orthonormal factors U_k
(I_k, r_k). HOSVD (De Lathauwer, De Moor & Vandewalle 2000): U_k = the leading r_k left singular
vectors of X_(k), G = X ×_k U_kᵀ. HOOI refines one factor at a time, U_k = the leading left
singular vectors of (X ×_{j≠k} U_jᵀ)_(k); each step maximizes ‖G‖ over U_k with the others
fixed, so the error ‖X − X̂‖² = ‖X‖² − ‖G‖² never increases.

CP: X ≈ Σ_r λ_r a_0r ∘ a_1r ∘ … (R rank-one terms). ALS updates one factor A_k (I_k, R) at a
time by the exact least-squares solve A_k = X_(k) K_k (∗_{j≠k} A_jᵀA_j)⁺, K_k the Khatri–Rao
product of the other factors (in increasing mode order), so the error never increases.
Everything is computed in float64.
"""
from __future__ import annotations

import numbers

import numpy as np

from minicompress.rng import as_rng


def unfold(tensor: np.ndarray, mode: int) -> np.ndarray:
    """X_(k): (I_k, ∏_{j≠k} I_j), the other modes in increasing order, the last fastest."""
    return np.moveaxis(tensor, mode, 0).reshape(tensor.shape[mode], -1)


def fold(matrix: np.ndarray, mode: int, shape: tuple) -> np.ndarray:
    """Inverse of :func:`unfold` for a tensor of ``shape``."""
    rest = [s for k, s in enumerate(shape) if k != mode]
    return np.moveaxis(matrix.reshape(shape[mode], *rest), 0, mode)


def mode_product(tensor: np.ndarray, matrix: np.ndarray, mode: int) -> np.ndarray:
    """X ×_k U with U (J, I_k): mode k of the result has size J."""
    return np.moveaxis(np.tensordot(matrix, tensor, axes=(1, mode)), 0, mode)


def khatri_rao(matrices) -> np.ndarray:
    """Column-wise Kronecker product: rows (i_a, i_b, …) with the last index fastest, (∏ I, R)."""
    out = matrices[0]
    for m in matrices[1:]:
        out = (out[:, None, :] * m[None, :, :]).reshape(-1, m.shape[1])
    return out


def tucker_to_tensor(core: np.ndarray, factors, modes=None) -> np.ndarray:
    """G ×_k U_k over ``modes`` (default: all modes of the core, in order)."""
    modes = range(core.ndim) if modes is None else modes
    out = core
    for k, U in zip(modes, factors):
        out = mode_product(out, U, k)
    return out


def cp_to_tensor(weights: np.ndarray, factors) -> np.ndarray:
    """Σ_r λ_r a_0r ∘ a_1r ∘ …, folded from its mode-0 unfolding A_0 diag(λ) K_0ᵀ."""
    shape = tuple(A.shape[0] for A in factors)
    return ((factors[0] * weights) @ khatri_rao(factors[1:]).T).reshape(shape)


def _as_tensor(tensor, who: str) -> np.ndarray:
    x = np.asarray(tensor)
    if x.ndim < 2 or 0 in x.shape or not (np.issubdtype(x.dtype, np.floating)
                                          or np.issubdtype(x.dtype, np.integer)):
        raise ValueError(f"{who}: tensor must be a real array with at least 2 non-empty modes, "
                         f"got {x.dtype} array of shape {x.shape}")
    x = x.astype(np.float64)
    if not np.isfinite(x).all():
        raise ValueError(f"{who}: tensor contains NaN or inf")
    return x


def _rank(r, upper: int, who: str, what: str) -> int:
    if not isinstance(r, numbers.Integral) or isinstance(r, bool) or not 1 <= r <= upper:
        raise ValueError(f"{who}: {what} must be an int in [1, {upper}], got {r!r}")
    return int(r)


def _leading(matrix: np.ndarray, r: int) -> np.ndarray:
    """The r leading left singular vectors, signs fixed (largest entry of each positive)."""
    u = np.linalg.svd(matrix, full_matrices=False)[0][:, :r]
    signs = np.sign(u[np.abs(u).argmax(axis=0), np.arange(r)])
    return u * np.where(signs == 0, 1, signs)


def tucker(tensor, ranks, *, modes=None, n_iter: int = 0):
    """Truncated Tucker decomposition: HOSVD, then ``n_iter`` HOOI sweeps.

    Parameters
    ----------
    tensor : ndarray, order N
    ranks : int or sequence of int
        r_k for each mode in ``modes`` (an int: the same for all), 1 ≤ r_k ≤ I_k.
    modes : sequence of int, optional
        The modes to factor (default all); e.g. (0, 1) for Tucker-2 of a conv kernel
        (c_out, c_in, kh, kw), whose small spatial modes stay in the core.
    n_iter : int
        HOOI sweeps after the HOSVD (0: the HOSVD itself).

    Returns
    -------
    core : ndarray, float64
        Of the tensor's shape with I_k replaced by r_k for k in ``modes``.
    factors : list of ndarray (I_k, r_k), float64, orthonormal columns, aligned with ``modes``.
    """
    x = _as_tensor(tensor, "tucker")
    modes = list(range(x.ndim)) if modes is None else [int(k) for k in modes]
    if not modes or len(set(modes)) != len(modes) or not all(0 <= k < x.ndim for k in modes):
        raise ValueError(f"tucker: modes must be distinct axes of a {x.ndim}-way tensor, got {modes}")
    ranks = [ranks] * len(modes) if isinstance(ranks, numbers.Integral) else list(ranks)
    if len(ranks) != len(modes):
        raise ValueError(f"tucker: expected {len(modes)} ranks (one per mode in {modes}), got {ranks}")
    ranks = [_rank(r, x.shape[k], "tucker", f"the rank of mode {k} (size {x.shape[k]})")
             for r, k in zip(ranks, modes)]
    if not isinstance(n_iter, numbers.Integral) or n_iter < 0:
        raise ValueError(f"tucker: n_iter must be an int >= 0, got {n_iter!r}")
    factors = [_leading(unfold(x, k), r) for k, r in zip(modes, ranks)]  # HOSVD
    for _ in range(n_iter):  # HOOI
        for i, (k, r) in enumerate(zip(modes, ranks)):
            y = x
            for j, (m, U) in enumerate(zip(modes, factors)):
                if j != i:
                    y = mode_product(y, U.T, m)
            factors[i] = _leading(unfold(y, k), r)
    core = x
    for k, U in zip(modes, factors):
        core = mode_product(core, U.T, k)
    return core, factors


def cp(tensor, rank: int, *, n_iter: int = 200, rng=None, tol: float = 1e-12,
       init: str = "svd", ridge: float = 0.0, return_errors: bool = False):
    """CP decomposition by alternating least squares.

    Initialization (``init="svd"``): A_k = the leading R left singular vectors of X_(k), and where
    R > I_k the missing columns drawn N(0, 1) from ``rng``; ``init="random"``: every factor N(0, 1)
    from ``rng``. One sweep updates A_0, A_1, … in turn, each by its exact least-squares solve
    (so the error never increases), then moves the column norms into the weights λ. Stopping
    rule: after ``n_iter`` sweeps, or as soon as a sweep lowers the relative error
    ‖X − X̂‖_F / ‖X‖_F by less than ``tol``.

    ``ridge`` = μ > 0 solves A_k = X_(k) K_k (∗_{j≠k} A_jᵀA_j + μI)⁻¹ instead (Tikhonov-regularized
    ALS, Navasca, De Lathauwer & Kindermann 2008): with the other factors at unit-norm columns it
    penalizes μ Σ_r λ_r², which keeps ALS away from *degenerate* solutions — pairs of huge
    components that nearly cancel (Σ λ_r² ≫ ‖X‖²), which plain ALS drifts into on noisy tensors
    and which make the factors useless to fine-tune. The error is then no longer monotone.

    Parameters
    ----------
    tensor : ndarray, order N ≥ 2
    rank : int
        R, from 1 to ∏ I / max I (a rank at which an exact CP always exists).
    n_iter : int ≥ 1
    rng : np.random.Generator, int or None
    tol : float ≥ 0
    init : "svd" or "random"
    ridge : float ≥ 0
    return_errors : bool
        Also return the relative error after each sweep.

    Returns
    -------
    weights : ndarray (R,), float64, ≥ 0
    factors : list of ndarray (I_k, R), float64, unit-norm columns
    errors : list of float (only with ``return_errors``)
    """
    x = _as_tensor(tensor, "cp")
    rank = _rank(rank, x.size // max(x.shape), "cp", f"rank (tensor of shape {x.shape})")
    if not isinstance(n_iter, numbers.Integral) or n_iter < 1:
        raise ValueError(f"cp: n_iter must be an int >= 1, got {n_iter!r}")
    if not (isinstance(ridge, (int, float)) and 0 <= ridge < np.inf):
        raise ValueError(f"cp: ridge must be a finite number >= 0, got {ridge!r}")
    if init not in ("svd", "random"):
        raise ValueError(f"cp: init must be 'svd' or 'random', got {init!r}")
    rng, norm = as_rng(rng), np.linalg.norm(x)
    factors = []
    for k, size in enumerate(x.shape):
        A = rng.standard_normal((size, rank))
        if init == "svd":
            r = min(rank, size)
            A[:, :r] = _leading(unfold(x, k), r)
        factors.append(A)
    weights, errors = np.ones(rank), []
    for _ in range(n_iter):
        for k in range(x.ndim):
            others = [A for j, A in enumerate(factors) if j != k]
            gram = np.ones((rank, rank))
            for A in others:
                gram *= A.T @ A
            factors[k] = unfold(x, k) @ khatri_rao(others) @ np.linalg.pinv(gram + ridge * np.eye(rank))
        weights = np.prod([np.linalg.norm(A, axis=0) for A in factors], axis=0)
        factors = [A / np.where(n == 0, 1, n) for A, n in
                   ((A, np.linalg.norm(A, axis=0)) for A in factors)]
        errors.append(float(np.linalg.norm(x - cp_to_tensor(weights, factors)) / max(norm, 1e-300)))
        if len(errors) > 1 and errors[-2] - errors[-1] < tol:
            break
    return (weights, factors, errors) if return_errors else (weights, factors)
