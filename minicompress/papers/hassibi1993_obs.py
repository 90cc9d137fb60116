"""Optimal Brain Surgeon: delete the weight whose removal costs least, and move the others.

B. Hassibi, D. G. Stork. "Second order derivatives for network pruning: Optimal Brain
Surgeon." Advances in Neural Information Processing Systems 5 (NIPS 1992), 164–171, Morgan
Kaufmann, 1993; B. Hassibi, D. G. Stork, G. J. Wolff. "Optimal Brain Surgeon and general
network pruning." IEEE International Conference on Neural Networks (ICNN), 1993.

The idea. At a minimum of the error E, a change δw of the weights changes E by
δE = ½ δwᵀ H δw (the gradient term vanishes; cubic terms dropped). Deleting weight q is the
constraint e_qᵀ δw + w_q = 0. Optimal Brain Damage drops H's off-diagonal terms and moves
nothing else; OBS keeps them and solves the constrained problem [HS93: Lagrangian]:

    min_q  min_δw  ½ δwᵀ H δw   subject to   e_qᵀ δw + w_q = 0
    δw  = −(w_q / [H⁻¹]_qq) H⁻¹ e_q                  (all other weights move)
    L_q = ½ w_q² / [H⁻¹]_qq                          (the saliency: δE of that deletion)

OBD is the case H = diag(h_kk) (then L_q = ½ h_qq w_q² and δw touches w_q only); magnitude
pruning is H ∝ I. After a deletion the inverse Hessian of the remaining weights is the Schur
complement, an exact rank-one downdate (no re-inversion):

    H⁻¹ ← H⁻¹ − H⁻¹ e_q e_qᵀ H⁻¹ / [H⁻¹]_qq           (row and column q become 0)

and deleting a set Q at once is the same with blocks [Stahlberger & Riedmiller 1997]:

    δw = −H⁻¹ E_Q [H⁻¹]_QQ⁻¹ w_Q,   L_Q = ½ w_Qᵀ [H⁻¹]_QQ⁻¹ w_Q,
    H⁻¹ ← H⁻¹ − H⁻¹ E_Q [H⁻¹]_QQ⁻¹ E_Qᵀ H⁻¹.

The Hessian [HS93: outer-product approximation]. Near a minimum of a squared error the
residuals are small and H ≈ (1/P) Σ_k X_k X_kᵀ, X_k = ∂F(w, in_k)/∂w over the P patterns (the
Gauss–Newton matrix; for several outputs, one X per output). Its inverse is built one pattern
at a time by the matrix inversion lemma, from H₀⁻¹ = α⁻¹ I with a small α (10⁻⁸…10⁻⁴):

    H⁻¹_{m+1} = H⁻¹_m − H⁻¹_m X_{m+1} X_{m+1}ᵀ H⁻¹_m / (P + X_{m+1}ᵀ H⁻¹_m X_{m+1})

so the α of H₀ is the damping λ: H = λI + (1/P) Σ X Xᵀ. :func:`inverse_hessian` offers the
exact Hessian (:func:`minicompress.nn.curvature.hessian`), this Gauss–Newton form and the
empirical Fisher, each plus λI. The paper's equation numbers could not be checked against its
PDF here, so the tags above name the step instead.

Layer-wise OBS (Dong, Chen & Pan 2017; Optimal Brain Compression, Frantar & Alistarh 2022).
For networks whose full Hessian is too large, prune each layer to reproduce its own outputs on
sample inputs X (n, d): row r of W contributes ‖X (w_r − ŵ_r)‖², whose Hessian H = 2 XᵀX (+ λI)
is the same for every row, so each row is an OBS problem of size d with its own downdated
inverse. The fast kernel, its cost and memory are in :mod:`minicompress.pruning.greedy_obs`;
``minicompress bench obs`` times it against the readable loop of :func:`delete` calls.
"""
from __future__ import annotations

import numbers

import numpy as np
from scipy.linalg import LinAlgError, cho_factor, cho_solve

from minicompress.nn import curvature
from minicompress.nn.per_example import jacobian_factors, per_example_gradients
from minicompress.pruning.greedy_obs import check_fraction, check_mask, greedy_delete, inverse

