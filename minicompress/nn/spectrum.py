"""The Hessian's spectrum from Hessian-vector products: top eigenvalues and the density.

Every function takes (model, loss, x, y), runs one forward pass, then calls the exact ``hvp``
(Pearlmutter's R-operator, never finite differences) on the Hessian H of the loss E — the
matrix :func:`~minicompress.nn.curvature.hessian` would form, (P, P) over the parameters
flattened in ``model.parameters()`` order, or over ``params=`` alone (then H is that diagonal
block). Masked entries are zero rows and columns of H, as in ``hessian``. The arithmetic is in
float64 whatever the model's dtype. As in PyHessian (Yao et al. 2020):

=================  ============================================================  ===============
function           what it computes                                               cost (hvps)
=================  ============================================================  ===============
top_eigenvalues    the k largest (algebraic) eigenvalues and eigenvectors:        ≈ tens
                   Lanczos with full reorthogonalization, or power iteration
                   with deflation (the teaching variant)
trace              Tr(H), or each parameter's Tr(H_pp): Hutchinson, Hutch++       n
                   (in :mod:`minicompress.nn.stochastic_trace`)
spectral_density   stochastic Lanczos quadrature: nodes and weights of a          n_probes·n_lanczos
                   discrete measure approximating (1/P) Σ_i δ(t − λ_i)
=================  ============================================================  ===============

Lanczos [Lanczos 1950; Golub & Van Loan §10.1]: from a unit q₁, the Krylov basis
q_{j+1} β_j = H q_j − α_j q_j − β_{j−1} q_{j−1}, α_j = q_jᵀHq_j, makes QᵀHQ = T tridiagonal;
the eigenvalues θ (Ritz values) of T approximate H's extreme eigenvalues first, and the Ritz
pair (θ, Qs) has residual ‖HQs − θQs‖ = β_m |s_m|. In floating point the q_j lose
orthogonality; reorthogonalizing each new vector against all earlier ones (twice) keeps them
orthogonal at the price of storing them. A repeated eigenvalue is seen once per Krylov space;
when the space closes (β ≈ 0) the iteration restarts from a fresh random vector orthogonal to it.
"""
from __future__ import annotations

import numbers
import warnings

import numpy as np

from minicompress.nn.checks import check_finite
from minicompress.nn.hessian_operator import (HessianOperator, int_at_least, orthogonalize,
                                              rademacher, unit_random)
from minicompress.rng import as_rng

METHODS = ("lanczos", "power")


# ----- Lanczos --------------------------------------------------------------------------------
def lanczos(op, q: np.ndarray, steps: int, rng=None, restart: bool = True):
    """Run Lanczos with full reorthogonalization from the unit vector ``q``.

    A generator: after step j it yields (alpha (j,), beta (j,), Q (list of j unit vectors))
    where beta[-1] = ‖r_j‖ is the norm of the new residual (not yet in T). When the residual
    vanishes (an invariant subspace) the iteration stops, or with ``restart`` continues from a
    random vector orthogonal to Q (beta[-1] is then 0 and T splits into blocks).
    """
    Q, alpha, beta = [q], [], []
    for j in range(min(steps, op.size)):
        w = op(Q[-1])
        alpha.append(float(Q[-1] @ w))
        w = orthogonalize(w, Q)  # the three-term recurrence is part of this projection
        b = float(np.linalg.norm(w))
        scale = max(np.abs(alpha).max(), max(beta, default=0.0))
        if b <= 1e-10 * scale or b == 0.0:
            b = 0.0
        yield np.array(alpha), np.array(beta + [b]), Q
        if j + 1 == op.size or (b == 0.0 and not restart):
            return
        beta.append(b)
        Q.append(w / b if b > 0 else unit_random(as_rng(rng), op.size, Q))


def _tridiagonal(alpha: np.ndarray, beta: np.ndarray) -> np.ndarray:
    return np.diag(alpha) + np.diag(beta, 1) + np.diag(beta, -1)


def _lanczos_top(op, k, tol, max_iter, rng, q):
    history = []
    for alpha, beta, Q in lanczos(op, q, max_iter, rng):
        theta, S = np.linalg.eigh(_tridiagonal(alpha, beta[:-1]))
        theta, S = theta[::-1], S[:, ::-1]  # decreasing
        history.append(float(theta[0]))
        residuals = beta[-1] * np.abs(S[-1, :k])
        scale = np.abs(theta).max()
        closed = beta[-1] == 0 and len(alpha) < op.size  # restarting: copies may be missing
        converged = len(alpha) >= k and not closed and bool((residuals <= tol * scale).all())
        if converged:
            break
    vectors = np.array(Q[:len(alpha)]).T @ S[:, :k]
    return theta[:k], vectors, dict(converged=converged, history=history,
                                    residuals=residuals if len(alpha) >= k else None)


