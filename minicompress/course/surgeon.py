"""Exercise of tutorial 08 (Optimal Brain Surgeon): one OBS step, the deletion that the full
inverse Hessian makes cheapest, with the compensating move of every other weight (Hassibi &
Stork 1993, the constrained minimum of ½ δwᵀ H δw; the paper's equation numbers are not
checked here, as in papers/hassibi1993_obs.py)."""
from __future__ import annotations

import numpy as np

from minicompress.course.checking import Case, random_cases
from minicompress.course.exercise import Exercise
from minicompress.papers import hassibi1993_obs as obs


def obs_step(w, h_inv):
    """The library's saliency (argmin, first on ties), then its delete."""
    q = int(np.argmin(obs.saliency(w, h_inv)))
    w_new, h_new = obs.delete(w, h_inv, q)
    return q, w_new, h_new


def outer_product_inverse(vectors, alpha):
    """The library's recursion, one vector at a time, scale 1."""
    return obs.outer_product_inverse(vectors, alpha)


def outer_cases():
    edge = [Case("edge: no vectors: H⁻¹ = I/α (the start, not αI)", dict(vectors=np.zeros((0, 3)), alpha=4.0)),
            Case("edge: one vector: Sherman–Morrison's 1 + xᵀH⁻¹x", dict(vectors=np.array([[1.0, 2.0]]), alpha=0.5)),
            Case("edge: the same vector twice", dict(vectors=np.array([[1.0, -1.0, 0.5]] * 2), alpha=1.0))]
    return edge + random_cases(lambda r: dict(vectors=r.normal(size=(int(r.integers(1, 8)), int(r.integers(2, 5)))),
                                              alpha=float(r.uniform(0.1, 2.0))))


def _spd_inverse(r, n):
    a = r.normal(size=(n, n))
    return np.linalg.inv(a @ a.T + 0.5 * np.eye(n))


def obs_cases():
    h_inv_2 = np.linalg.inv(np.array([[2.0, 1.0], [1.0, 2.0]]))
    deleted = np.array([[0.0, 0.0, 0.0], [0.0, 1.0, 0.5], [0.0, 0.5, 1.0]])
    edge = [Case("edge: a diagonal Hessian (OBS = OBD: nothing else moves)",
                 dict(w=np.array([1.0, -2.0, 0.5]), h_inv=np.diag([0.5, 2.0, 1.0]))),
            Case("edge: two correlated weights: the survivor compensates",
                 dict(w=np.array([1.0, 0.5]), h_inv=h_inv_2)),
            Case("edge: weight 0 already deleted (row and column 0 of H⁻¹ zero): skip it",
                 dict(w=np.array([0.0, 1.0, 2.0]), h_inv=deleted)),
            Case("edge: equal saliencies: the lower index goes", dict(w=np.array([1.0, -1.0]), h_inv=np.eye(2)))]
    return edge + random_cases(_obs_inputs)


def _obs_inputs(r):
    n = int(r.integers(2, 6))
    return dict(w=r.normal(size=n), h_inv=_spd_inverse(r, n))


EXERCISES = [
    Exercise(
        name="obs_step", tutorial="08_optimal_brain_surgeon",
        title="One step of Optimal Brain Surgeon: delete the cheapest weight, move the others",
        statement="""
Implement obs_step(w, h_inv) -> (q, w_new, h_inv_new) (Hassibi & Stork 1993: min over q of
min ½ δwᵀ H δw subject to e_qᵀ δw + w_q = 0, by a Lagrangian):

    L_q  = w_q² / (2 [H⁻¹]_qq)                 the saliency; q = argmin_q L_q (first on ties;
                                               a weight with [H⁻¹]_qq = 0 is already gone: L = +inf)
    δw   = −(w_q / [H⁻¹]_qq) · H⁻¹ e_q         so w_new = w + δw has w_new[q] = 0 exactly
    H⁻¹ ← H⁻¹ − (H⁻¹ e_q)(e_qᵀ H⁻¹) / [H⁻¹]_qq  then row and column q set to exactly 0

w : (P,), h_inv : (P, P) symmetric; q an int; w_new (P,), h_inv_new (P, P) new arrays.
""",
        stub='''
import numpy as np

def obs_step(w, h_inv):
    """w (P,), h_inv (P, P) -> (q, w_new (P,), h_inv_new (P, P))."""
    raise NotImplementedError
''',
        hint="H⁻¹ e_q is column q of H⁻¹. The downdate is the inverse Hessian of the remaining "
             "weights (a Schur complement); set w_new[q] and row/column q to 0 afterwards, as "
             "rounding leaves ±1e-17 there.",
        reference=obs_step, cases=obs_cases, outputs=("q", "w_new", "h_inv_new"), rtol=1e-7, atol=1e-10),
    Exercise(
        name="outer_product_inverse", tutorial="08_optimal_brain_surgeon",
        title="The inverse of the outer-product Hessian, one example at a time",
        statement="""
Implement outer_product_inverse(vectors, alpha) -> h_inv, the inverse of
H = αI + Σ_k x_k x_kᵀ without inverting H (Hassibi & Stork 1993, their recursion for the outer-product Hessian,
with the denominator 1 instead of P; Sherman–Morrison):

    H₀⁻¹ = I / α
    H_{k+1}⁻¹ = H_k⁻¹ − (H_k⁻¹ x)(xᵀ H_k⁻¹) / (1 + xᵀ H_k⁻¹ x)      for each row x of vectors

vectors : (N, P), alpha > 0; h_inv : (P, P) float64, symmetric.
""",
        stub='''
import numpy as np

def outer_product_inverse(vectors, alpha):
    """vectors (N, P), alpha > 0 -> h_inv (P, P), the inverse of alpha*I + sum_k x_k x_k^T."""
    raise NotImplementedError
''',
        hint="Keep h = H⁻¹ and update it once per row x with hx = h @ x; check against "
             "np.linalg.inv(alpha * np.eye(P) + vectors.T @ vectors).",
        reference=outer_product_inverse, cases=outer_cases, outputs=("h_inv",), rtol=1e-9, atol=1e-12),
]
