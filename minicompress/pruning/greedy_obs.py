"""Greedy Optimal Brain Surgeon deletion for many weight vectors at once: the fast kernel.

Each of R weight vectors w_r (length d) has its own quadratic model ½ δwᵀ H δw with inverse
Hessian A_r = H⁻¹ (shared at the start, as the rows of one layer; or one vector with its own,
as a whole network). Every step deletes, in every row, the weight of least saliency
w_q² / (2 [A]_qq), moves the others by −(w_q / [A]_qq) A e_q, and downdates
A ← A − A e_q e_qᵀ A / [A]_qq: the readable one-step version is
:func:`minicompress.papers.hassibi1993_obs.delete`, and this kernel gives the same weights (to
rounding; the tests hold it to the loop).

Two things make it fast without changing the result:

- lazy downdates: within a batch of B steps the downdates are kept as vectors v_b = A e_q / √c
  (A_now = A_start − Σ_b v_b v_bᵀ), so a step costs O(B·d) per row; at the end of the batch one
  rank-B update per row runs as a matrix product (BLAS level 3) instead of B rank-one updates;
- compaction: the rows and columns of the weights deleted in the batch are cut out of A before
  that update, so the matrices shrink as the weights go (the cost of deleting k of d weights is
  ≈ 2(d³ − (d − k)³)/3 flops per row rather than 2kd²).

Memory: R·d² float64 for the inverses (the caller chunks the rows: 32 rows of 784 inputs take
160 MB), one d² temporary, and the B·d vectors of each row. :func:`inverse` gives the starting
(H + λI)⁻¹. ``minicompress bench obs`` times this kernel against the readable loop of
:func:`~minicompress.papers.hassibi1993_obs.delete` calls (38× slower on a 300 × 784 layer at 90%).
"""
from __future__ import annotations

import numbers

import numpy as np
from scipy.linalg import LinAlgError, blas, cho_factor, cho_solve

LAZY = 64  # steps per batch of lazy downdates (a speed setting; the result does not depend on it)


def greedy_delete(w: np.ndarray, h_inv: np.ndarray, stops: np.ndarray, dead: np.ndarray,
                  keep_inverse: bool = False):
    """Delete weights greedily by OBS saliency in every row; record the weights at given steps.

    Parameters
    ----------
    w : (R, d) float64
        The weights.
    h_inv : (d, d) or (R, d, d) float64
        The inverse Hessian, shared by all rows or one per row; rows and columns of weights
        that are already deleted must be zero (see ``dead``).
    stops : (R, L) int
        After how many deletions of its own each row is recorded (non-decreasing along L).
    dead : (R, d) bool
        Entries already deleted (kept at zero, never chosen).
    keep_inverse : bool
        Also return the downdated inverse of every row at the last step, full size (d, d) with
        the deleted rows and columns zero.

    Returns
    -------
    records : (L, R, d) float64, the weights at each stop (deleted entries exactly 0)
    kept : (L, R, d) bool, the entries not deleted at each stop
    increases : (L, R) float64, the sum of the saliencies of the weights deleted so far
    h_inv_last : (R, d, d) float64 or None
    """
    R, d = w.shape
    steps = int(stops.max()) if stops.size else 0
    buffer = np.empty(R * d * d)  # the inverses, compacted in place as they shrink
    A = buffer.reshape(R, d, d)
    A[...] = h_inv
    w, dead = w.astype(np.float64, copy=True), dead.copy()
    w[dead] = 0
    diag = np.diagonal(A, axis1=1, axis2=2).copy()
    index = np.broadcast_to(np.arange(d), (R, d)).copy()  # original column of each kept entry
    rows = np.arange(R)
    records, increases = np.zeros((stops.shape[1], R, d)), np.zeros((stops.shape[1], R))
    kept, total = np.zeros(records.shape, bool), np.zeros(R)
    _record(records, kept, increases, stops, 0, w, dead, index, total)
    done = 0
    while done < steps:
        batch, m = min(LAZY, steps - done), A.shape[1]
        V = np.zeros((R, batch, m))
        cut = np.zeros((R, m), bool)  # deleted in this batch: cut out at its end
        for b in range(batch):
            with np.errstate(divide="ignore", invalid="ignore"):
                score = np.where(dead, np.inf, w * w / (2 * diag))
            q = np.argmin(score, axis=1)
            live = np.isfinite(score[rows, q])  # a row with nothing left to delete idles
            u = A[rows, q, :] - np.matmul(V[rows, :b, q][:, None, :], V[:, :b, :])[:, 0, :]
            c = np.where(live, u[rows, q], 1.0)
            u[~live] = 0
            total += np.where(live, score[rows, q], 0.0)
            w -= (w[rows, q] / c)[:, None] * u  # δw = −(w_q / [H⁻¹]_qq) H⁻¹ e_q
            w[rows, q] = 0
            u /= np.sqrt(c)[:, None]
            V[:, b] = u
            diag -= u * u
            dead[rows, q] = cut[rows, q] = True
            _record(records, kept, increases, stops, done + b + 1, w, dead, index, total)
        keep = np.argsort(cut, axis=1, kind="stable")[:, :m - batch]  # uncut entries, in order
        A = _compact_and_update(A, V, keep, buffer)
        w, diag, dead, index = (np.take_along_axis(a, keep, 1) for a in (w, diag, dead, index))
        done += batch
    last = None
    if keep_inverse:
        last = np.zeros((R, d, d))
        for r in range(R):
            last[r][np.ix_(index[r], index[r])] = A[r]
    return records, kept, increases, last


