"""Optimizers: the only code that changes weights.

Both follow PyTorch's update rules (weight decay as an L2 term added to the gradient) and honour
masks: a masked entry's update and optimizer state are zeroed, so its stored value never changes
and the effective weight ``data * mask`` stays exactly zero.
"""
from __future__ import annotations

import math

import numpy as np

from minicompress.nn.parameter import Parameter


class Optimizer:
    """Holds the parameters and the learning rate; subclasses implement ``update`` and name
    their per-parameter state arrays in ``STATE`` (lists aligned with ``params``)."""

    STATE: tuple = ()

    def __init__(self, params, lr: float, weight_decay: float = 0.0):
        self.params = list(params)
        name = type(self).__name__
        if not self.params:
            raise ValueError(f"{name}: got an empty parameter list")
        for i, p in enumerate(self.params):
            if not isinstance(p, Parameter):
                raise TypeError(f"{name}: item {i} of params is a {type(p).__name__}, not a Parameter")
        if len({id(p) for p in self.params}) != len(self.params):
            raise ValueError(f"{name}: a parameter appears more than once in params")
        self.lr = _check_number(lr, name, "lr", positive=True)
        self.weight_decay = _check_number(weight_decay, name, "weight_decay")
        self.steps = 0

    def zero_grad(self) -> None:
        for p in self.params:
            p.grad.fill(0)

    def astype(self, dtype) -> "Optimizer":
        """Keep the state (momentum, moments) in ``dtype`` from now on; returns self. The step
        computes in the wider of that dtype and the parameters' (``QuantizedOptimizer`` forms
        its updates in float64 this way)."""
        for name in self.STATE:
            arrays = getattr(self, name)
            if arrays is not None:
                setattr(self, name, [a.astype(dtype) for a in arrays])
        return self

    def step(self) -> None:
        """Apply one update to every parameter from its current ``grad``."""
        self.steps += 1
        for i, p in enumerate(self.params):
            g = p.grad
            if self.weight_decay:
                g = g + self.weight_decay * p.data
            if p.mask is not None:
                g = g * p.mask
            self.update(i, p, g)

    def update(self, i: int, p: Parameter, g: np.ndarray) -> None:
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}(lr={self.lr}, {len(self.params)} parameters)"


class SGD(Optimizer):
    """Stochastic gradient descent with momentum (PyTorch's form, no dampening).

        v ← μ·v + g,    w ← w − η·v        (Nesterov: w ← w − η·(g + μ·v))

    with g = ∂E/∂w + λ·w (weight decay λ).
    """

    STATE = ("velocity",)

    def __init__(self, params, lr: float, momentum: float = 0.0, weight_decay: float = 0.0,
                 nesterov: bool = False):
        super().__init__(params, lr, weight_decay)
        self.momentum = _check_number(momentum, "SGD", "momentum", upper=1.0)
        if nesterov and not self.momentum:
            raise ValueError("SGD: nesterov=True needs a momentum > 0")
        self.nesterov = nesterov
        self.velocity = [np.zeros_like(p.data) for p in self.params] if self.momentum else None

    def update(self, i: int, p: Parameter, g: np.ndarray) -> None:
        if self.momentum:
            v = self.velocity[i]
            v *= self.momentum
            v += g
            if p.mask is not None:
                v *= p.mask  # no stale momentum under a new mask
            g = g + self.momentum * v if self.nesterov else v
        p.data -= self.lr * g


class Adam(Optimizer):
    """Adam (Kingma & Ba 2015):

        m ← β₁m + (1 − β₁)g,   v ← β₂v + (1 − β₂)g²,
        w ← w − η · m̂ / (√v̂ + ε),   m̂ = m / (1 − β₁ᵗ),  v̂ = v / (1 − β₂ᵗ).
    """

    STATE = ("m", "v")

    def __init__(self, params, lr: float = 1e-3, betas=(0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0):
        super().__init__(params, lr, weight_decay)
        if len(betas) != 2:
            raise ValueError(f"Adam: betas must be a pair, got {betas!r}")
        self.betas = tuple(_check_number(b, "Adam", "betas", upper=1.0) for b in betas)
        self.eps = _check_number(eps, "Adam", "eps", positive=True)
        self.m = [np.zeros_like(p.data) for p in self.params]
        self.v = [np.zeros_like(p.data) for p in self.params]

    def update(self, i: int, p: Parameter, g: np.ndarray) -> None:
        (b1, b2), m, v = self.betas, self.m[i], self.v[i]
        m *= b1
        m += (1 - b1) * g
        v *= b2
        v += (1 - b2) * (g * g)
        if p.mask is not None:
            m *= p.mask
            v *= p.mask
        step_size = self.lr / (1 - b1 ** self.steps)
        denom = np.sqrt(v / (1 - b2 ** self.steps))
        denom += self.eps
        p.data -= step_size * m / denom


def _check_number(value, who: str, what: str, positive: bool = False, upper: float | None = None):
    """A finite real number >= 0 (> 0 if positive, < upper if given)."""
    ok = isinstance(value, (int, float, np.floating, np.integer)) and not isinstance(value, bool)
    ok = ok and math.isfinite(value) and (value > 0 if positive else value >= 0)
    ok = ok and (upper is None or value < upper)
    if not ok:
        bound = f"{'> 0' if positive else '>= 0'}" + (f" and < {upper}" if upper is not None else "")
        raise ValueError(f"{who}: {what} must be a finite number {bound}, got {value!r}")
    return float(value)