CHUNK_BYTES = 160e6  # inverse Hessians held at once by prune_layerwise


# ----- one deletion --------------------------------------------------------------------------------
def saliency(w, h_inv) -> np.ndarray:
    """L_q = w_q² / (2 [H⁻¹]_qq) for every q (P,); +inf where [H⁻¹]_qq = 0 (already deleted)."""
    w, h_inv = _check(w, h_inv, "saliency")
    d = np.diagonal(h_inv)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(d == 0, np.inf, w * w / (2 * d))


def delete(w, h_inv, q: int):
    """One OBS step: delete weight q, move the others by δw, downdate H⁻¹.

    Returns (w_new, h_inv_new), new arrays: w_new[q] == 0 exactly; h_inv_new keeps the shape
    (P, P) with row and column q zero, so indices stay those of the full weight vector.
    """
    w, h_inv = _check(w, h_inv, "delete")
    if isinstance(q, (bool, np.bool_)) or not isinstance(q, numbers.Integral) or not 0 <= q < w.size:
        raise ValueError(f"delete: q must be an int index in [0, {w.size}), got {q!r}")
    column, c = h_inv[:, q], h_inv[q, q]
    if not c > 0 or not np.isfinite(column).all():
        raise ValueError(f"delete: [H⁻¹]_qq must be finite and > 0, got {c} at q={q} (already "
                         f"deleted, or H not positive definite)")
    w_new = w - (w[q] / c) * column
    h_new = h_inv - np.outer(column, column) / c
    w_new[q] = 0.0
    h_new[q, :] = h_new[:, q] = 0.0
    return w_new, h_new


def delete_block(w, h_inv, qs):
    """Delete the weights ``qs`` together (the constrained minimum for all of them at once).

    Returns (w_new, h_inv_new, L_Q) with L_Q = ½ w_Qᵀ [H⁻¹]_QQ⁻¹ w_Q, the predicted increase."""
    w, h_inv = _check(w, h_inv, "delete_block")
    qs = np.unique(np.asarray(qs, dtype=np.int64))
    if qs.size == 0 or qs.min() < 0 or qs.max() >= w.size:
        raise ValueError(f"delete_block: qs must be indices in [0, {w.size}), got {qs.tolist()}")
    columns = h_inv[:, qs]  # H⁻¹ E_Q (P, |Q|)
    try:
        solve = cho_factor(h_inv[np.ix_(qs, qs)])
    except LinAlgError:
        raise ValueError(f"delete_block: [H⁻¹]_QQ is not positive definite for Q={qs.tolist()} "
                         f"(a weight already deleted?)") from None
    lam = cho_solve(solve, w[qs])  # [H⁻¹]_QQ⁻¹ w_Q
    w_new = w - columns @ lam
    h_new = h_inv - columns @ cho_solve(solve, columns.T)
    w_new[qs] = 0.0
    h_new[qs, :] = h_new[:, qs] = 0.0
    return w_new, h_new, 0.5 * float(w[qs] @ lam)


def restrict(h_inv, deleted) -> np.ndarray:
    """The inverse Hessian of the weights not ``deleted`` (a bool mask), as H⁻¹ after deleting
    them: the block downdate, with their rows and columns zero. Weights do not move."""
    h_inv = np.array(h_inv, dtype=np.float64)
    qs = np.flatnonzero(np.asarray(deleted, bool) & (np.diagonal(h_inv) != 0))
    if qs.size:
        h_inv = delete_block(np.zeros(len(h_inv)), h_inv, qs)[1]
    return h_inv


