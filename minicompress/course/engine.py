"""Exercises of tutorial 01 (the engine): a layer's backward pass and the loss's gradient."""
from __future__ import annotations

import numpy as np

from minicompress import nn
from minicompress.course.checking import Case, random_cases
from minicompress.course.exercise import Exercise


def linear_backward(x, W, g_out):
    """The library's Linear layer: forward on x, then grad_input and grad_params of g_out."""
    layer = nn.Linear(W.shape[1], W.shape[0], dtype=W.dtype)
    layer.weight.data[...] = W
    layer.forward(x)
    layer.grad_params(g_out)
    return layer.grad_input(g_out), layer.weight.grad, layer.bias.grad


def linear_cases():
    edge = [Case("edge: one example, one input", dict(x=np.array([[2.0]]), W=np.array([[3.0], [-1.0]]),
                                                      g_out=np.array([[1.0, 0.5]]))),
            Case("edge: zero upstream gradient", dict(x=np.arange(6.0).reshape(2, 3),
                                                      W=np.ones((2, 3)), g_out=np.zeros((2, 2)))),
            Case("edge: more outputs than inputs", dict(x=np.array([[1.0, -2.0]]),
                                                        W=np.arange(8.0).reshape(4, 2) - 3,
                                                        g_out=np.array([[1.0, 2.0, 0.0, -1.0]])))]
    single = Case("edge: float32 inputs", {k: v.astype(np.float32) for k, v in
                                           _linear_inputs(np.random.default_rng(7), 3, 4, 2).items()})
    return edge + [single] + random_cases(lambda r: _linear_inputs(r, *r.integers(1, 5, size=3)))


def _linear_inputs(r, n, i, o):
    return dict(x=r.normal(size=(n, i)), W=r.normal(size=(o, i)), g_out=r.normal(size=(n, o)))


def softmax_cross_entropy_grad(z, t):
    """The library's SoftmaxCrossEntropy (mean over the batch): ∂E/∂z."""
    loss = nn.SoftmaxCrossEntropy()
    loss.forward(z, t)
    return loss.backward()


def softmax_cases():
    edge = [Case("edge: equal logits", dict(z=np.zeros((1, 4)), t=np.array([2]))),
            Case("edge: large logits (exp overflows unless shifted)",
                 dict(z=np.array([[1000.0, 1001.0, 999.0], [-800.0, 0.0, 5.0]]), t=np.array([1, 0]))),
            Case("edge: two classes, a batch of three", dict(z=np.array([[2.0, -1.0], [0.0, 0.5], [3.0, 3.0]]),
                                                            t=np.array([0, 1, 1])))]
    return edge + random_cases(lambda r: _softmax_inputs(r, *r.integers(1, 6, size=1), *r.integers(2, 6, size=1)))


def _softmax_inputs(r, n, c):
    return dict(z=3 * r.normal(size=(n, c)), t=r.integers(0, c, size=n))


EXERCISES = [
    Exercise(
        name="linear_backward", tutorial="01_engine",
        title="The backward pass of a Linear layer y = x Wᵀ + b",
        statement="""
Implement linear_backward(x, W, g_out) -> (g_x, g_W, g_b) for the layer y = x Wᵀ + b.

    x : (n, i) the layer's input;  W : (o, i) its weight;  g_out : (n, o) = ∂E/∂y
    g_x = ∂E/∂x = g_out W            (n, i)
    g_W = ∂E/∂W = g_outᵀ x           (o, i), summed over the batch
    g_b = ∂E/∂b = Σ_n g_out[n, :]    (o,)
""",
        stub='''
import numpy as np

def linear_backward(x, W, g_out):
    """x (n, i), W (o, i), g_out (n, o) -> (g_x (n, i), g_W (o, i), g_b (o,))."""
    raise NotImplementedError
''',
        hint="Write y[n, o] = Σ_i x[n, i] W[o, i] + b[o] and differentiate one entry at a time; "
             "the shapes tell you where the transposes go. The batch is summed, not averaged.",
        reference=linear_backward, cases=linear_cases, outputs=("g_x", "g_W", "g_b")),
    Exercise(
        name="softmax_cross_entropy_grad", tutorial="01_engine",
        title="The gradient of softmax cross-entropy with respect to the logits",
        statement="""
Implement softmax_cross_entropy_grad(z, t) -> g for the mean loss

    E = (1/n) Σ_n −log p[n, t_n],   p[n, :] = softmax(z[n, :])
    g = ∂E/∂z = (p − onehot(t)) / n                  (n, C)

z : (n, C) float logits; t : (n,) int labels in [0, C). Must work for large logits (1000).
""",
        stub='''
import numpy as np

def softmax_cross_entropy_grad(z, t):
    """z (n, C) logits, t (n,) integer labels -> dE/dz (n, C) for the mean loss."""
    raise NotImplementedError
''',
        hint="Subtract each row's maximum before exp: softmax does not change, and exp cannot "
             "overflow. Then subtract 1 at [n, t[n]] and divide by the batch size.",
        reference=softmax_cross_entropy_grad, cases=softmax_cases),
]
