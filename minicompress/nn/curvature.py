"""Second derivatives of a loss E(θ) = Σ_n ℓ(f(x_n; θ), y_n) (÷ n for a "mean" loss).

Every function takes (model, loss, x, y), runs its own forward pass, and returns one array per
parameter, aligned with ``model.parameters()`` (``hessian`` returns one matrix). Masked entries
report zero curvature. Each quantity is exactly one of these, and the tests hold each to an
independent reference:

================  =============================================================  ==============
function          what it is                                                     cost
================  =============================================================  ==============
diag_lecun        Becker & LeCun's recursion (OBD's h_kk): *approximate*          ≈ 1 backward
diag_ggn          exact diagonal of the generalized Gauss–Newton G = Σ JᵀHJ      ≈ C backwards
hvp               exact Hessian-vector product Hv (Pearlmutter's R-operator)     ≈ 2 backwards
hessian           the dense Hessian, column by column from ``hvp``               P hvps
diag_hessian      the exact Hessian diagonal, from ``hvp`` on unit vectors       P hvps
diag_hutchinson   unbiased estimate E[v ⊙ Hv] of the diagonal, Rademacher v      n hvps
fisher_diag       empirical Fisher diagonal, mean over examples of (∇E_n)²       ≈ 1 backward
================  =============================================================  ==============

Built on ``hvp`` and the GGN's columns, in sibling files and re-exported here:
``top_eigenvalues``, ``spectral_density``, ``smoothed_density``, ``bulk_edge`` (the spectrum,
:mod:`minicompress.nn.spectrum`), ``trace`` (:mod:`minicompress.nn.stochastic_trace`) and
``kfac``, ``kfac_diag`` (Kronecker-factored GGN blocks, :mod:`minicompress.nn.kfac`).

How they relate: H = G + Σ (∂E/∂z)·∂²z/∂θ². For networks that are piecewise linear in θ between
the loss and each weight (ReLU and max-pool networks) the second term vanishes and the exact
diagonal equals the GGN diagonal. For tanh or sigmoid networks they differ.

When LeCun's recursion is exact. It propagates only the diagonal of ∂²E/∂a² between layers,
dropping every cross term ∂²E/∂a_i∂a_j (and, for a shared conv weight, the cross terms between
its connections). Where nothing is dropped it gives the exact Hessian diagonal with
``gauss_newton=False`` and the exact GGN diagonal with ``gauss_newton=True`` (the two agree when
the activations in question are piecewise linear or absent). That is the case

- for the last layer with parameters when only elementwise activations (and Flatten) stand
  between it and the loss: a Linear layer with any loss (W[o, i] reaches only output o), a Conv2d
  layer only when the loss Hessian is diagonal (MSE), since a shared weight reaches many outputs;
- for the layer below a last Linear layer that feeds an MSE loss directly (a one-hidden-layer
  MSE network with linear outputs): each hidden unit reaches the loss only through its own
  column of weights and the loss Hessian is diagonal.

Everywhere else it is an approximation of the same cost as backpropagation, which is the point
of Optimal Brain Damage. In particular with ``gauss_newton=True`` (OBD's form) and a
nonlinearity after the last Linear layer (OBD's tanh outputs), even the last layer's h_kk is
the GGN's, not the Hessian's: the f″·∂E/∂y term is dropped (tens of percent off there).
"""
from __future__ import annotations

import numbers

import numpy as np

from minicompress.nn.checks import check_finite
from minicompress.rng import as_rng


def _start(model, loss, x, y):
    """Forward pass and loss; clears ``hdiag`` so passes accumulate into fresh arrays."""
    loss(model(x), y)
    params = model.parameters()
    for p in params:
        p.hdiag = None
    return params


def _collect(params) -> list[np.ndarray]:
    """Each parameter's ``hdiag`` (zeros where a pass left none)."""
    return [np.zeros_like(p.data) if p.hdiag is None else p.hdiag.copy() for p in params]