# ----- many deletions --------------------------------------------------------------------------------
def prune(w, h_inv, count: int, *, mask=None, block_size: int = 1):
    """Delete ``count`` more weights by OBS, lowest saliency first, H⁻¹ downdated after each.

    ``mask`` (0/1, shape of w): zeros are deleted already; they stay 0 and are never chosen
    (their rows of H⁻¹ are removed first by :func:`restrict`). ``block_size`` > 1 deletes the
    ``block_size`` lowest saliencies together at each step (:func:`delete_block`): fewer steps,
    each the exact constrained minimum for its block, but a choice that no longer sees how one
    deletion changes the others' saliencies. Returns (w_new, h_inv_new, increase): increase = Σ
    of the deleted saliencies, the predicted rise of E (the exact rise of the quadratic model).
    """
    w, h_inv = _check(w, h_inv, "prune")
    dead = np.diagonal(h_inv) == 0
    if mask is not None:
        mask = check_mask(mask, w.shape, "prune")
        dead |= mask == 0
        h_inv = restrict(h_inv, dead)
    if isinstance(count, (bool, np.bool_)) or not isinstance(count, numbers.Integral) \
            or not 0 <= count <= np.sum(~dead):
        raise ValueError(f"prune: count must be an int in [0, {np.sum(~dead)}] (weights left), got {count!r}")
    if block_size == 1:
        records, _, increase, last = greedy_delete(w[None], h_inv, np.array([[count]]), dead[None],
                                                   keep_inverse=True)
        return records[0, 0], last[0], float(increase[0, 0])
    total, w = 0.0, np.where(dead, 0.0, w)
    while count > 0:
        qs = np.argsort(saliency(w, h_inv), kind="stable")[:min(block_size, count)]
        w, h_inv, cost = delete_block(w, h_inv, qs)
        total, count = total + cost, count - len(qs)
    return w, h_inv, total


def prune_loop(w, h_inv, count: int):
    """The readable version of :func:`prune` (one :func:`delete` per weight): the reference
    the fast kernel is tested against. Returns (w_new, h_inv_new, increase)."""
    total = 0.0
    for _ in range(count):
        scores = saliency(w, h_inv)
        q = int(np.argmin(scores))
        total += float(scores[q])
        w, h_inv = delete(w, h_inv, q)
    return w, h_inv, total


# ----- the inverse Hessian ------------------------------------------------------------------------------
def outer_product_inverse(vectors, alpha: float, *, scale: float = 1.0, block: int = 1) -> np.ndarray:
    """(αI + scale·Σ_k x_k x_kᵀ)⁻¹ by the paper's recursion, from H₀⁻¹ = α⁻¹I, one vector at a
    time (``block`` = 1; scale = 1/P gives the paper's denominator P + xᵀH⁻¹x), or ``block``
    vectors at a time by the Woodbury identity (same matrix, faster). vectors: (N, P)."""
    vectors = np.asarray(vectors, dtype=np.float64)
    if vectors.ndim != 2 or not np.isfinite(vectors).all():
        raise ValueError(f"outer_product_inverse: vectors must be a finite (N, P) array, got shape "
                         f"{vectors.shape}")
    if not alpha > 0 or not scale > 0:
        raise ValueError(f"outer_product_inverse: alpha and scale must be > 0, got {alpha!r}, {scale!r}")
    h_inv = np.eye(vectors.shape[1]) / alpha
    for start in range(0, len(vectors), block):
        x = vectors[start:start + block].T  # (P, b)
        hx = h_inv @ x
        inner = np.eye(x.shape[1]) / scale + x.T @ hx  # b = 1: P + xᵀH⁻¹x (times 1/P)
        h_inv -= hx @ np.linalg.solve(inner, hx.T)
    return (h_inv + h_inv.T) / 2


def inverse_hessian(model, loss, x, y, *, kind: str = "outer_product", damping: float = 1e-4,
                    recursive: bool = True) -> np.ndarray:
    """H⁻¹ (P, P) of E = loss(model(x), y) for all parameters, flattened in ``model.parameters()``
    order, with H one of "exact" (the dense Hessian), "outer_product" (the paper's Gauss–Newton
    form Σ J_nᵀ H_n J_n, by the recursion unless ``recursive=False``) or "fisher" (the empirical
    Fisher (1/n) Σ ∇E_n ∇E_nᵀ), plus damping·I. Masked parameters' rows and columns are zero."""
    params = model.parameters()
    free = np.concatenate([np.ones(p.data.size, bool) if p.mask is None else p.mask.ravel() != 0
                           for p in params])
    if kind == "exact":
        h = curvature.hessian(model, loss, x, y)[np.ix_(free, free)]
        inner = inverse(h, damping)
    elif kind in ("outer_product", "fisher"):
        factors = jacobian_factors if kind == "outer_product" else per_example_gradients
        rows = factors(model, loss, x, y)
        scale = 1.0 if kind == "outer_product" else 1.0 / len(x)
        rows = rows[:, free]
        inner = outer_product_inverse(rows, damping, scale=scale) if recursive and damping > 0 \
            else inverse(scale * rows.T @ rows, damping)
    else:
        raise ValueError(f"inverse_hessian: kind must be 'exact', 'outer_product' or 'fisher', got {kind!r}")
    h_inv = np.zeros((free.size, free.size))
    h_inv[np.ix_(free, free)] = inner
    return h_inv


