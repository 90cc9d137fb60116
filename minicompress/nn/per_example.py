"""Per-example first derivatives, flattened: the factors of the outer-product curvatures.

Dense curvature matrices of small networks are sums over examples of outer products, and the
methods that invert them (Optimal Brain Surgeon's recursion, WoodFisher, M-FAC) need the
vectors themselves, not only the diagonal that :mod:`minicompress.nn.curvature` returns:

==========================  ===========================================================
function                    rows r, with Σ_r r rᵀ equal to
==========================  ===========================================================
``jacobian_factors``        the generalized Gauss–Newton G = Σ_n J_nᵀ H_n J_n of E
                            (rows J_nᵀ s_nc, H_n = Σ_c s_nc s_ncᵀ the loss Hessian)
``per_example_gradients``   N·F, the empirical Fisher F = (1/N) Σ_n ∇E_n ∇E_nᵀ times N
                            (rows ∇θ E_n, E_n the loss of example n alone)
==========================  ===========================================================

:func:`gauss_newton` sums the outer products chunk by chunk (the P × P matrix, without holding
every row at once).

Parameters are flattened and concatenated in ``model.parameters()`` order (the layout of
:func:`minicompress.nn.curvature.hessian`); masked entries are zero. Each row costs one
backward pass of a batch of one example, so this is for networks and data sets small enough
that a dense P × P matrix is affordable anyway.
"""
from __future__ import annotations

import numpy as np


def _flat_gradient(model, params, g_out) -> np.ndarray:
    """∂(g_outᵀ z)/∂θ for a batch of one whose forward pass has just run, flattened."""
    model.zero_grad()
    model.grad_params(g_out)
    return np.concatenate([p.grad.ravel() for p in params])


def jacobian_factors(model, loss, x, y) -> np.ndarray:
    """Rows J_nᵀ s_nc (n·m, P) whose outer products sum to the Gauss–Newton matrix of E.

    ``loss.hessian_sqrt()`` of the whole batch gives S_n (m columns per example, the loss's
    reduction included: MSE "mean" carries 2/(n·k), cross-entropy 1/n), so Σ_r r rᵀ is exactly
    the matrix whose diagonal :func:`~minicompress.nn.curvature.diag_ggn` returns. Row
    n·m + c belongs to example n and column c.
    """
    params, sqrt = _loss_sqrt(model, loss, x, y)
    return _factor_rows(model, params, x, sqrt, range(len(x)))


def gauss_newton(model, loss, x, y, *, chunk: int = 256) -> np.ndarray:
    """The dense Gauss–Newton matrix G = Σ_n J_nᵀ H_n J_n (P, P) of E, from the rows of
    :func:`jacobian_factors` accumulated ``chunk`` examples at a time."""
    params, sqrt = _loss_sqrt(model, loss, x, y)
    size = sum(p.data.size for p in params)
    G = np.zeros((size, size), np.float64)
    for start in range(0, len(x), chunk):
        rows = _factor_rows(model, params, x, sqrt, range(start, min(start + chunk, len(x))))
        G += rows.T @ rows
    return G


def _loss_sqrt(model, loss, x, y):
    """The parameters, and the loss Hessian's square root S (m, n, k) of the whole batch."""
    loss(model(x), y)
    return model.parameters(), loss.hessian_sqrt()


def _factor_rows(model, params, x, sqrt, examples) -> np.ndarray:
    """J_nᵀ s_nc for the given examples, one batch-of-one forward pass each (n'·m, P)."""
    m = sqrt.shape[0]
    rows = np.empty((len(examples) * m, sum(p.data.size for p in params)), params[0].data.dtype)
    for j, i in enumerate(examples):
        model(x[i:i + 1])
        for c in range(m):
            rows[j * m + c] = _flat_gradient(model, params, sqrt[c, i][None])
    model.zero_grad()
    return rows


def per_example_gradients(model, loss, x, y) -> np.ndarray:
    """∇θ E_n for every example (n, P), E_n = ``loss`` of example n alone (batch of one, same
    reduction): the rows of the empirical Fisher F = (1/n) Σ_n ∇E_n ∇E_nᵀ, whose diagonal
    :func:`~minicompress.nn.curvature.fisher_diag` returns."""
    params = model.parameters()
    rows = np.empty((len(x), sum(p.data.size for p in params)), params[0].data.dtype)
    for i in range(len(x)):
        loss(model(x[i:i + 1]), y[i:i + 1])
        rows[i] = _flat_gradient(model, params, loss.backward())
    model.zero_grad()
    return rows
