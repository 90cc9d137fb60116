"""Parameter, Module and Sequential: the protocol every layer of the engine follows.

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
"""
from __future__ import annotations

import numpy as np

from minicompress.nn.checks import check_mask


class Parameter:
    """A trainable array with its gradient, curvature and pruning mask.

    Attributes
    ----------
    data : ndarray
        The master values. With a mask set, the layer uses ``data * mask`` (see :meth:`value`);
        ``data`` itself keeps the values of pruned entries, as PyTorch's ``weight_orig`` does.
    grad : ndarray
        ∂E/∂data accumulated by backward passes (zero at masked entries).
    hdiag : ndarray or None
        Accumulated diagonal second derivative, written by :mod:`minicompress.nn.curvature`.
    mask : ndarray or None
        None, or a 0/1 array of ``data``'s shape and dtype. Masked entries get zero gradient
        and are never changed by an optimizer.
    name : str
        Dotted name inside its model (``"0.weight"``), set by :class:`Sequential`.
    """

    def __init__(self, data: np.ndarray, name: str = ""):
        data = np.asarray(data)
        if not np.issubdtype(data.dtype, np.floating):
            raise TypeError(f"Parameter {name!r}: data must be a floating-point array, got {data.dtype}")
        self.data = data
        self.grad = np.zeros_like(data)
        self.hdiag = None
        self._mask = None
        self.name = name

    @property
    def shape(self) -> tuple:
        return self.data.shape

    @property
    def mask(self):
        return self._mask

    @mask.setter
    def mask(self, mask):
        self._mask = None if mask is None else check_mask(mask, self.data, self.name)

    def value(self) -> np.ndarray:
        """The array a layer computes with: ``data * mask``, or ``data`` without a mask."""
        return self.data if self._mask is None else self.data * self._mask

    def add_grad(self, g: np.ndarray) -> None:
        """Accumulate ``g`` (same shape as ``data``) into ``grad``, zeroing masked entries."""
        if g.shape != self.data.shape:
            raise ValueError(f"Parameter {self.name!r}: gradient of shape {g.shape} does not "
                             f"match data of shape {self.data.shape}")
        if self._mask is not None:
            g = g * self._mask
        self.grad += g

    def __repr__(self) -> str:
        masked = "" if self._mask is None else f", {int(self._mask.size - self._mask.sum())} masked"
        return f"Parameter({self.name or '?'}, shape={self.data.shape}, dtype={self.data.dtype}{masked})"


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
        return [p for _, p in self.named_parameters()]

    def modules(self):
        """This module and all its descendants, depth first."""
        yield self
        for _, child in self.named_children():
            yield from child.modules()

    def zero_grad(self) -> None:
        for p in self.parameters():
            p.grad.fill(0)

    def train(self, mode: bool = True) -> "Module":
        for m in self.modules():
            m.training = mode
        return self

    def eval(self) -> "Module":
        return self.train(False)

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
        for m in self.modules():
            m.cache.clear()
        return self

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
        """Load arrays by name; names, shapes and kinds must match exactly."""
        params = dict(self.named_parameters())
        expected = set(params) | {k + "_mask" for k in params}
        unexpected = sorted(set(state) - expected)
        missing = sorted(set(params) - set(state))
        if unexpected or missing:
            raise ValueError(f"load_state_dict: missing {missing or 'nothing'}, "
                             f"unexpected {unexpected or 'nothing'}")
        for name, p in params.items():
            value = np.asarray(state[name])
            if value.shape != p.data.shape or not np.issubdtype(value.dtype, np.floating):
                raise ValueError(f"load_state_dict: {name!r} expected {p.data.dtype} array of shape "
                                 f"{p.data.shape}, got {value.dtype} array of shape {value.shape}")
            p.data = value.astype(p.data.dtype, copy=True)
            p.grad = np.zeros_like(p.data)
            p.mask = state.get(name + "_mask")

    # ----- display ------------------------------------------------------------------------
    def extra_repr(self) -> str:
        return ""

    def describe(self) -> str:
        """``Linear(784 -> 300) at '0'``: what error messages call this module."""
        where = f" at '{self.name}'" if self.name else ""
        return f"{type(self).__name__}({self.extra_repr()}){where}"

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.extra_repr()})"


class Sequential(Module):
    """Layers applied one after another: ``Sequential(Linear(784, 300), ReLU(), ...)``.

    Layers are named by position (``"0"``, ``"1"``, ...), so parameters are ``"0.weight"`` etc.
    """

    def __init__(self, *layers: Module):
        super().__init__()
        for i, layer in enumerate(layers):
            if not isinstance(layer, Module):
                raise TypeError(f"Sequential: item {i} is a {type(layer).__name__}, not a Module")
        self.layers = list(layers)
        self.set_names()

    def set_names(self, prefix: str = "") -> None:
        """Name every sub-module and parameter by its dotted path (used in messages)."""
        self.name = prefix.rstrip(".")
        for name, child in self.named_children():
            child.name = prefix + name
            if isinstance(child, Sequential):
                child.set_names(prefix + name + ".")
            for local, p in child.named_parameters():
                p.name = f"{prefix}{name}.{local}"

    def named_children(self):
        return ((str(i), layer) for i, layer in enumerate(self.layers))

    def __getitem__(self, i):
        return self.layers[i]

    def __len__(self) -> int:
        return len(self.layers)

    def __iter__(self):
        return iter(self.layers)

    def forward(self, x: np.ndarray) -> np.ndarray:
        for layer in self.layers:
            x = layer.forward(x)
        return x

    def backward(self, g_out: np.ndarray) -> np.ndarray:
        for layer in reversed(self.layers):
            g_out = layer.backward(g_out)
        return g_out

    def grad_input(self, g_out: np.ndarray) -> np.ndarray:
        for layer in reversed(self.layers):
            g_out = layer.grad_input(g_out)
        return g_out

    def grad_params(self, g_out: np.ndarray) -> None:
        """Backpropagate for parameter gradients only: stop at the first layer with parameters,
        whose input gradient would be thrown away (a third of the first layer's cost)."""
        first = next((i for i, l in enumerate(self.layers) if l.parameters()), len(self.layers))
        for layer in reversed(self.layers[first + 1:]):
            g_out = layer.backward(g_out)
        if first < len(self.layers):
            self.layers[first].grad_params(g_out)

    def __repr__(self) -> str:
        lines = [f"  ({i}) {layer!r}" for i, layer in enumerate(self.layers)]
        return "Sequential(\n" + "\n".join(lines) + "\n)"