# ----- layer-wise OBS ----------------------------------------------------------------------------------
def prune_layerwise(W, X, sparsity: float, *, damping: float = 0.0, mask=None):
    """Layer-wise OBS (OBC): every row of W (out, in) pruned to ``sparsity`` by OBS on
    ‖X (w_r − ŵ_r)‖², H = 2 XᵀX + damping·I, X (n, in) the layer's sample inputs.

    Returns (W_new, mask): W_new in W's dtype with exactly round(sparsity · in) zeros per row
    (more where ``mask`` already deleted more), each row's remaining weights the least-squares
    fit of its original outputs on X; mask (out, in) 0/1 of W's dtype.
    """
    (W_new, new_mask), = layerwise_path(W, X, [sparsity], damping=damping, mask=mask)
    return W_new, new_mask


def layerwise_path(W, X, sparsities, *, damping: float = 0.0, mask=None) -> list:
    """:func:`prune_layerwise` at several sparsities in one greedy pass (the deletion order of
    each row does not depend on where it stops): a list of (W_new, mask), one per sparsity."""
    W0 = np.asarray(W)
    if W0.ndim != 2 or not np.issubdtype(W0.dtype, np.floating) or not np.isfinite(W0).all():
        raise ValueError(f"prune_layerwise: W must be a finite floating-point (out, in) array, "
                         f"got {W0.dtype} array of shape {W0.shape}")
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2 or X.shape[1] != W0.shape[1] or not np.isfinite(X).all():
        raise ValueError(f"prune_layerwise: X must be a finite (n, {W0.shape[1]}) array of the "
                         f"layer's inputs, got shape {X.shape}")
    levels = [check_fraction(s, "prune_layerwise") for s in sparsities]
    out, d = W0.shape
    dead = np.zeros(W0.shape, bool) if mask is None else check_mask(mask, W0.shape, "prune_layerwise") == 0
    h_inv = inverse(2 * X.T @ X, damping)
    targets = np.array([round(s * d) for s in levels])
    stops = np.maximum(targets[None, :] - dead.sum(axis=1, keepdims=True), 0)
    result, kept = np.zeros((len(levels), out, d)), np.zeros((len(levels), out, d), bool)
    chunk = max(1, int(CHUNK_BYTES // (8 * d * d)))
    for start in range(0, out, chunk):
        rows = slice(start, start + chunk)
        shared = h_inv if not dead[rows].any() else np.stack([restrict(h_inv, r) for r in dead[rows]])
        result[:, rows], kept[:, rows] = greedy_delete(W0[rows].astype(np.float64), shared, stops[rows],
                                                       dead[rows])[:2]
    if not np.isfinite(result).all():
        raise ValueError("prune_layerwise: the downdates lost precision (H nearly singular); "
                         "increase damping")
    return [(r.astype(W0.dtype), k.astype(W0.dtype)) for r, k in zip(result, kept)]


# ----- input checks ----------------------------------------------------------------------------------
def _check(w, h_inv, who: str):
    w = np.asarray(w, dtype=np.float64)
    h_inv = np.asarray(h_inv, dtype=np.float64)
    if w.ndim != 1 or not np.isfinite(w).all():
        raise ValueError(f"{who}: w must be a finite flat weight vector (P,), got shape {w.shape}")
    if h_inv.shape != (w.size, w.size):
        raise ValueError(f"{who}: h_inv must be ({w.size}, {w.size}) for {w.size} weights, got {h_inv.shape}")
    return w, h_inv
