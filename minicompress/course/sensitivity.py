"""Exercises of tutorial 03 (sensitivity pruning): OBD's saliencies (LeCun, Denker & Solla 1990)
and Karnin's shadow-array estimate (Karnin 1990)."""
from __future__ import annotations

import numpy as np

from minicompress.course.checking import Case, random_cases
from minicompress.course.exercise import Exercise
from minicompress.papers import karnin1990_sensitivity as karnin
from minicompress.papers import lecun1989_obd as obd


def obd_cases():
    edge = [Case("edge: zero weights and zero curvature", dict(h=np.array([0.0, 2.0, 0.0]), w=np.array([1.0, 0.0, 0.0]))),
            Case("edge: negative weights", dict(h=np.array([[1.0, 4.0]]), w=np.array([[-2.0, -0.5]]))),
            Case("edge: negative curvature (a saddle)", dict(h=np.array([-1.0, 3.0]), w=np.array([2.0, 1.0])))]
    return edge + random_cases(lambda r: dict(h=r.exponential(size=(3, 4)), w=r.normal(size=(3, 4))))


def karnin_estimate(grads, steps, w_initial, min_change=1e-6):
    """The library's shadow_update over the steps, then sensitivity_estimate."""
    shadow = np.zeros(np.shape(w_initial))
    for g, dw in zip(grads, steps):
        karnin.shadow_update(shadow, g, dw)
    w_final = w_initial + np.sum(steps, axis=0)
    return karnin.sensitivity_estimate(shadow, w_initial, w_final, min_change)


def karnin_cases():
    edge = [Case("edge: plain gradient descent, one weight, two steps (η = 0.5)",
                 dict(grads=np.array([[2.0], [1.0]]), steps=np.array([[-1.0], [-0.5]]),
                      w_initial=np.array([1.0]), min_change=1e-6)),
            Case("edge: a weight that never moved (clamped denominator)",
                 dict(grads=np.array([[0.0, 1.0]]), steps=np.array([[0.0, -0.1]]),
                      w_initial=np.array([0.3, 0.3]), min_change=1e-6)),
            Case("edge: a weight that moved toward zero (negative estimate)",
                 dict(grads=np.array([[1.0], [1.0]]), steps=np.array([[-0.2], [-0.2]]),
                      w_initial=np.array([1.0]), min_change=1e-6)),
            Case("edge: a tiny move, below min_change = 0.01",
                 dict(grads=np.array([[1.0]]), steps=np.array([[-0.001]]), w_initial=np.array([0.5]),
                      min_change=0.01))]
    return edge + random_cases(lambda r: _karnin_inputs(r, r.integers(1, 6)))


def _karnin_inputs(r, n_steps):
    grads = r.normal(size=(n_steps, 2, 3))
    steps = -0.1 * grads + 0.01 * r.normal(size=(n_steps, 2, 3))  # SGD with a little momentum-like noise
    return dict(grads=grads, steps=steps, w_initial=r.normal(size=(2, 3)), min_change=1e-6)


EXERCISES = [
    Exercise(
        name="obd_saliency", tutorial="03_sensitivity_pruning",
        title="Optimal Brain Damage's saliency of every parameter",
        statement="""
Implement obd_saliency(h, w) -> s, elementwise (LeCun, Denker & Solla 1990, Eq. 3 and Section
2.2: the diagonal, extremal and quadratic approximations of δE):

    s_k = ½ · h_kk · w_k²      the increase of the error predicted when w_k is set to 0

h : the diagonal second derivatives ∂²E/∂w_k², w : the parameters; both any shape, the same one.
""",
        stub='''
import numpy as np

def obd_saliency(h, w):
    """h, w (same shape) -> saliencies (same shape)."""
    raise NotImplementedError
''',
        hint="Expand E(w + δw) to second order; deleting w_k means δw_k = −w_k.",
        reference=obd.saliency, cases=obd_cases),
    Exercise(
        name="karnin_estimate", tutorial="03_sensitivity_pruning",
        title="Karnin's shadow array, accumulated during training, and the sensitivity estimate",
        statement="""
Implement karnin_estimate(grads, steps, w_initial, min_change) -> S_hat.

During training, step n had gradient g(n) = grads[n] and moved the weights by Δw(n) = steps[n]
(grads, steps: (T, *shape)); w_initial: (*shape). Karnin's shadow array sums, and the estimate
stretches the path integral from [w_i, w_f] to [0, w_f] (Karnin 1990):

    shadow = −Σ_n g(n) ⊙ Δw(n)            (for plain SGD, Δw = −η g: Σ Δw² / η)
    w_f    = w_i + Σ_n Δw(n)
    Ŝ      = shadow · w_f / (w_f − w_i)

Where |w_f − w_i| < min_change, use ±min_change as the denominator (the sign of the move;
+ if the weight did not move). Returns float64 of w_initial's shape.
""",
        stub='''
import numpy as np

def karnin_estimate(grads, steps, w_initial, min_change=1e-6):
    """grads, steps (T, *shape), w_initial (*shape) -> estimated sensitivity (*shape)."""
    raise NotImplementedError
''',
        hint="The shadow array is an ordinary running sum, one entry per weight. Guard the "
             "division with np.where on |w_f − w_i|; np.sign(0) is 0, which is not the sign "
             "asked for here.",
        reference=karnin_estimate, cases=karnin_cases),
]