def diag_lecun(model, loss, x, y, gauss_newton: bool = True) -> list[np.ndarray]:
    """OBD's diagonal second derivatives h_kk by Becker & LeCun's backward recursion.

    From the loss's diagonal ∂²E/∂z² at the outputs, each layer applies
    ∂²E/∂a_i² = f′(a_i)² Σ_l w_li² ∂²E/∂a_l² (+ f″(a_i) ∂E/∂x_i unless ``gauss_newton``) and
    ∂²E/∂w_ij² = ∂²E/∂a_i² x_j², per example, summed over examples (and over the connections of
    a shared conv weight) [LeCun, Denker & Solla 1990; Becker & LeCun 1989]. What it drops: the
    off-diagonal terms ∂²E/∂a_i∂a_j (every layer below the last, and the loss Hessian's
    off-diagonal for softmax cross-entropy), and with ``gauss_newton=True`` the f″ terms
    (Levenberg–Marquardt form, always ≥ 0). Exact only in the cases listed in the module
    docstring. Results are also stored in ``p.hdiag``.
    """
    if not isinstance(gauss_newton, (bool, np.bool_)):
        raise TypeError(f"diag_lecun: gauss_newton must be True or False, got {gauss_newton!r}")
    params = _start(model, loss, x, y)
    g = None if gauss_newton else loss.backward()
    model.backward_diag(g, loss.hessian_diag(), gauss_newton, need_input=False)
    return _collect(params)


def diag_ggn(model, loss, x, y) -> list[np.ndarray]:
    """Exact diagonal of the generalized Gauss–Newton matrix G = Σ_n J_nᵀ H_n J_n.

    J_n = ∂z_n/∂θ is the network's Jacobian and H_n = ∂²E/∂z_n² = S_n S_nᵀ the loss Hessian
    (softmax cross-entropy: diag(p) − ppᵀ; MSE: 2r·I). Backpropagating the C columns of S gives
    J_nᵀ S_n, and diag(G) = Σ_n Σ_c (J_nᵀ S_n)²_c: no approximation. Also in ``p.hdiag``.
    """
    params = _start(model, loss, x, y)
    model.backward_ggn(loss.hessian_sqrt(), need_input=False)
    return _collect(params)


def fisher_diag(model, loss, x, y) -> list[np.ndarray]:
    """Empirical Fisher diagonal F = (1/N) Σ_n (∇θ E_n)², E_n the loss of example n alone
    (same loss and reduction, batch of one). Needs per-example gradients, obtained like the
    GGN's with the single column s_n = ∂E_n/∂z_n."""
    params = _start(model, loss, x, y)
    per_example = loss.backward() * (len(x) if loss.reduction == "mean" else 1)
    model.backward_ggn(per_example[None], need_input=False)
    return [h / len(x) for h in _collect(params)]


def hvp(model, loss, x, y, v: list[np.ndarray]) -> list[np.ndarray]:
    """Exact Hessian-vector product Hv by Pearlmutter's R-operator (1994).

    R{·} = d/dt (·)(θ + t·v) at t = 0 is pushed forward through the network (R{z}), turned at
    the loss into R{∂E/∂z} = H_z R{z}, then pushed back through the backward pass, whose
    R-image at the parameters is R{∂E/∂θ} = Hv. Cost ≈ two backward passes; not finite
    differences.

    Parameters
    ----------
    v : list of ndarray
        The direction, one array per parameter (aligned with ``model.parameters()``).
    """
    params = model.parameters()
    loss(model(x), y)
    return _hvp_after_forward(model, loss, params, _direction(params, v))


def _hvp_after_forward(model, loss, params, v: dict) -> list[np.ndarray]:
    rz = model.forward_r(None, v)
    g = loss.backward()
    rg = loss.hessian_vector(np.zeros_like(g) if rz is None else rz)
    hv = {}
    model.backward_r(g, rg, hv, need_input=False)
    return [hv.get(p, np.zeros_like(p.data)) for p in params]


