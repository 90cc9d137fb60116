"""Denil et al. (2013)'s dictionaries: kernels, kernel ridge predictors, dictionaries,
and the sizes (atoms, rank, dense width) that hold a given share of the parameters.

Index conventions: i input feature (a pixel), o output feature (a hidden unit), k atom, G column
group; α the |α| = k inputs at which a feature's values are kept. A feature w (i,) is predicted
as ŵ = U_α w_α with the dictionary U_α (i, k); a layer W (o, i) row by row as Ŵ = W_{·α} U_αᵀ.
All functions are pure (randomness enters as ``rng``) and compute in float64. The paper file
:mod:`minicompress.papers.denil2013_predicting_parameters` re-exports them.
"""
from __future__ import annotations

import numpy as np
import scipy.linalg
from scipy.spatial.distance import cdist

from minicompress.rng import as_rng

DICTIONARIES = {  # name: what U is (the "learned" one is the low-rank baseline)
    "se_kernel": "kernel ridge predictor, squared-exponential kernel on the pixel grid",
    "empirical": "kernel ridge predictor, empirical covariance of the layer's inputs",
    "random_gaussian": "fixed random atoms U ~ N(0, 1/i)",
    "identity_subset": "columns α of the identity: W is zero outside α (random connectivity)",
    "learned": "both factors learned (low rank, one group, same count)",
}
FIXED = tuple(k for k in DICTIONARIES if k != "learned")  # the kinds column_basis builds


def check_kind(kind: str, kinds) -> str:
    """``kind`` if it is one of ``kinds``, else a ValueError listing them."""
    if kind not in kinds:
        raise ValueError(f"dictionary: unknown kind {kind!r}; expected one of {', '.join(kinds)}")
    return kind


def check_alpha(alpha, n_inputs: int) -> np.ndarray:
    alpha = np.asarray(alpha)
    if (alpha.ndim != 1 or alpha.size == 0 or not np.issubdtype(alpha.dtype, np.integer)
            or alpha.min() < 0 or alpha.max() >= n_inputs or len(np.unique(alpha)) != alpha.size):
        raise ValueError(f"alpha: expected distinct int indices in [0, {n_inputs}), got {alpha!r}")
    return alpha


def random_alpha(n_inputs: int, n_atoms: int, rng) -> np.ndarray:
    """α: ``n_atoms`` distinct inputs drawn uniformly at random, sorted."""
    return np.sort(as_rng(rng).choice(n_inputs, n_atoms, replace=False))


def atoms_for_fraction(fraction: float, n_inputs: int) -> int:
    """|α| = round(fraction · n_inputs), at least 1, for a fraction in (0, 1]."""
    if not 0 < fraction <= 1:
        raise ValueError(f"fraction: expected a number in (0, 1], got {fraction!r}")
    return max(1, round(fraction * n_inputs))


def low_rank_for_fraction(fraction: float, out_features: int, in_features: int) -> int:
    """Rank r whose two learned factors hold about ``fraction`` of the weights: r(o + i) ≈ f·o·i."""
    atoms_for_fraction(fraction, 1)  # validates the fraction
    return max(1, round(fraction * out_features * in_features / (out_features + in_features)))


def mlp_count(h1: int, n_inputs: int = 784, hidden2: int = 500, n_classes: int = 10) -> int:
    """Parameters (weights and biases) of the dense MLP n_inputs-h1-hidden2-n_classes."""
    return (n_inputs + 1) * h1 + (h1 + 1) * hidden2 + (hidden2 + 1) * n_classes


def equal_count_width(budget: int, n_inputs: int = 784, hidden2: int = 500,
                      n_classes: int = 10) -> int:
    """The widest first hidden layer h1 whose dense MLP has at most ``budget`` parameters."""
    h1 = (budget - mlp_count(0, n_inputs, hidden2, n_classes)) // (n_inputs + 1 + hidden2)
    if h1 < 1:
        raise ValueError(f"equal_count_width: a budget of {budget} parameters is below the "
                         f"smallest MLP ({mlp_count(1, n_inputs, hidden2, n_classes)})")
    return int(h1)


