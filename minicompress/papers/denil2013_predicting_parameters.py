"""Denil, Shakibi, Dinh, Ranzato & de Freitas (2013): predicting parameters in deep learning.

Reference: M. Denil, B. Shakibi, L. Dinh, M. Ranzato, N. de Freitas, "Predicting Parameters in
Deep Learning", NeurIPS 2013, arXiv:1306.0543. (The equation numbers of the paper could not be
checked against its PDF here, so none are quoted; the tags name the paper's topics.)

The idea. A layer h = g(vW) has a weight matrix W (n_v × n_h) whose columns are *features*: the
weights into one hidden unit, in the first layer of an image model a 28×28 picture. Features are
smooth, so the values w_α of a feature at a few inputs α ⊂ {1, …, n_v} predict all of it,
w ≈ U_α w_α, through a dictionary U_α (n_v × |α|) fixed in advance. For the whole layer

    W = U_α W_α                                                        [low-rank weight matrices]

a low-rank factorization in which only W_α (|α| × n_h) is learned: |α|/n_v of the layer's
weights, the rest predicted. How well this works is decided by the dictionary.

Kernel ridge regression [choice of dictionary]. A kernel k(i, j) between input locations gives
K_αα = [k(i, j)]_{i,j ∈ α} (|α| × |α|) and k_α = [k(i, j)]_{i ∈ α, j} (|α| × n_v); the kernel
ridge predictor of a feature from its values at α is w = k_αᵀ (K_αα + λI)⁻¹ w_α, so

    U_α = k_αᵀ (K_αα + λI)⁻¹,   W_α learned                           (kernel_ridge_dictionary)

λ > 0 keeps it stable where K_αα is ill-conditioned (close points of α, long length scales).
The kernel is the prior. For pixels: the squared exponential on their coordinates p,

    k(i, j) = exp(−‖p_i − p_j‖² / 2ℓ²)                                 (se_kernel)

smooth at the scale ℓ (in pixels; the authors' code, GaussianKernelDictionary, has the same
form). Where the inputs have no topology (deeper layers, speech
frames), a data-driven kernel: the empirical covariance of the layer's inputs (empirical_kernel).

Columns [columnar architecture]. One α for every feature confines them all to one
|α|-dimensional subspace. Instead the hidden units are split into J groups ("columns"), each with
its own random α_j and dictionary, and the layer is their concatenation

    W = [U_{α_1} W_{α_1}, …, U_{α_J} W_{α_J}]                          (column_dictionaries)

with |α_j| = f·n_v in every column, so that a fraction f of the weights is learned whatever J.

Baselines of the paper, at the same count of learned parameters: U random and fixed, and both
factors learned (plain low rank, rank r with r(n_v + n_h) ≈ f·n_v·n_h). Ours: U = the columns α
of the identity (a feature is its values at α and zero elsewhere: random connectivity).

Size of the atoms. A kernel atom whose α point lies far from the others is the kernel's column
around it, k(·, p)/(1 + λ), of norm ≈ ℓ√π/(1 + λ) inside the grid (Σ over the integers of
exp(−d²/ℓ²) is √π·ℓ to 1e-4 for ℓ ≥ 1, and the 2-D sum is its square); atoms whose α points are
close share that mass and shrink. At ℓ = 1 px on the 28×28 grid and λ = 1e-3 the median atom norm
is 1.75 at f = 5%, 1.71 at 10%, 1.63 at 25%, 1.46 at 50%: *not* unit norm (the random and
identity atoms have norm ≈ 1). It matters for training, not for what the layer can express: with
W_α learned, U_α spans the columns of k_αᵀ whatever λ, so λ (like any rescaling of the atoms,
or using k_αᵀ itself as one version of the authors' code does) only changes the conditioning. A gradient step on W_α moves W by U Uᵀ times the dense gradient:
at λ = 1e-3 the largest eigenvalue of a column's U Uᵀ is 3.5-12 (f = 5-50%), so SGD steps
through SE atoms are several times those of the dense layer; at λ = 1 (the size of the kernel's
diagonal) it is 1.0-1.25, as for the dense layer (U = I, eigenvalue 1).

Engine layout: the engine stores W as (o, i) = (n_h, n_v), one row per hidden unit, so
W = U_α W_α reads W = V Uᵀ with V = W_αᵀ (o × |α|) and U = U_α (i × |α|):
:class:`minicompress.factorize.FactorizedLinear`, one (i, |α|) dictionary per column.
"""
from __future__ import annotations

import numpy as np
import scipy.linalg
from scipy.spatial.distance import cdist

from minicompress.factorize import FactorizedLinear
from minicompress.factorize.dictionaries import (check_indices, gaussian_atoms, identity_atoms,
                                                 random_indices)
from minicompress.rng import as_rng

DICTIONARIES = {  # name: what U is ("learned" is the low-rank baseline: U learned too)
    "se_kernel": "kernel ridge dictionary, squared-exponential kernel on the pixel grid",
    "empirical": "kernel ridge dictionary, empirical covariance of the layer's inputs",
    "random_gaussian": "fixed random atoms U ~ N(0, 1/i)",
    "identity_subset": "columns α of the identity: W is zero outside α (random connectivity)",
    "learned": "both factors learned (low rank, one column, same count)",
}
FIXED = tuple(k for k in DICTIONARIES if k != "learned")  # the kinds column_dictionaries builds


def check_kind(kind: str, kinds=tuple(DICTIONARIES)) -> str:
    """``kind`` if it is one of ``kinds``, else a ValueError listing them."""
    if kind not in kinds:
        raise ValueError(f"dictionary: unknown kind {kind!r}; expected one of {', '.join(kinds)}")
    return kind


