"""Gate: Mozer & Smolensky's attentional strength α on every unit, as a layer of its own.

Unit i of a gated network sends α_i·x_i instead of x_i to the layer above. α = 1 everywhere is
the plain network; α_i = 0 removes unit i. The gates are never trained: they exist so that
backpropagation gives ∂E/∂α_i, how much the error depends on unit i, in the same pass that
gives the weight gradients. (Mozer & Smolensky 1988 write x_j = f(Σ_i w_ji α_i x_i).)

:func:`gate` puts a Gate in front of every Linear layer of a plain MLP, so the input units and
the units of every hidden layer are gated; :func:`ungate` folds the gates back into the weights
(W[:, i] ← W[:, i]·α_i) and returns a plain model, on which :mod:`minicompress.pruning.surgery`
can delete units for real.

Index conventions: n batch, i unit.
"""
from __future__ import annotations

import copy

import numpy as np

from minicompress.nn import Linear, Module, Parameter, Sequential
from minicompress.nn.checks import check_grad_out, check_input, positive_int


class Gate(Module):
    """y = α ⊙ x: every unit's output scaled by its gate.

    Parameters
    ----------
    units : int
        Number of gated units i.
    dtype : floating dtype
        Of α; inputs must have the same dtype.

    Shapes: x (n, i), α (i,), y (n, i). α starts at 1 (the plain network).
    """

    def __init__(self, units: int, *, dtype=np.float32):
        super().__init__()
        self.units = positive_int(units, "Gate", "units")
        self.alpha = Parameter(np.ones(self.units, dtype=dtype), "alpha")

    def forward(self, x: np.ndarray) -> np.ndarray:
        check_input(self, x, "ni", {1: self.units}, self.alpha.data.dtype)
        self.cache["x"] = x
        return x * self.alpha.value()

    def grad_params(self, g_out: np.ndarray) -> None:
        """∂E/∂α_i = Σ_n ∂E/∂y[n, i] · x[n, i] (Mozer & Smolensky's relevance, up to sign)."""
        x = self.cached("x")
        check_grad_out(self, g_out, x.shape)
        self.alpha.add_grad((g_out * x).sum(axis=0))

    def grad_input(self, g_out: np.ndarray) -> np.ndarray:
        """∂E/∂x = α ⊙ g_out."""
        check_grad_out(self, g_out, self.cached("x").shape)
        return g_out * self.alpha.value()

    # Second-order rules (curvature of a gated network) are not needed by skeletonization and
    # are not implemented: the base class raises NotImplementedError naming this layer.

    def config(self) -> dict:
        return dict(units=self.units, dtype=str(self.alpha.data.dtype))

    def extra_repr(self) -> str:
        return f"{self.units}"


def gate(model: Sequential) -> Sequential:
    """A copy of the flat Sequential ``model`` with a Gate (α = 1) before every Linear layer."""
    layers = []
    for layer in _flat_copy(model, "gate").layers:
        if isinstance(layer, Gate):
            raise ValueError(f"gate: the model is already gated ({layer.describe()})")
        if isinstance(layer, Linear):
            layers.append(Gate(layer.in_features, dtype=layer.weight.data.dtype))
        layers.append(layer)
    return Sequential(*layers)


def ungate(model: Sequential) -> Sequential:
    """A plain copy of a gated ``model``: each gate folded into the next Linear, W[:, i] *= α_i.

    At α = 1 this only removes the Gate layers; the outputs are unchanged for any α.
    """
    layers = _flat_copy(model, "ungate").layers
    plain = []
    for k, layer in enumerate(layers):
        if not isinstance(layer, Gate):
            plain.append(layer)
            continue
        after = layers[k + 1] if k + 1 < len(layers) else None
        if not isinstance(after, Linear):
            raise ValueError(f"ungate: {layer.describe()} must be followed by a Linear layer, "
                             f"got {after.describe() if after is not None else 'the end of the model'}")
        after.weight.data = after.weight.data * layer.alpha.value()  # scale input columns
    return Sequential(*plain)


def gates(model: Module) -> list[Gate]:
    """The Gate layers of ``model``, input gate first."""
    return [m for m in model.modules() if isinstance(m, Gate)]


def trainable(model: Module) -> list[Parameter]:
    """The parameters an optimizer should train: all but the gates (α is never trained)."""
    alphas = {id(g.alpha) for g in gates(model)}
    return [p for p in model.parameters() if id(p) not in alphas]


def _flat_copy(model: Sequential, who: str) -> Sequential:
    if not isinstance(model, Sequential) or any(isinstance(m, Sequential) for m in model.layers):
        raise TypeError(f"{who}: expected a flat Sequential model, got {type(model).__name__}")
    new = copy.deepcopy(model)
    for m in new.modules():
        m.cache.clear()
    return new