def pixel_coordinates(image_shape=(28, 28)) -> np.ndarray:
    """(h·w, 2) float (row, column) of each pixel, in the C order that Flatten uses."""
    return np.indices(image_shape).reshape(len(image_shape), -1).T.astype(np.float64)


def se_kernel(p: np.ndarray, q: np.ndarray, length_scale: float) -> np.ndarray:
    """k(p, q) = exp(−‖p − q‖² / 2ℓ²) for points p (a, d) and q (b, d) → (a, b): the
    squared-exponential kernel [Denil13], smooth at the scale ℓ."""
    if not length_scale > 0:
        raise ValueError(f"se_kernel: length_scale must be > 0, got {length_scale!r}")
    return np.exp(-cdist(p, q, "sqeuclidean") / (2 * length_scale ** 2))


def empirical_kernel(inputs: np.ndarray) -> np.ndarray:
    """Covariance of the layer's inputs (n, i) → (i, i), scaled to mean diagonal 1 (so λ is
    relative). The data-driven kernel for layers whose inputs have no spatial layout."""
    K = np.cov(np.asarray(inputs, np.float64).reshape(len(inputs), -1), rowvar=False)
    return K / K.diagonal().mean()


def kernel_ridge_predictor(K: np.ndarray, alpha: np.ndarray, ridge: float) -> np.ndarray:
    """U_α = K_{·α} (K_{αα} + λI)⁻¹ (i, |α|), kernel ridge regression [Denil13]: ŵ = U_α w_α
    predicts a whole feature from its values w_α at the inputs α.

    As λ → 0 the rows at α tend to the identity (the known values are reproduced exactly);
    λ > 0 trades that for stability where K_{αα} is ill-conditioned.
    """
    alpha = check_alpha(alpha, len(K))
    if not ridge >= 0:
        raise ValueError(f"kernel_ridge_predictor: ridge must be >= 0, got {ridge!r}")
    A = K[np.ix_(alpha, alpha)] + ridge * np.eye(len(alpha))
    return scipy.linalg.solve(A, K[alpha, :], assume_a="pos").T  # K symmetric: K_{·α}ᵀ = K_{α·}


def column_basis(kind: str, n_inputs: int, n_atoms: int, n_groups: int = 1, *, rng=None,
                 kernel: np.ndarray | None = None, ridge: float = 1e-3):
    """One dictionary per column group: (U (G, i, k), α (G, k) or None).

    ``kind`` is "se_kernel" or "empirical" (kernel ridge predictor of ``kernel`` (i, i), a fresh
    random α per group), "identity_subset" (U = e_α) or "random_gaussian" (N(0, 1/i)).
    """
    check_kind(kind, FIXED)
    rng = as_rng(rng)
    if kind == "random_gaussian":
        return rng.standard_normal((n_groups, n_inputs, n_atoms)) / np.sqrt(n_inputs), None
    alphas = np.stack([random_alpha(n_inputs, n_atoms, rng) for _ in range(n_groups)])
    if kind == "identity_subset":
        return np.stack([np.eye(n_inputs)[:, a] for a in alphas]), alphas
    if kernel is None or kernel.shape != (n_inputs, n_inputs):
        raise ValueError(f"dictionary {kind!r}: needs a kernel of shape ({n_inputs}, {n_inputs}), "
                         f"got {None if kernel is None else kernel.shape}")
    return np.stack([kernel_ridge_predictor(kernel, a, ridge) for a in alphas]), alphas


def reconstruct(W: np.ndarray, U: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """Each feature (row of W (o, i)) predicted from its values at α: Ŵ = W_{·α} Uᵀ, the paper's
    w = U_α w_α for every row at once."""
    return W[:, check_alpha(alpha, W.shape[1])] @ U.T