def _record(records, kept, increases, stops, step, w, dead, index, total) -> None:
    """Copy the rows whose stop is ``step`` (entries deleted exactly 0; entries cut out of the
    matrices earlier are deleted and stay 0)."""
    for j, r in zip(*np.nonzero(stops.T == step)):
        records[j, r, index[r]] = np.where(dead[r], 0.0, w[r])
        kept[j, r, index[r]] = ~dead[r]
        increases[j, r] = total[r]


def _compact_and_update(A, V, keep, buffer) -> np.ndarray:
    """A[keep, keep] − VᵀV[keep, keep] for every row: cut, then one rank-B update, in place.

    Row r's smaller matrix is written at r·m2² of the same buffer, which never overlaps the
    matrices of rows still to be read (they start at r'·m² ≥ (r + 1)·m2² for r' > r)."""
    R, m2 = keep.shape
    V = np.take_along_axis(V, keep[:, None, :], axis=2)
    out = buffer[:R * m2 * m2].reshape(R, m2, m2)
    for r in range(R):
        rows = A[r].take(keep[r], axis=0)  # a copy: row r's old matrix may now be overwritten
        rows.take(keep[r], axis=1, out=out[r])
        # out[r] is symmetric, so its C-ordered buffer is also the Fortran-ordered one BLAS updates
        blas.dgemm(-1.0, V[r], V[r], beta=1.0, c=out[r].T, trans_a=1, overwrite_c=1)
    return out


def inverse(h, damping: float = 0.0) -> np.ndarray:
    """(H + λI)⁻¹ of a symmetric positive definite H (P, P), by Cholesky; a clear error when
    H + λI is singular or indefinite."""
    h = np.asarray(h, dtype=np.float64)
    if h.ndim != 2 or h.shape[0] != h.shape[1] or not np.isfinite(h).all():
        raise ValueError(f"inverse: H must be a finite square matrix, got shape {h.shape}")
    if not damping >= 0:
        raise ValueError(f"inverse: damping must be >= 0, got {damping!r}")
    h = (h + h.T) / 2 + damping * np.eye(len(h))
    scale = max(float(np.abs(np.diagonal(h)).max(initial=0.0)), np.finfo(float).tiny)
    try:
        factor = cho_factor(h)
    except LinAlgError:
        factor = None
    if factor is None or np.diagonal(factor[0]).min() ** 2 <= 10 * len(h) * np.finfo(float).eps * scale:
        raise ValueError(f"inverse: H + {damping}·I ({len(h)} × {len(h)}) is singular or not positive "
                         f"definite; pass damping > 0 (e.g. 1e-4 × the mean of diag H = "
                         f"{float(np.mean(np.diagonal(h))):.3g})")
    return cho_solve(factor, np.eye(len(h)))


def check_mask(mask, shape, who: str) -> np.ndarray:
    """``mask`` as an array if it is 0/1 of ``shape``, else a ValueError naming ``who``."""
    mask = np.asarray(mask)
    if mask.shape != tuple(shape) or not np.isin(mask, (0, 1)).all():
        raise ValueError(f"{who}: mask must be a 0/1 array of shape {tuple(shape)}, got "
                         f"{mask.dtype} array of shape {mask.shape}")
    return mask


def check_fraction(s, who: str) -> float:
    """``s`` as a float if it is a sparsity in [0, 1), else a ValueError naming ``who``."""
    if isinstance(s, (bool, np.bool_)) or not isinstance(s, numbers.Real) or not 0 <= s < 1:
        raise ValueError(f"{who}: sparsity must be a fraction in [0, 1), got {s!r}")
    return float(s)