# ----- power iteration with deflation -----------------------------------------------------------
def _power_one(op, found, shift, tol, max_iter, history, scale0, v):
    """Power iteration on (H − shift·I) restricted to the complement of ``found``, from the
    unit vector v: converges to its eigenvalue of largest magnitude. Returns (λ of H, v,
    converged, residual)."""
    lam, residual = 0.0, np.inf
    for _ in range(max_iter):
        w = orthogonalize(op(v) - shift * v, found)
        theta = float(v @ w)  # the Rayleigh quotient of the shifted operator
        lam, residual = theta + shift, float(np.linalg.norm(w - theta * v))
        history.append(lam)
        if residual <= tol * max(scale0, abs(lam), abs(shift)):
            return lam, v, True, residual
        norm = np.linalg.norm(w)
        if norm == 0.0:  # v is in the null space of the shifted operator
            return lam, v, True, 0.0
        v = w / norm
    return lam, v, False, residual


def _power_top(op, k, tol, max_iter, rng, q):
    values, found, history, residuals, ok = [], [], [], [], True
    for _ in range(k):
        scale = float(np.abs(values).max(initial=0.0))
        start = q if not found else unit_random(rng, op.size, found)
        lam, v, conv, res = _power_one(op, found, 0.0, tol, max_iter, history, scale, start)
        if lam < 0:  # the dominant eigenvalue is negative: shift so that H − λI ⪰ 0 there
            lam, v, conv, res = _power_one(op, found, lam, tol, max_iter, history,
                                           max(scale, abs(lam)), unit_random(rng, op.size, found))
        values.append(lam)
        found.append(v)
        residuals.append(res)
        ok = ok and conv
    order = np.argsort(values)[::-1]  # deflation finds them in order unless not converged
    return (np.array(values)[order], np.array(found).T[:, order],
            dict(converged=ok, history=history, residuals=np.array(residuals)[order]))


def top_eigenvalues(model, loss, x, y, k: int = 1, *, tol: float = 1e-6, max_iter: int = 100,
                    rng=None, method: str = "lanczos", params=None, v0=None,
                    return_info: bool = False):
    """The k largest (algebraic) eigenvalues of the Hessian and their eigenvectors.

    Parameters
    ----------
    k : int
        How many, 1 ≤ k ≤ P (the number of selected parameter entries).
    tol : float
        Stop when every one of the k Ritz pairs (θ, v) has ‖Hv − θv‖ ≤ tol·‖H‖ (‖H‖ estimated by
        the largest |θ| seen). Then an eigenvalue lies within tol·‖H‖ of θ, and within
        (tol·‖H‖)²/gap when the next eigenvalue is a gap away.
    max_iter : int
        Lanczos: at most this many steps (hvps). Power: at most this many per eigenvalue and
        run (a run with a shift is added when the dominant eigenvalue is negative, since power
        iteration finds the one of largest magnitude).
    rng : the random start vector (and restarts).
    method : "lanczos" (default) or "power" (deflation: each vector is iterated in the
        orthogonal complement of those already found).
    params : None (all), a Parameter, a Module or a list of Parameters: the eigenpairs of that
        diagonal block of H.
    v0 : optional start vector, one array per selected parameter.
    return_info : also return a dict: hvps (the number of Hessian-vector products), converged,
        residuals, history (the estimate of the top eigenvalue after each hvp).

    Returns
    -------
    values : ndarray (k,), float64, decreasing
    vectors : list of k lists of arrays (one per selected parameter), unit norm over them all,
        signed so that the entry of largest magnitude is positive.

    A warning is issued when ``max_iter`` is reached before ``tol``. Lanczos keeps every basis
    vector (up to ``max_iter`` float64 vectors of P entries: 3.4 MB each for LeNet-5).
    """
    who = "top_eigenvalues"
    if method not in METHODS:
        raise ValueError(f"{who}: method must be one of {METHODS}, got {method!r}")
    k, max_iter = int_at_least(k, who, "k"), int_at_least(max_iter, who, "max_iter")
    if not (isinstance(tol, numbers.Real) and np.isfinite(tol) and tol > 0):
        raise ValueError(f"{who}: tol must be a positive finite number, got {tol!r}")
    op = HessianOperator(model, loss, x, y, params, who)
    if k > op.size:
        raise ValueError(f"{who}: k = {k} exceeds the number of parameters ({op.size})")
    rng = as_rng(rng)
    q = unit_random(rng, op.size, []) if v0 is None else op.flatten(v0, "v0")
    if np.linalg.norm(q) == 0:
        raise ValueError(f"{who}: v0 must not be zero")
    q = q / np.linalg.norm(q)
    run = _lanczos_top if method == "lanczos" else _power_top
    values, flat, info = run(op, k, float(tol), max_iter, rng, q)
    if len(values) < k:  # Lanczos stopped with fewer Ritz values than asked for
        raise RuntimeError(f"{who}: only {len(values)} Ritz values after {max_iter} steps; "
                           f"raise max_iter (>= k = {k})")
    if not info["converged"]:
        warnings.warn(f"{who}: not converged to tol={tol} in max_iter={max_iter} "
                      f"({method}, {op.count} hvps)", RuntimeWarning, stacklevel=2)
    flat = flat / np.linalg.norm(flat, axis=0)
    flat = flat * np.sign(flat[np.abs(flat).argmax(axis=0), np.arange(k)])
    vectors = [[a.astype(op.dtype) for a in op.split(flat[:, i])] for i in range(k)]
    if return_info:
        return np.asarray(values, np.float64), vectors, dict(info, hvps=op.count)
    return np.asarray(values, np.float64), vectors


