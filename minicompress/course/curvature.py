"""Exercises of tutorial 02 (second derivatives): LeCun's recursion through a Linear layer and
through a tanh (LeCun, Denker & Solla 1990, Eq. 6-7)."""
from __future__ import annotations

import numpy as np

from minicompress import nn
from minicompress.course.checking import Case, random_cases
from minicompress.course.exercise import Exercise


def lecun_linear(x, W, h_out):
    """The library's Linear.backward_diag (LeCun's rule) for a layer with weight W."""
    layer = nn.Linear(W.shape[1], W.shape[0], dtype=W.dtype)
    layer.weight.data[...] = W
    layer.forward(x)
    for p in layer.parameters():
        p.hdiag = None
    _, h_x = layer.backward_diag(None, h_out, gauss_newton=True)
    return layer.weight.hdiag, layer.bias.hdiag, h_x


def lecun_linear_cases():
    edge = [Case("edge: one example, one input", dict(x=np.array([[-2.0]]), W=np.array([[3.0], [0.5]]),
                                                      h_out=np.array([[1.0, 4.0]]))),
            Case("edge: negative curvature at the outputs",
                 dict(x=np.array([[1.0, 2.0, -1.0]]), W=np.array([[1.0, -1.0, 2.0], [0.0, 3.0, 1.0]]),
                      h_out=np.array([[-1.0, 0.5]])))]
    single = Case("edge: float32 inputs", {k: v.astype(np.float32) for k, v in
                                           _lecun_inputs(np.random.default_rng(7), 3, 4, 2).items()})
    return edge + [single] + random_cases(lambda r: _lecun_inputs(r, *r.integers(1, 5, size=3)))


def _lecun_inputs(r, n, i, o):
    return dict(x=r.normal(size=(n, i)), W=r.normal(size=(o, i)), h_out=r.exponential(size=(n, o)))


def lecun_tanh(a, g_out, h_out):
    """The library's Tanh.backward_diag without the Gauss-Newton simplification."""
    layer = nn.Tanh()
    layer.forward(a)
    return layer.backward_diag(g_out, h_out, gauss_newton=False)[1]


def lecun_tanh_cases():
    edge = [Case("edge: a = 0 (f″ = 0 there)", dict(a=np.array([[0.0, 0.0]]), g_out=np.array([[1.0, -2.0]]),
                                                   h_out=np.array([[1.0, 1.0]]))),
            Case("edge: zero curvature above, only the f″ term",
                 dict(a=np.array([[0.5, -1.0, 2.0]]), g_out=np.array([[1.0, 1.0, -1.0]]),
                      h_out=np.zeros((1, 3)))),
            Case("edge: zero gradient above, only the f′² term",
                 dict(a=np.array([[0.5, -1.0, 2.0]]), g_out=np.zeros((1, 3)),
                      h_out=np.array([[1.0, 2.0, 3.0]])))]
    return edge + random_cases(lambda r: dict(a=r.normal(size=(2, 3)), g_out=r.normal(size=(2, 3)),
                                              h_out=r.normal(size=(2, 3))))


EXERCISES = [
    Exercise(
        name="lecun_linear", tutorial="02_second_derivatives",
        title="LeCun's recursion for the diagonal second derivatives through one Linear layer",
        statement="""
Implement lecun_linear(x, W, h_out) -> (h_W, h_b, h_x) for a = x Wᵀ + b, given the diagonal
second derivatives h_out[n, o] = ∂²E/∂a[n, o]² of the layer's outputs (LeCun et al. 1990, Eq. 6
and the sum in Eq. 7):

    h_W[o, i] = Σ_n h_out[n, o] · x[n, i]²          (o, i)
    h_b[o]    = Σ_n h_out[n, o]                       (o,)
    h_x[n, i] = Σ_o W[o, i]² · h_out[n, o]            (n, i)   (diagonal approximation)

x : (n, i), W : (o, i), h_out : (n, o).
""",
        stub='''
import numpy as np

def lecun_linear(x, W, h_out):
    """x (n, i), W (o, i), h_out (n, o) -> (h_W (o, i), h_b (o,), h_x (n, i))."""
    raise NotImplementedError
''',
        hint="a[n, o] is linear in W[o, i] with coefficient x[n, i], so the second derivative "
             "picks up the *square* of that coefficient. Same for x[n, i] with W[o, i].",
        reference=lecun_linear, cases=lecun_linear_cases, outputs=("h_W", "h_b", "h_x")),
    Exercise(
        name="lecun_tanh", tutorial="02_second_derivatives",
        title="The diagonal second derivative through y = tanh(a), with the f″ term",
        statement="""
Implement lecun_tanh(a, g_out, h_out) -> h_in for y = tanh(a), elementwise:

    h_in = f′(a)² · h_out + f″(a) · g_out        (LeCun et al. 1990, Eq. 7; exact, not Gauss-Newton;
                                                  the printed Eq. 7 shows −f″, + is consistent with Eq. 8)
    f′(a) = 1 − tanh²(a),   f″(a) = −2 tanh(a) (1 − tanh²(a))

a, g_out = ∂E/∂y and h_out = ∂²E/∂y²: arrays of one shape; h_in has that shape.
""",
        stub='''
import numpy as np

def lecun_tanh(a, g_out, h_out):
    """a, g_out, h_out (same shape) -> h_in = d²E/da² (same shape)."""
    raise NotImplementedError
''',
        hint="Differentiate ∂E/∂a = f′(a) ∂E/∂y once more with respect to a: the product rule "
             "gives two terms. Dropping the second one is the Gauss-Newton (Levenberg-Marquardt) form.",
        reference=lecun_tanh, cases=lecun_tanh_cases),
]
