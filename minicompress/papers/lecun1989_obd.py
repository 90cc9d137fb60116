"""Optimal Brain Damage: delete the parameters whose removal the curvature says costs least.

Y. LeCun, J. S. Denker, S. A. Solla. "Optimal Brain Damage." Advances in Neural Information
Processing Systems 2 (NIPS 1989), 598–605, Morgan Kaufmann, 1990. The diagonal second
derivatives come from S. Becker, Y. LeCun, "Improving the convergence of back-propagation
learning with second-order methods", Proc. 1988 Connectionist Models Summer School, 1989.

The idea (Section 2). The saliency of a parameter is the change of the objective E caused by
deleting it. Rather than delete and re-evaluate each one, expand E around the trained
parameters u; a perturbation δu changes it by

    δE = Σ_i g_i δu_i + ½ Σ_i h_ii δu_i² + ½ Σ_{i≠j} h_ij δu_i δu_j + O(‖δu‖³)      (1)

with g_i = ∂E/∂u_i and h_ij = ∂²E/∂u_i∂u_j (2). Three approximations: *diagonal* (the δE of
several deletions is the sum of their single δE's: the cross terms go), *extremal* (training
has converged, g = 0: the first term goes) and *quadratic* (the O(‖δu‖³) term goes):

    δE = ½ Σ_i h_ii δu_i²                                                      (3)

so deleting u_k (δu_k = −u_k) costs its saliency s_k = h_kk u_k² / 2 (Section 2.2, step 4).

Computing h_kk (Section 2.1). E is the squared error Σ_i (d_i − x_i)² over the output units,
per pattern, and E and H are averaged over the training set (:class:`SquaredError`). With
x_i = f(a_i), a_i = Σ_j w_ij x_j (4), and a shared parameter u_k controlling every connection
(i, j) ∈ V_k,

    h_kk = Σ_{(i,j)∈V_k} ∂²E/∂w_ij²                                             (5)
    ∂²E/∂w_ij² = ∂²E/∂a_i² · x_j²                                               (6)
    ∂²E/∂a_i² = f′(a_i)² Σ_l w_li² ∂²E/∂a_l² + f″(a_i) ∂E/∂x_i                   (7)
    ∂²E/∂a_i² = 2 f′(a_i)² − 2 (d_i − x_i) f″(a_i)   at the output units           (8)

(the printed (7) shows −f″; with the boundary condition (8) the consistent sign is +). Dropping
the f″ terms is the Levenberg–Marquardt approximation, which the paper notes gives estimates
that are always ≥ 0; it is the default here (:func:`minicompress.nn.curvature.diag_lecun`).
The exact Gauss–Newton diagonal and the exact Hessian diagonal are offered beside it.

The recipe (Section 2.2): choose an architecture; train to a reasonable solution; compute the
h_kk; compute the saliencies; delete (set to 0 and freeze) some low-saliency parameters;
iterate from training. Here deleting is masking (:func:`delete`, :func:`unmask`): the weight
is multiplied by 0 and its gradient is 0, so it stays deleted while the rest retrains.

To see what the approximations drop, :func:`taylor_terms` evaluates, for the deletion the
masks describe, each term of (1) up to second order: the first-order term, the diagonal
estimate (3), and the full quadratic form ½ δuᵀHδu with the cross terms (one Hessian-vector
product, :func:`minicompress.nn.curvature.hvp`).
"""
from __future__ import annotations

import numpy as np

from minicompress import nn
from minicompress.nn import curvature
from minicompress.pruning import global_prune

#: where h_kk comes from: the paper's recursion (LM form), the exact Gauss–Newton diagonal, the
#: exact Hessian diagonal (one hvp per parameter: small networks only)
CURVATURES = {"lecun": curvature.diag_lecun, "ggn": curvature.diag_ggn, "exact": curvature.diag_hessian}


class SquaredError(nn.MSELoss):
    """The paper's objective: E = (1/P) Σ_p Σ_i (d_pi − x_pi)², summed over the output units
    and averaged over the P patterns (Section 2.1).

    ``nn.MSELoss()`` averages over all P·C entries, which is E / C (10 dB lower for C = 10 and
    every derivative C times smaller). Output x and target d: (P, C). ``backward()`` =
    2(x − d)/P; ``hessian_diag()`` = 2/P for every entry (the factor 2 of (8)).
    """

    def __init__(self):
        super().__init__(reduction="mean")  # "mean" over patterns: evaluate() weights batches by size

    def forward(self, output: np.ndarray, target: np.ndarray) -> float:
        return super().forward(output, target) * output.shape[1]

    def _scale(self) -> float:
        return 2.0 / len(self.cached("diff"))

    def __repr__(self) -> str:
        return "SquaredError()"


