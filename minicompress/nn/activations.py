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
    """Base class: subclasses define ``f(a)``, ``df(a, y)`` and ``d2f(a, y)``; piecewise-linear
    ones (f″ = 0 almost everywhere) set ``piecewise_linear = True`` so f″ terms are skipped."""

    piecewise_linear = False

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

    # ----- second order (protocol in minicompress.nn.module) ------------------------------
    def backward_diag(self, g_out, h_out, gauss_newton, need_input=True):
        """LeCun's recursion through y = f(a): ∂²E/∂a² = f′(a)² ∂²E/∂y² + f″(a) ∂E/∂y; the
        Gauss–Newton (Levenberg–Marquardt) form drops the f″ term, which keeps h ≥ 0."""
        a, y = self.cached("a"), self.cache["y"]
        df = self.df(a, y)
        h_in = df * df * h_out
        if not gauss_newton and not self.piecewise_linear:
            h_in += self.d2f(a, y) * g_out
        return (None if g_out is None else g_out * df), h_in

    def backward_ggn(self, s_out, need_input=True):
        return s_out * self.df(self.cached("a"), self.cache["y"])  # broadcast over columns

    def forward_r(self, ra, v):
        """R{y} = f′(a) R{a}."""
        self.cache["ra"] = ra
        return None if ra is None else self.df(self.cached("a"), self.cache["y"]) * ra

    def backward_r(self, g_out, rg_out, hv, need_input=True):
        """g_in = f′(a) g;  R{g_in} = f′(a) R{g} + f″(a) R{a} g."""
        a, y, ra = self.cached("a"), self.cache["y"], self.cache.get("ra")
        df = self.df(a, y)
        rg_in = df * rg_out
        if ra is not None and not self.piecewise_linear:
            rg_in += self.d2f(a, y) * ra * g_out
        return g_out * df, rg_in

    def config(self) -> dict:
        return {}


class ReLU(Activation):
    """f(a) = max(a, 0); f′ = 1 if a > 0 else 0 (0 at a = 0, as PyTorch); f″ = 0."""

    piecewise_linear = True

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
