"""Elementwise activations, each with f, f′ and f″ side by side.

An activation y = f(a) acts on every entry of its input a independently, so

    forward    y = f(a)
    backward   ∂E/∂a = f′(a) · ∂E/∂y

and f″ is what second-order methods (Optimal Brain Damage's recursion, Hessian-vector products)
need. ``df`` and ``d2f`` receive y = f(a) as well as a, so that derivatives written through the
output (σ′ = σ(1 − σ), tanh′ = 1 − tanh²) cost no second evaluation of f.
"""
from __future__ import annotations

import numpy as np
from scipy.special import expit

from minicompress.nn.checks import check_array, check_grad_out
from minicompress.nn.module import Module


class Activation(Module):
    """Base class: subclasses define ``f(a)``, ``df(a, y)`` and ``d2f(a, y)``."""

    def f(self, a: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def df(self, a: np.ndarray, y: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def d2f(self, a: np.ndarray, y: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def forward(self, a: np.ndarray) -> np.ndarray:
        check_array(a, self.describe())
        y = self.f(a)
        self.cache["a"], self.cache["y"] = a, y
        return y

    def grad_input(self, g_out: np.ndarray) -> np.ndarray:
        a = self.cached("a")
        check_grad_out(self, g_out, a.shape)
        return g_out * self.df(a, self.cache["y"])

    def config(self) -> dict:
        return {}


class ReLU(Activation):
    """f(a) = max(a, 0); f′ = 1 if a > 0 else 0 (0 at a = 0, as PyTorch); f″ = 0."""

    def f(self, a):
        return np.maximum(a, a.dtype.type(0))

    def df(self, a, y):
        return (a > 0).astype(a.dtype)

    def d2f(self, a, y):
        return np.zeros_like(a)

    def grad_input(self, g_out):
        a = self.cached("a")
        check_grad_out(self, g_out, a.shape)
        return g_out * (a > 0)  # a boolean factor: no float array of f′ needed


class Tanh(Activation):
    """f = tanh a; f′ = 1 − y²; f″ = −2y(1 − y²)."""

    def f(self, a):
        return np.tanh(a)

    def df(self, a, y):
        return 1 - y * y

    def d2f(self, a, y):
        return -2 * y * (1 - y * y)


class Sigmoid(Activation):
    """f = σ(a) = 1/(1 + e^−a); f′ = y(1 − y); f″ = y(1 − y)(1 − 2y)."""

    def f(self, a):
        return expit(a)  # no overflow warning for large |a|

    def df(self, a, y):
        return y * (1 - y)

    def d2f(self, a, y):
        return y * (1 - y) * (1 - 2 * y)


class ScaledTanh(Activation):
    """LeCun's sigmoid f(a) = A·tanh(S·a), A = 1.7159, S = 2/3 (LeCun et al. 1998, App. A):
    f(±1) ≈ ±1 and the gain is near 1 there. With t = tanh(S·a) = y/A:
    f′ = A·S·(1 − t²), f″ = −2·A·S²·t·(1 − t²).
    """

    A, S = 1.7159, 2.0 / 3.0

    def f(self, a):
        return self.A * np.tanh(self.S * a)

    def df(self, a, y):
        t = y / self.A
        return self.A * self.S * (1 - t * t)

    def d2f(self, a, y):
        t = y / self.A
        return -2 * self.A * self.S ** 2 * t * (1 - t * t)