# ----- kernels --------------------------------------------------------------------------------
def se_kernel(p: np.ndarray, q: np.ndarray, length_scale: float) -> np.ndarray:
    """k(p, q) = exp(−‖p − q‖² / 2ℓ²) for points p (a, d) and q (b, d) → (a, b): the
    squared-exponential kernel, smooth at the scale ℓ (unit diagonal)."""
    if not length_scale > 0:
        raise ValueError(f"se_kernel: length_scale must be > 0, got {length_scale!r}")
    return np.exp(-cdist(p, q, "sqeuclidean") / (2 * length_scale ** 2))


def empirical_kernel(inputs: np.ndarray) -> np.ndarray:
    """Covariance of the layer's inputs (n, i) → (i, i), scaled to mean diagonal 1 (so that λ
    is relative): the data-driven kernel for inputs without spatial layout."""
    K = np.cov(np.asarray(inputs, np.float64).reshape(len(inputs), -1), rowvar=False)
    return K / K.diagonal().mean()


# ----- the dictionary U_α and the prediction w = U_α w_α ----------------------------------------
def kernel_ridge_dictionary(K: np.ndarray, alpha: np.ndarray, ridge: float) -> np.ndarray:
    """U_α = k_αᵀ (K_αα + λI)⁻¹, (i, |α|), from a kernel matrix K (i, i) over all inputs: the
    kernel ridge predictor, ŵ = U_α w_α, of a whole feature from its values w_α at α.

    As λ → 0 the rows at α tend to the identity (the known values are reproduced exactly);
    λ > 0 trades that for stability where K_αα is ill-conditioned.
    """
    alpha = check_indices(alpha, len(K))
    if not ridge >= 0:
        raise ValueError(f"kernel_ridge_dictionary: ridge must be >= 0, got {ridge!r}")
    A = K[np.ix_(alpha, alpha)] + ridge * np.eye(len(alpha))
    return scipy.linalg.solve(A, K[alpha, :], assume_a="pos").T  # K symmetric: k_α = K_{α·}


def predict_features(W: np.ndarray, U: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """Every feature (a row of W (o, i)) predicted from its values at α: Ŵ = W_{·α} Uᵀ, the
    paper's w = U_α w_α for all rows at once."""
    return W[:, check_indices(alpha, W.shape[1])] @ U.T


# ----- columns: one α and one dictionary per group of hidden units -------------------------------
def column_dictionaries(kind: str, n_inputs: int, n_atoms: int, n_columns: int = 1, *, rng=None,
                        kernel: np.ndarray | None = None, ridge: float = 1e-3):
    """One dictionary per column: (U (J, i, k), α (J, k) or None).

    ``kind``: "se_kernel" or "empirical" (the kernel ridge dictionary of ``kernel`` (i, i), a
    fresh random α per column), "identity_subset" (U = e_α) or "random_gaussian" (N(0, 1/i)).
    """
    check_kind(kind, FIXED)
    rng = as_rng(rng)
    if kind == "random_gaussian":
        return gaussian_atoms(n_inputs, n_atoms, n_columns, rng), None
    alphas = np.stack([random_indices(n_inputs, n_atoms, rng) for _ in range(n_columns)])
    if kind == "identity_subset":
        return identity_atoms(alphas, n_inputs), alphas
    if kernel is None or kernel.shape != (n_inputs, n_inputs):
        raise ValueError(f"dictionary {kind!r}: needs a kernel of shape ({n_inputs}, {n_inputs}), "
                         f"got {None if kernel is None else kernel.shape}")
    return np.stack([kernel_ridge_dictionary(kernel, a, ridge) for a in alphas]), alphas


# ----- how many parameters are learned ----------------------------------------------------------
def atoms_for_fraction(fraction: float, n_inputs: int) -> int:
    """|α| = round(f · n_v), at least 1, for a fraction f in (0, 1] of the weights learned."""
    if not 0 < fraction <= 1:
        raise ValueError(f"fraction: expected a number in (0, 1], got {fraction!r}")
    return max(1, round(fraction * n_inputs))


def low_rank_for_fraction(fraction: float, out_features: int, in_features: int) -> int:
    """Rank r whose two learned factors hold about ``fraction`` of the weights: r(o + i) ≈ f·o·i."""
    atoms_for_fraction(fraction, 1)  # validates the fraction
    return max(1, round(fraction * out_features * in_features / (out_features + in_features)))


def predicted_layer(kind: str, fraction: float, out_features: int, *, n_inputs: int = 784,
                    columns: int = 10, kernel=None, ridge: float = 1e-3, rng=None,
                    dtype=np.float32) -> FactorizedLinear:
    """A layer with ``fraction`` of its weights learned and the rest predicted by dictionary
    ``kind``.

    Every fixed kind has ``columns`` columns of |α| = f·i atoms each, so V holds f·o·i learned
    entries whatever the number of columns. "learned" is the low-rank baseline: one column,
    rank r with r(o + i) ≈ f·o·i, both factors learned (U starts as random_gaussian).
    """
    rng = as_rng(rng)
    if kind == "learned":
        rank = low_rank_for_fraction(fraction, out_features, n_inputs)
        basis, _ = column_dictionaries("random_gaussian", n_inputs, rank, 1, rng=rng)
        return FactorizedLinear(basis, out_features, learn_basis=True, rng=rng, dtype=dtype)
    basis, _ = column_dictionaries(kind, n_inputs, atoms_for_fraction(fraction, n_inputs), columns,
                                   rng=rng, kernel=kernel, ridge=ridge)
    return FactorizedLinear(basis, out_features, rng=rng, dtype=dtype)
