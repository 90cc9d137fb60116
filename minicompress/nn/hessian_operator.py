"""The Hessian as an operator v ↦ Hv on flat vectors, and the small tools that Krylov and
stochastic estimators built on it share (:mod:`minicompress.nn.spectrum`,
:mod:`minicompress.nn.stochastic_trace`, :mod:`minicompress.nn.kfac`).

Parameters are flattened and concatenated in ``model.parameters()`` order, or in the order of
the ``params=`` selection (the layout of :func:`~minicompress.nn.curvature.hessian`); vectors
are float64 whatever the model's dtype.
"""
from __future__ import annotations

import numbers

import numpy as np

from minicompress.nn.checks import check_finite
from minicompress.nn.module import Module
from minicompress.nn.parameter import Parameter


# ----- the operator v -> Hv on flat vectors ---------------------------------------------------
def select_params(model, params, who: str) -> list[Parameter]:
    """``params`` (None: all; a Parameter, a Module or a list of Parameters) checked against
    ``model``: every one must be a parameter of the model, each at most once."""
    every = model.parameters()
    if params is None:
        chosen = every
    elif isinstance(params, Parameter):
        chosen = [params]
    elif isinstance(params, Module):
        chosen = params.parameters()
    elif isinstance(params, (list, tuple)):
        chosen = list(params)
    else:
        raise TypeError(f"{who}: params must be None, a Parameter, a Module or a list of "
                        f"Parameters, got {type(params).__name__}")
    known = {id(p) for p in every}
    for p in chosen:
        if not isinstance(p, Parameter):
            raise TypeError(f"{who}: params must hold Parameters, got a {type(p).__name__}")
        if id(p) not in known:
            raise ValueError(f"{who}: {p!r} in params is not a parameter of the model")
    if not chosen:
        raise ValueError(f"{who}: params selects no parameters")
    if len({id(p) for p in chosen}) != len(chosen):
        raise ValueError(f"{who}: params lists a parameter twice")
    return chosen


class HessianOperator:
    """v ↦ Hv on flat float64 vectors of the selected parameters; ``count`` the products made.

    The forward pass runs once, here; every call is one exact ``hvp`` after it.
    """

    def __init__(self, model, loss, x, y, params=None, who: str = "hvp"):
        from minicompress.nn.curvature import _hvp_after_forward  # curvature re-exports us
        self.params, self.who = select_params(model, params, who), who
        self.shapes = [p.data.shape for p in self.params]
        self.size = sum(p.data.size for p in self.params)
        self.dtype = self.params[0].data.dtype
        loss(model(x), y)
        self._hvp = lambda v: _hvp_after_forward(model, loss, self.params, v)
        self.count = 0

    def __call__(self, v: np.ndarray) -> np.ndarray:
        parts = self.split(v.astype(self.dtype))
        hv = self._hvp(dict(zip(self.params, parts)))
        self.count += 1
        out = np.concatenate([h.ravel() for h in hv]).astype(np.float64)
        check_finite(out, self.who, f"Hessian-vector product {self.count}")
        return out

    def split(self, flat: np.ndarray) -> list[np.ndarray]:
        """A flat vector as one array per selected parameter (views; in the caller's dtype)."""
        out, start = [], 0
        for shape in self.shapes:
            size = int(np.prod(shape))
            out.append(flat[start:start + size].reshape(shape))
            start += size
        return out

    def flatten(self, arrays, what: str) -> np.ndarray:
        """One array per selected parameter (a direction given by the user), checked, as flat
        float64."""
        if not isinstance(arrays, (list, tuple)) or len(arrays) != len(self.params):
            raise ValueError(f"{self.who}: {what} must be a list of {len(self.params)} arrays, "
                             f"one per parameter, got {type(arrays).__name__}")
        for p, a in zip(self.params, arrays):
            if np.shape(a) != p.data.shape:
                raise ValueError(f"{self.who}: {what} for {p.name!r} has shape {np.shape(a)}, "
                                 f"expected {p.data.shape}")
            check_finite(np.asarray(a, np.float64), self.who, f"{what} for {p.name!r}")
        return np.concatenate([np.asarray(a, np.float64).ravel() for a in arrays])


def int_at_least(value, who: str, what: str, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise ValueError(f"{who}: {what} must be an int >= {minimum}, got {value!r}")
    return int(value)


def rademacher(rng, size: int) -> np.ndarray:
    return rng.integers(0, 2, size).astype(np.float64) * 2 - 1


def unit_random(rng, size: int, basis) -> np.ndarray:
    """A random unit vector orthogonal to the (orthonormal) ``basis`` vectors."""
    for _ in range(10):
        q = orthogonalize(rng.standard_normal(size), basis)
        norm = np.linalg.norm(q)
        if norm > 1e-8 * np.sqrt(size):
            return q / norm
    raise RuntimeError("no random vector orthogonal to the basis (it spans the whole space)")


def orthogonalize(w: np.ndarray, basis) -> np.ndarray:
    """w minus its components along the orthonormal ``basis``: Gram–Schmidt twice ("twice is
    enough", Kahan–Parlett), which keeps the basis orthogonal to working precision."""
    for _ in range(2):
        for q in basis:
            w -= (q @ w) * q
    return w