def hessian(model, loss, x, y) -> np.ndarray:
    """The dense Hessian (P, P) of a small network, one ``hvp`` per column; the parameters are
    flattened and concatenated in ``model.parameters()`` order."""
    params = model.parameters()
    loss(model(x), y)
    sizes = [p.data.size for p in params]
    total = sum(sizes)
    H = np.zeros((total, total), params[0].data.dtype)
    for k in range(total):
        e = np.zeros(total, params[0].data.dtype)
        e[k] = 1
        column = _hvp_after_forward(model, loss, params, _direction(params, _split(e, params)))
        H[:, k] = np.concatenate([c.ravel() for c in column])
    return H


def diag_hessian(model, loss, x, y) -> list[np.ndarray]:
    """The exact Hessian diagonal, entry k from Hv with v = e_k (P hvps: small networks)."""
    params = model.parameters()
    loss(model(x), y)
    out = [np.zeros_like(p.data) for p in params]
    for p, d in zip(params, out):
        for k in range(p.data.size):
            e = np.zeros_like(p.data)
            e.flat[k] = 1
            d.flat[k] = _hvp_after_forward(model, loss, [p], {p: e})[0].flat[k]
    return out


def diag_hutchinson(model, loss, x, y, n: int, rng=None) -> list[np.ndarray]:
    """Hutchinson's estimate (1/n) Σ_k v_k ⊙ H v_k with Rademacher v_k (entries ±1): unbiased,
    since E[v vᵀ] = I; the error of each entry shrinks as 1/√n."""
    if not isinstance(n, numbers.Integral) or isinstance(n, bool) or n < 1:
        raise ValueError(f"diag_hutchinson: n must be a positive int, got {n!r}")
    rng = as_rng(rng)
    params = model.parameters()
    loss(model(x), y)
    total = [np.zeros_like(p.data) for p in params]
    for _ in range(n):
        v = [rng.choice(np.array([-1, 1], p.data.dtype), size=p.data.shape) for p in params]
        for t, vk, hv in zip(total, v, _hvp_after_forward(model, loss, params, _direction(params, v))):
            t += vk * hv
    return [t / n for t in total]


def _direction(params, v) -> dict:
    """Validate a direction (one array per parameter) and key it by parameter."""
    if not isinstance(v, (list, tuple)):
        raise TypeError(f"hvp: v must be a list of arrays, one per parameter ({len(params)}), "
                        f"got {type(v).__name__}")
    v = list(v)
    if len(v) != len(params):
        raise ValueError(f"hvp: v must hold one array per parameter ({len(params)}), got {len(v)}")
    out = {}
    for p, vp in zip(params, v):
        if np.shape(vp) != p.data.shape:
            raise ValueError(f"hvp: direction for {p.name!r} has shape {np.shape(vp)}, "
                             f"expected {p.data.shape}")
        vp = np.asarray(vp)
        if not (np.issubdtype(vp.dtype, np.floating) or np.issubdtype(vp.dtype, np.integer)):
            raise TypeError(f"hvp: direction for {p.name!r} must be a real array, got dtype {vp.dtype}")
        check_finite(vp, "hvp", f"the direction for {p.name!r}")
        out[p] = vp.astype(p.data.dtype, copy=False)
    return out


def _split(flat: np.ndarray, params) -> list[np.ndarray]:
    out, start = [], 0
    for p in params:
        out.append(flat[start:start + p.data.size].reshape(p.data.shape))
        start += p.data.size
    return out


# The spectrum (top eigenvalues, trace, density) and K-FAC live in sibling files, re-exported here.
from minicompress.nn.spectrum import (bulk_edge, smoothed_density, spectral_density,  # noqa: E402,F401
                                      top_eigenvalues)
from minicompress.nn.stochastic_trace import trace  # noqa: E402,F401
from minicompress.nn.kfac import KroneckerFactors, kfac, kfac_diag  # noqa: E402,F401