# ----- the spectral density ---------------------------------------------------------------------
def spectral_density(model, loss, x, y, *, n_lanczos: int = 30, n_probes: int = 4, rng=None,
                     params=None):
    """Stochastic Lanczos quadrature (Golub & Meurant; Ghorbani et al. 2019; PyHessian).

    For each of ``n_probes`` Rademacher probes v normalized to unit length (E[vvᵀ] = I/P),
    ``n_lanczos`` Lanczos steps from v give T = VᵀHV with eigenpairs (θ_i, s_i): the Gauss
    quadrature vᵀf(H)v ≈ Σ_i s_i[0]² f(θ_i), exact for polynomials f of degree < 2·n_lanczos.
    Averaged over probes this is ∫ f dμ of μ = (1/P) Σ_j δ(t − λ_j) in expectation, the
    eigenvalue density: Σ w θ ≈ Tr(H)/P, Σ w θ² ≈ Tr(H²)/P. A probe whose Krylov space closes
    early (β ≈ 0) contributes fewer, exact, nodes.

    Returns
    -------
    nodes : ndarray (M,), float64
        The Ritz values of every probe, concatenated (M ≤ n_probes · n_lanczos).
    weights : ndarray (M,)
        s_i[0]² / n_probes: each probe's weights sum to 1/n_probes, all of them to 1.

    See :func:`smoothed_density` for the Gaussian-smoothed curve PyHessian plots.
    """
    who = "spectral_density"
    n_lanczos = int_at_least(n_lanczos, who, "n_lanczos")
    n_probes = int_at_least(n_probes, who, "n_probes")
    op, rng = HessianOperator(model, loss, x, y, params, who), as_rng(rng)
    nodes, weights = [], []
    for _ in range(n_probes):
        for alpha, beta, _Q in lanczos(op, rademacher(rng, op.size) / np.sqrt(op.size),
                                       n_lanczos, rng, restart=False):
            pass
        theta, S = np.linalg.eigh(_tridiagonal(alpha, beta[:-1]))
        nodes.append(theta)
        weights.append(S[0] ** 2 / n_probes)
    return np.concatenate(nodes), np.concatenate(weights)


def smoothed_density(nodes: np.ndarray, weights: np.ndarray, grid: np.ndarray, *,
                     sigma: float | None = None) -> np.ndarray:
    """The SLQ measure convolved with a Gaussian: Σ_i w_i N(t; θ_i, σ²) at each t of ``grid``
    (integrates to Σ w = 1 over the real line). σ defaults to 1% of the nodes' range."""
    nodes, weights, grid = (np.asarray(a, np.float64) for a in (nodes, weights, grid))
    if nodes.shape != weights.shape or nodes.ndim != 1:
        raise ValueError(f"smoothed_density: nodes and weights must be 1-D arrays of one shape, "
                         f"got {nodes.shape} and {weights.shape}")
    for a, what in ((nodes, "nodes"), (weights, "weights"), (grid, "grid")):
        check_finite(a, "smoothed_density", what)
    if sigma is None:
        sigma = 0.01 * (np.ptp(nodes) or 1.0)
    if not (np.isfinite(sigma) and sigma > 0):
        raise ValueError(f"smoothed_density: sigma must be positive and finite, got {sigma!r}")
    z = (grid[..., None] - nodes) / sigma
    return (np.exp(-0.5 * z * z) * weights).sum(axis=-1) / (sigma * np.sqrt(2 * np.pi))


def bulk_edge(nodes: np.ndarray, weights: np.ndarray, mass: float = 0.99) -> float:
    """The smallest b with ∫_{|t| ≤ b} dμ ≥ ``mass``·∫ dμ for the discrete measure
    μ = Σ_i w_i δ(t − θ_i) (nodes (M,), weights (M,) ≥ 0, as :func:`spectral_density` returns):
    the edge of the bulk around 0 that holds all but a fraction 1 − ``mass`` of the spectrum."""
    nodes, weights = np.asarray(nodes, np.float64), np.asarray(weights, np.float64)
    if nodes.shape != weights.shape or nodes.ndim != 1 or nodes.size == 0:
        raise ValueError(f"bulk_edge: nodes and weights must be non-empty 1-D arrays of one shape, "
                         f"got {nodes.shape} and {weights.shape}")
    for a, what in ((nodes, "nodes"), (weights, "weights")):
        check_finite(a, "bulk_edge", what)
    if not 0 < mass <= 1 or np.any(weights < 0):
        raise ValueError(f"bulk_edge: expected 0 < mass ≤ 1 and weights ≥ 0, got mass {mass!r}, "
                         f"smallest weight {weights.min()!r}")
    order = np.argsort(np.abs(nodes))
    cumulative = np.cumsum(weights[order])
    first = min(np.searchsorted(cumulative, mass * cumulative[-1]), len(order) - 1)
    return float(np.abs(nodes[order])[first])
