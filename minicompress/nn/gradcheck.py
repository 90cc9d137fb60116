"""Finite-difference checks: the independent reference every derivative is tested against.

Central differences, (E(θ + ε) − E(θ − ε)) / 2ε, have error O(ε²) from truncation and
O(δ/ε) from rounding (δ ≈ 1e-16·|E| in float64): ε ≈ 1e-6 balances both at ~1e-10. In float32
(δ ≈ 1e-7) no ε gives a useful check, so these functions insist on float64.
"""
from __future__ import annotations

from typing import Callable

import numpy as np


def numerical_gradient(f: Callable[[], float], x: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    """∂f/∂x by central differences, perturbing ``x`` in place one entry at a time.

    Parameters
    ----------
    f : callable
        Returns a float that depends on the current contents of ``x``.
    x : ndarray, float64
        Restored exactly after each perturbation.
    """
    require_float64(x, "numerical_gradient")
    grad = np.zeros_like(x)
    flat, gflat = x.reshape(-1), grad.reshape(-1)  # views: writing flat writes x
    for k in range(flat.size):
        saved = flat[k]
        flat[k] = saved + eps
        up = f()
        flat[k] = saved - eps
        down = f()
        flat[k] = saved
        gflat[k] = (up - down) / (2 * eps)
    return grad


def require_float64(x: np.ndarray, who: str) -> None:
    """Raise TypeError unless ``x`` is float64 (finite differences are useless in float32)."""
    if x.dtype != np.float64:
        raise TypeError(f"{who}: finite-difference checks need float64, got {x.dtype}; build the "
                        f"model with dtype=np.float64 or call model.astype(np.float64)")


def analytic_gradients(model, loss, x: np.ndarray, y: np.ndarray):
    """(loss value, [∂E/∂θ for each parameter], ∂E/∂x) from one forward and backward pass."""
    model.zero_grad()
    value = loss(model(x), y)
    g_in = model.backward(loss.backward())
    return value, [p.grad.copy() for p in model.parameters()], g_in


def numerical_hvp(model, loss, x: np.ndarray, y: np.ndarray, v, eps: float = 1e-5):
    """Hv by central differences of the gradient, (∇E(θ + εv) − ∇E(θ − εv)) / 2ε: the
    reference for the R-operator. One array per parameter; the weights are restored."""
    params = model.parameters()
    for p in params:
        require_float64(p.data, "numerical_hvp")
    grads = []
    for step in (eps, -2 * eps):
        for p, vp in zip(params, v):
            p.data += step * vp
        grads.append(analytic_gradients(model, loss, x, y)[1])
    for p, vp in zip(params, v):
        p.data += eps * vp
    return [(up - down) / (2 * eps) for up, down in zip(*grads)]


def numerical_hessian(model, loss, x: np.ndarray, y: np.ndarray, eps: float = 1e-5) -> np.ndarray:
    """The dense Hessian (P, P) by central differences of the gradient, one unit direction per
    column (parameters flattened and concatenated in ``model.parameters()`` order)."""
    params = model.parameters()
    columns = []
    for i, p in enumerate(params):
        for k in range(p.data.size):
            e = [np.zeros_like(q.data) for q in params]
            e[i].flat[k] = 1.0
            columns.append(np.concatenate([h.ravel() for h in numerical_hvp(model, loss, x, y, e, eps)]))
    return np.stack(columns, axis=1)


def check_gradients(model, loss, x: np.ndarray, y: np.ndarray, *, eps: float = 1e-6,
                    rtol: float = 1e-5, atol: float = 1e-8, inputs: bool = True) -> float:
    """Compare backprop with central differences for every parameter and (optionally) the input.

    Returns the largest error relative to the tolerance (≤ 1 means every entry passed); raises
    AssertionError naming the parameter, the worst entry, and both values otherwise.
    """
    for p in model.parameters():
        require_float64(p.data, "check_gradients")
    x = np.array(x, dtype=np.float64)
    _, grads, g_in = analytic_gradients(model, loss, x, y)
    objective = lambda: loss(model(x), y)  # noqa: E731
    pairs = [(name, g, numerical_gradient(objective, p.data, eps))
             for (name, p), g in zip(model.named_parameters(), grads)]
    if inputs:
        pairs.append(("input", g_in, numerical_gradient(objective, x, eps)))
    return assert_close(pairs, rtol, atol)


def assert_close(pairs, rtol: float, atol: float) -> float:
    """For (name, ours, reference) triples: raise AssertionError on the first non-finite entry
    (NaN or ±inf, in either array) or the first |ours − ref| > atol + rtol·|ref|, naming the
    triple and the entry; return the largest error/tolerance ratio.

    Non-finite values fail on their own: a NaN compares False with everything, so a plain
    ``ratio > 1`` test would let it pass and ``argmax`` would then point at the NaN and hide
    a real error beside it.
    """
    worst = 0.0
    for name, ours, ref in pairs:
        ours, ref = np.asarray(ours), np.asarray(ref)
        if ours.shape != ref.shape:
            raise AssertionError(f"{name}: shape {ours.shape} != reference shape {ref.shape}")
        for which, a in (("result", ours), ("reference", ref)):
            bad = ~np.isfinite(a)
            if bad.any():
                k = np.unravel_index(int(np.argmax(bad)), a.shape) if a.ndim else ()
                raise AssertionError(f"{name}: the {which} holds {int(bad.sum())} non-finite "
                                     f"value(s); the first, at entry {tuple(int(i) for i in k)}, "
                                     f"is {a[k]}")
        ratio = np.abs(ours - ref) / (atol + rtol * np.abs(ref))
        k = np.unravel_index(int(np.argmax(ratio)), ratio.shape) if ratio.size else ()
        if ratio.size and ratio[k] > 1:
            raise AssertionError(f"{name}: entry {tuple(int(i) for i in k)} is {ours[k]:.10g}, "
                                 f"reference {ref[k]:.10g} (|diff| = {abs(ours[k] - ref[k]):.3g}, "
                                 f"tolerance {atol + rtol * abs(ref[k]):.3g})")
        worst = max(worst, float(ratio.max()) if ratio.size else 0.0)
    return worst
