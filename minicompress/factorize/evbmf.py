"""The rank of a noisy matrix by empirical variational Bayesian matrix factorization (EVBMF).

Model (Nakajima, Sugiyama, Babacan & Tomioka, JMLR 2013): V = B Aᵀ + E with V (L, M), L ≤ M
(transpose otherwise), Gaussian noise of variance σ², Gaussian priors on the columns of A and B
whose variances are learned too (empirical Bayes). The global VB solution is analytic: a
reweighted SVD of V in which the h-th singular component (singular value γ_h) survives only if

    γ_h > γ̲ = σ √(M x̲),   x̲ = (1 + τ̲)(1 + α/τ̲),   α = L/M,

where τ̲ is the unique zero of Φ(τ) + Φ(τ/α), Φ(z) = ln(z + 1)/z − 1/2 (τ̲ = 2.5129 for α = 1,
≈ 2.5129 √α in general). The rank estimate is the number of survivors.

When σ² is unknown (the case of a conv kernel) it is estimated by minimizing the VB free energy
with every other parameter at its optimum (Nakajima, Tomioka, Sugiyama & Babacan, "Condition for
perfect dimensionality recovery by variational Bayesian PCA", JMLR 2015):

    Ω(σ²) = Σ_{h=1}^{L} ψ(γ_h² / (M σ²)),   ψ(x) = x − ln x + [x > x̲] ψ₁(x),
    ψ₁(x) = ln(τ(x) + 1) + α ln(τ(x)/α + 1) − τ(x),
    τ(x) = ½ (x − (1 + α) + √((x − (1 + α))² − 4α)),

which is continuous (ψ₁(x̲) = 0) and whose minimizer lies between
max(γ²_{H̄+1} / (M x̲), Σ_{h>H̄} γ_h² / (M (L − H̄))) and Σ_h γ_h² / (L M), with H̄ = ⌈L/(1 + α)⌉ − 1
the largest rank EVBMF can return. We search that interval on a logarithmic grid of 400 points,
then refine the best point by bounded Brent minimization between its neighbours.
"""
from __future__ import annotations

import math

import numpy as np
from scipy.optimize import brentq, minimize_scalar

GRID = 400


def tau_bar(alpha: float) -> float:
    """τ̲: the zero of Φ(τ) + Φ(τ/α), Φ(z) = ln(z + 1)/z − 1/2."""
    phi = lambda z: math.log1p(z) / z - 0.5  # noqa: E731
    return brentq(lambda t: phi(t) + phi(t / alpha), 1e-12, 1e12, xtol=1e-14, rtol=1e-14)


def _tau(x: np.ndarray, alpha: float) -> np.ndarray:
    d = x - (1 + alpha)
    return 0.5 * (d + np.sqrt(np.maximum(d * d - 4 * alpha, 0.0)))


def free_energy(sigma2: float, gamma: np.ndarray, M: int, alpha: float, x_bar: float) -> float:
    """Ω(σ²) of the module docstring (up to an additive constant), for singular values γ."""
    x = gamma ** 2 / (M * sigma2)
    big = x > x_bar
    t = _tau(x[big], alpha)
    psi1 = np.log(t + 1) + alpha * np.log(t / alpha + 1) - t
    return float(np.sum(x - np.log(np.maximum(x, 1e-300))) + np.sum(psi1))


def vbmf(matrix, *, sigma2: float | None = None) -> dict:
    """Empirical VBMF of ``matrix``: ``dict(rank, sigma2, threshold, singular_values)``.

    Parameters
    ----------
    matrix : ndarray (L, M), any orientation (computed on the wider side, in float64)
    sigma2 : float, optional
        The noise variance if known; estimated from the data otherwise.
    """
    V = np.asarray(matrix)
    if V.ndim != 2 or 0 in V.shape or not (np.issubdtype(V.dtype, np.floating)
                                           or np.issubdtype(V.dtype, np.integer)):
        raise ValueError(f"vbmf: matrix must be a non-empty real 2-D array, got {V.dtype} array "
                         f"of shape {V.shape}")
    V = V.astype(np.float64)
    if not np.isfinite(V).all():
        raise ValueError("vbmf: matrix contains NaN or inf")
    L, M = sorted(V.shape)
    alpha = L / M
    gamma = np.linalg.svd(V, compute_uv=False)  # (L,), descending
    t = tau_bar(alpha)
    x_bar = (1 + t) * (1 + alpha / t)
    if sigma2 is None:
        if not gamma[0] > 0:
            return dict(rank=0, sigma2=0.0, threshold=0.0, singular_values=gamma)
        sigma2 = _estimate_sigma2(gamma, M, alpha, x_bar)
    elif not (isinstance(sigma2, (int, float)) and math.isfinite(sigma2) and sigma2 > 0):
        raise ValueError(f"vbmf: sigma2 must be a positive finite number, got {sigma2!r}")
    threshold = math.sqrt(M * sigma2 * x_bar)
    return dict(rank=int(np.sum(gamma > threshold)), sigma2=float(sigma2), threshold=threshold,
                singular_values=gamma)


def _estimate_sigma2(gamma: np.ndarray, M: int, alpha: float, x_bar: float) -> float:
    L = len(gamma)
    h_bar = min(math.ceil(L / (1 + alpha)) - 1, L - 1)
    upper = float(np.sum(gamma ** 2) / (L * M))
    lower = max(gamma[h_bar] ** 2 / (M * x_bar), float(np.mean(gamma[h_bar:] ** 2)) / M)
    if not lower < upper:
        return upper
    grid = np.geomspace(lower, upper, GRID)
    values = [free_energy(s, gamma, M, alpha, x_bar) for s in grid]
    best = int(np.argmin(values))
    lo, hi = grid[max(best - 1, 0)], grid[min(best + 1, GRID - 1)]
    refined = minimize_scalar(free_energy, bounds=(lo, hi), method="bounded",
                              args=(gamma, M, alpha, x_bar), options=dict(xatol=lo * 1e-10))
    return float(refined.x) if refined.fun <= values[best] else float(grid[best])


def vbmf_rank(matrix, *, sigma2: float | None = None) -> int:
    """The EVBMF rank of ``matrix``: how many singular values exceed σ̂ √(M x̲) (see the module
    docstring); σ² estimated unless given. Used by Kim et al. (2016) on the unfoldings of a
    conv kernel to choose its Tucker-2 ranks."""
    return vbmf(matrix, sigma2=sigma2)["rank"]
