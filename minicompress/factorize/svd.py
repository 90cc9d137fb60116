"""Low-rank factorization of a weight matrix by the truncated SVD, the baseline of every
factorization paper: W (o, i) ≈ L Rᵀ with L (o, r), R (i, r), which as two layers costs
r·(o + i) parameters instead of o·i.
"""
from __future__ import annotations

import numpy as np

from minicompress.factorize.linear import FactorizedLinear


def truncated_svd(W: np.ndarray, rank: int):
    """W (o, i) ≈ left @ rightᵀ with left = U_r Σ_r (o, r), right = V_r (i, r): the best
    rank-r approximation in the Frobenius norm (Eckart–Young), with error √(Σ_{j>r} σ_j²).

    Returns left, right and all singular values σ (descending)."""
    if not 1 <= rank <= min(W.shape):
        raise ValueError(f"truncated_svd: rank must be in [1, {min(W.shape)}], got {rank!r}")
    u, s, vt = np.linalg.svd(W, full_matrices=False)
    return u[:, :rank] * s[:rank], vt[:rank].T, s


def relative_error(W: np.ndarray, W_hat: np.ndarray) -> float:
    """‖W − Ŵ‖_F / ‖W‖_F."""
    return float(np.linalg.norm(W - W_hat) / np.linalg.norm(W))


def svd_layer(linear, rank: int) -> FactorizedLinear:
    """The truncated SVD of a trained ``Linear`` as a FactorizedLinear with both factors learned
    (V = left, U = right; the bias copied), ready to be fine-tuned: r·(o + i) + o parameters."""
    left, right, _ = truncated_svd(linear.weight.value().astype(np.float64), rank)
    layer = FactorizedLinear(right, linear.out_features, bias=linear.bias is not None,
                             learn_basis=True, rng=0, dtype=linear.weight.data.dtype)
    layer.coefficients.data[...] = left
    if linear.bias is not None:
        layer.bias.data[...] = linear.bias.value()
    return layer
