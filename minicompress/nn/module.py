"""Module: the protocol every layer of the engine follows.

Names used throughout the engine: ``x`` a layer's input, ``y`` its output, ``g_out = ∂E/∂y``
the gradient arriving from above, ``g_in = ∂E/∂x`` the gradient sent below, ``W``/``b`` weight
and bias, ``n`` the batch size. Arrays are batch-first; images are NCHW.

A layer implements

``forward(x) -> y``
    computes the output and caches, under names in ``self.cache``, what the backward pass needs;
``grad_params(g_out)``
    adds ∂E/∂θ into ``p.grad`` of each of its parameters (nothing to do without parameters);
``grad_input(g_out) -> g_in``
    returns ∂E/∂x.

``backward(g_out)`` runs both and returns ``g_in``. The split (BackPACK's weight/input Jacobian
split) lets a model skip the input gradient of its first layer, which nobody needs in training.
Backward never changes a weight: only an optimizer steps.

Second-order passes (driven by :mod:`minicompress.nn.curvature`; each layer keeps these rules
next to its forward and backward). ``need_input=False`` tells a model's first layer with
parameters that nothing below it needs the input-side result, which it may then skip (None).

``backward_diag(g_out, h_out, gauss_newton) -> (g_in, h_in)``
    Becker & LeCun's diagonal recursion: h is a per-example approximation of the diagonal of
    ∂²E/∂y² (shape of y); adds ≈ ∂²E/∂θ² into ``p.hdiag``. ``g_out`` feeds the f″ terms and
    is None under the Gauss–Newton approximation, which drops them.
``backward_ggn(s_out) -> s_in``
    s (m, *y.shape): m columns of a square root of the loss Hessian, carried back through the
    layer's Jacobian; adds Σ over columns and examples of the squared per-example ∂/∂θ into
    ``p.hdiag`` (the exact generalized Gauss–Newton diagonal).
``forward_r(rx, v) -> ry``
    Pearlmutter's R-operator R{·} = ∂/∂t (·)(θ + t·v) at t = 0: R{y} from R{x} (None for 0) and
    the parameter direction ``v`` (a dict Parameter -> array; absent means 0).
``backward_r(g_out, rg_out, hv) -> (g_in, rg_in)``
    The R-operator applied to backward: adds R{∂E/∂θ} = (Hv)_θ into ``hv[θ]``.
"""
from __future__ import annotations

import numpy as np

from minicompress.nn.checks import check_finite, check_mask
from minicompress.nn.parameter import Parameter


