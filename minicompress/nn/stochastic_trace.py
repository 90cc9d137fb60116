"""Stochastic estimates of the Hessian's trace from Hessian-vector products: Hutchinson's
(1989) Rademacher estimator and Hutch++ (Meyer, Musco, Musco & Woodruff 2021), in total or per
parameter (HAWQ-V2's average trace per layer)."""
from __future__ import annotations

import numpy as np

from minicompress.nn.hessian_operator import HessianOperator, int_at_least, rademacher
from minicompress.rng import as_rng

METHODS = ("hutchinson", "hutch++")


def trace(model, loss, x, y, *, n: int = 100, rng=None, method: str = "hutchinson",
          per_layer: bool = False, params=None):
    """Estimate Tr(H), or with ``per_layer`` each parameter's Tr(H_pp), from n hvps.

    ``"hutchinson"``: (1/n) Σ_k v_kᵀHv_k with Rademacher v_k (E[vvᵀ] = I, so unbiased; the
    variance of one probe is 2(‖H‖_F² − Σ_i H_ii²)). The per-parameter values are v_pᵀ(Hv)_p of
    the same probes (E = Tr(H_pp), since the cross terms average out).

    ``"hutch++"`` (Meyer, Musco, Musco & Woodruff 2021): n ≥ 3; m = ⌊n/3⌋ Rademacher sketch
    columns S, Q = orth(HS) (r ≤ m columns), then Tr(H) = tr(QᵀHQ) + Tr((I − QQᵀ)H(I − QQᵀ)),
    the first exact from HQ, the second by Hutchinson with the n − m − r remaining probes
    projected by I − QQᵀ. Variance O(1/n²) instead of O(1/n) when the spectrum decays; exact
    when Q spans the space (3P ≤ n). Per parameter: tr(Q_pᵀ(HQ)_p) + mean of w_pᵀ(Hw)_p,
    w = (I − QQᵀ)g, unbiased for Tr(H_pp) since Tr(D_p H P⊥) = Tr(P⊥D_p H P⊥).

    Either way the per-parameter values sum to the total, and n hvps are used (Hutch++: fewer
    when Q already spans the whole space, as nothing is left to estimate).

    Returns
    -------
    float, or a list of floats aligned with the selected parameters (``per_layer=True``).
    """
    who = "trace"
    if method not in METHODS:
        raise ValueError(f"{who}: method must be one of {METHODS}, got {method!r}")
    n = int_at_least(n, who, "n", 3 if method == "hutch++" else 1)
    if not isinstance(per_layer, (bool, np.bool_)):
        raise TypeError(f"{who}: per_layer must be True or False, got {per_layer!r}")
    op, rng = HessianOperator(model, loss, x, y, params, who), as_rng(rng)
    bounds = np.cumsum([0] + [int(np.prod(s)) for s in op.shapes])

    def per_block(a, b):  # Σ over columns of a_pᵀ b_p for each parameter p
        return np.array([np.sum(a[i:j] * b[i:j]) for i, j in zip(bounds[:-1], bounds[1:])])

    def apply(V):  # H V, column by column
        return np.column_stack([op(v) for v in V.T]) if V.shape[1] else np.zeros_like(V)

    if method == "hutchinson":
        V = np.column_stack([rademacher(rng, op.size) for _ in range(n)])
        parts = per_block(V, apply(V)) / n
    else:
        m = n // 3
        S = np.column_stack([rademacher(rng, op.size) for _ in range(m)])
        U, s, _ = np.linalg.svd(apply(S), full_matrices=False)
        Q = U[:, s > s[0] * max(op.size, m) * np.finfo(np.float64).eps] if s[0] > 0 else U[:, :0]
        parts = per_block(Q, apply(Q))
        probes = n - m - Q.shape[1]
        if Q.shape[1] < op.size:  # else the projected remainder is exactly zero
            G = np.column_stack([rademacher(rng, op.size) for _ in range(probes)])
            W = G - Q @ (Q.T @ G)
            parts = parts + per_block(W, apply(W)) / probes
    return [float(t) for t in parts] if per_layer else float(parts.sum())