def second_derivatives(model, loss, x, y, method: str = "lecun") -> list[np.ndarray]:
    """h_kk for every parameter (a list aligned with ``model.parameters()``).

    ``method``: "lecun" (the recursion (5)–(8) without the f″ terms, as the paper's
    experiments), "ggn" (the exact Gauss–Newton diagonal) or "exact" (the exact Hessian
    diagonal, P Hessian-vector products). Summed over the examples for a "sum" loss, averaged
    for a "mean" one.
    """
    if method not in CURVATURES:
        raise ValueError(f"second_derivatives: method must be one of {sorted(CURVATURES)}, "
                         f"got {method!r}")
    return CURVATURES[method](model, loss, x, y)


def saliency(h: np.ndarray, u: np.ndarray) -> np.ndarray:
    """s_k = ½ h_kk u_k²: the increase of E that (3) predicts when u_k is deleted."""
    h, u = np.asarray(h), np.asarray(u)
    if h.shape != u.shape:
        raise ValueError(f"saliency: h {h.shape} and u {u.shape} must have the same shape")
    return 0.5 * h * u ** 2


def saliencies(model, loss, x, y, method: str = "lecun") -> list[np.ndarray]:
    """s_k = ½ h_kk u_k² for every parameter of ``model`` on (x, y), aligned with
    ``model.parameters()``; h_kk from :func:`second_derivatives` with ``method``."""
    h = second_derivatives(model, loss, x, y, method)
    return [saliency(hk, p.data) for hk, p in zip(h, model.parameters())]


def delete(model, amount, scores) -> None:
    """Delete (mask to 0) the ``amount`` of still-present parameters with the lowest scores,
    in one ranking over the whole network (Section 2.2, step 5). ``amount``: a count, or a
    fraction of the parameters still present (:func:`minicompress.pruning.global_prune`);
    ``scores`` aligned with ``model.parameters()``. Earlier deletions stay."""
    global_prune(model.parameters(), amount, scores)


def unmask(model) -> None:
    """Undo every deletion: masks off (the masked weights were never overwritten)."""
    for p in model.parameters():
        p.mask = None


def taylor_terms(model, loss, x, y, h) -> dict:
    """The terms of (1) for the deletion that the masks describe, δu = −u on masked entries.

    Parameters
    ----------
    model : Module
        With masks set on the deleted entries (entries without a mask are not deleted). The
        expansion is taken at the undeleted parameters: the masks are lifted for the
        computation and put back.
    loss, x, y
        The objective and the data E is measured on.
    h : list of arrays
        h_kk aligned with ``model.parameters()`` (e.g. from :func:`second_derivatives`).

    Returns
    -------
    dict with ``first_order`` = Σ g_k δu_k (0 at a minimum), ``predicted_increase`` =
    ½ Σ h_kk δu_k² (OBD's estimate (3): the sum of the deleted saliencies) and ``quadratic`` =
    ½ δuᵀHδu (the exact second-order term, cross terms included).
    """
    params = model.parameters()
    if len(h) != len(params) or any(np.shape(a) != p.shape for a, p in zip(h, params)):
        raise ValueError(f"taylor_terms: h must hold one array per parameter with its shape, got "
                         f"{[np.shape(a) for a in h]} for {[p.shape for p in params]}")
    masks = [p.mask for p in params]
    du = [-(1 - m) * p.data if m is not None else np.zeros_like(p.data) for p, m in zip(params, masks)]
    unmask(model)
    try:
        model.zero_grad()
        loss(model(x), y)
        model.backward(loss.backward())
        first = sum(float((p.grad * d).sum()) for p, d in zip(params, du))
        hv = curvature.hvp(model, loss, x, y, du)
    finally:
        for p, m in zip(params, masks):
            p.mask = m
    return dict(first_order=first,
                predicted_increase=sum(0.5 * float((hk * d * d).sum()) for hk, d in zip(h, du)),
                quadratic=0.5 * sum(float((a * d).sum()) for a, d in zip(hv, du)))