class Module:
    """Base class of every layer and model (see the module docstring for the protocol)."""

    def __init__(self):
        self.training = True
        self.name = ""  # path inside the model, set by Sequential; used in error messages
        self.cache = {}

    # ----- the protocol -------------------------------------------------------------------
    def forward(self, x: np.ndarray) -> np.ndarray:
        raise NotImplementedError(f"{type(self).__name__} does not implement forward")

    def grad_params(self, g_out: np.ndarray) -> None:
        """Add ∂E/∂θ into each own parameter's ``grad``. Parameter-free modules do nothing."""
        if any(True for _ in self.own_parameters()):
            raise NotImplementedError(f"{type(self).__name__} has parameters but no grad_params")

    def grad_input(self, g_out: np.ndarray) -> np.ndarray:
        raise NotImplementedError(f"{type(self).__name__} does not implement grad_input")

    def backward(self, g_out: np.ndarray) -> np.ndarray:
        """Accumulate parameter gradients and return ∂E/∂x."""
        self.grad_params(g_out)
        return self.grad_input(g_out)

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return self.forward(x)

    def backward_diag(self, g_out, h_out, gauss_newton: bool, need_input: bool = True):
        raise self._no_rule("backward_diag")

    def backward_ggn(self, s_out, need_input: bool = True):
        raise self._no_rule("backward_ggn")

    def forward_r(self, rx, v: dict):
        raise self._no_rule("forward_r")

    def backward_r(self, g_out, rg_out, hv: dict, need_input: bool = True):
        raise self._no_rule("backward_r")

    def macs(self, output_shape: tuple, nonzero: bool = False) -> int:
        """Multiply-accumulates this layer performs for one example whose output has
        ``output_shape`` (without the batch axis); with ``nonzero``, only those of nonzero
        weights. Layers without weights (activations, pooling, reshapes) count 0."""
        return 0

    def _no_rule(self, method: str) -> NotImplementedError:
        return NotImplementedError(
            f"{self.describe()} has no second-order rule {method}; implement {method} in "
            f"{type(self).__name__} (see the protocol in minicompress.nn.module)")

    def cached(self, key: str):
        """Return what forward cached under ``key``; a clear error if forward has not run."""
        try:
            return self.cache[key]
        except KeyError:
            raise RuntimeError(f"{self.describe()}: backward called before forward") from None

    # ----- structure ----------------------------------------------------------------------
    def own_parameters(self):
        """Parameters held directly by this module (attributes that are Parameters)."""
        return (v for v in vars(self).values() if isinstance(v, Parameter))

    def named_children(self):
        """(name, module) for each sub-module held as an attribute, in definition order."""
        return ((k, v) for k, v in vars(self).items() if isinstance(v, Module))

    def named_parameters(self, prefix: str = "") -> list[tuple[str, Parameter]]:
        """All parameters with dotted names such as ``"0.weight"``, in a fixed order."""
        out = [(prefix + k, v) for k, v in vars(self).items() if isinstance(v, Parameter)]
        for name, child in self.named_children():
            out += child.named_parameters(prefix + name + ".")
        return out

    def parameters(self) -> list[Parameter]:
        """Every parameter, in ``named_parameters`` order."""
        return [p for _, p in self.named_parameters()]

    def modules(self):
        """This module and all its descendants, depth first."""
        yield self
        for _, child in self.named_children():
            yield from child.modules()

    def zero_grad(self) -> None:
        """Set every parameter's ``grad`` to zero."""
        for p in self.parameters():
            p.grad.fill(0)

    def train(self, mode: bool = True) -> "Module":
        """Training mode for this module and all below it (``eval()``: mode False)."""
        for m in self.modules():
            m.training = mode
        return self

    def eval(self) -> "Module":
        return self.train(False)

    def clear(self) -> "Module":
        """Forget every cached forward value and scratch buffer, here and below (before a copy
        or a change of shapes); the next forward pass rebuilds them. Returns self."""
        for m in self.modules():
            m.cache.clear()
            m.release_buffers()
        return self

    def release_buffers(self) -> None:
        """Drop reusable scratch arrays (layers that keep some override this)."""

    def astype(self, dtype) -> "Module":
        """Convert every parameter (data, grad, mask) to ``dtype`` in place; returns self."""
        dtype = np.dtype(dtype)
        if not np.issubdtype(dtype, np.floating):
            raise TypeError(f"astype: expected a floating-point dtype, got {dtype}")
        for p in self.parameters():
            p.data = p.data.astype(dtype)
            p.grad = p.grad.astype(dtype)
            p.mask = None if p.mask is None else p.mask.astype(dtype)
            p.hdiag = None
        return self.clear()

    # ----- state --------------------------------------------------------------------------
    def state_dict(self) -> dict[str, np.ndarray]:
        """Copies of every parameter's data, plus ``"<name>_mask"`` for masked parameters."""
        state = {}
        for name, p in self.named_parameters():
            state[name] = p.data.copy()
            if p.mask is not None:
                state[name + "_mask"] = p.mask.copy()
        return state

    def load_state_dict(self, state: dict) -> None:
        """Load arrays by name; names, shapes and kinds must match exactly, values must be
        finite and masks 0/1. Nothing is changed unless every array passes."""
        if not isinstance(state, dict):
            raise TypeError(f"load_state_dict: state must be a dict of arrays (as state_dict() "
                            f"returns), got {type(state).__name__}")
        params = dict(self.named_parameters())
        expected = set(params) | {k + "_mask" for k in params}
        unexpected = sorted(set(state) - expected)
        missing = sorted(set(params) - set(state))
        if unexpected or missing:
            raise ValueError(f"load_state_dict: missing {missing or 'nothing'}, "
                             f"unexpected {unexpected or 'nothing'}")
        loaded = {}
        for name, p in params.items():
            value = np.asarray(state[name])
            if value.shape != p.data.shape or not np.issubdtype(value.dtype, np.floating):
                raise ValueError(f"load_state_dict: {name!r} expected {p.data.dtype} array of shape "
                                 f"{p.data.shape}, got {value.dtype} array of shape {value.shape}")
            check_finite(value, "load_state_dict", repr(name))
            mask = state.get(name + "_mask")
            if mask is not None:
                mask = np.asarray(mask)
                if mask.shape != p.data.shape:
                    raise ValueError(f"load_state_dict: {name + '_mask'!r} expected shape "
                                     f"{p.data.shape}, got {mask.shape}")
                mask = check_mask(mask, p.data, name + "_mask")
            loaded[name] = value.astype(p.data.dtype, copy=True), mask
        for name, (value, mask) in loaded.items():
            p = params[name]
            p.data, p.grad, p.mask, p.hdiag = value, np.zeros_like(value), mask, None
        self.clear()

    # ----- display ------------------------------------------------------------------------
    def extra_repr(self) -> str:
        return ""

    def describe(self) -> str:
        """``Linear(784 -> 300) at '0'``: what error messages call this module."""
        where = f" at '{self.name}'" if self.name else ""
        return f"{type(self).__name__}({self.extra_repr()}){where}"

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.extra_repr()})"
