"""Gate: Mozer & Smolensky's attentional strength α on every unit, as a layer of its own.

Unit i of a gated network sends α_i·x_i instead of x_i to the layer above. α = 1 everywhere is
the plain network; α_i = 0 removes unit i. The gates are never trained: they exist so that
backpropagation gives ∂E/∂α_i, how much the error depends on unit i, in the same pass that
gives the weight gradients. (Mozer & Smolensky 1988 write x_j = f(Σ_i w_ji α_i x_i).)

:func:`gate` puts a Gate in front of every Linear layer of a plain MLP, so the input units and
the units of every hidden layer are gated; :func:`ungate` folds the gates back into the weights
(W[:, i] ← W[:, i]·α_i) and returns a plain model, on which :mod:`minicompress.pruning.surgery`
can delete units for real (:func:`remove_unit` does both and gates the result again).
:func:`gate_gradients` gives ∂E/∂α for every gate without disturbing the weights' gradients.

Mozer & Smolensky's relevance of a unit (the estimate ρ̂_i = −∂E/∂α_i with their linear
error, the true ρ_i = E(α_i = 0) − E(α_i = 1), the 0.8/0.2 average, the trimming loop) is built
on these gates in :mod:`minicompress.papers.mozer1988_skeletonization`.

Index conventions: n batch, i unit.
"""
from __future__ import annotations

import copy

import numpy as np

from minicompress.nn import Linear, Module, Parameter, Sequential
from minicompress.nn.checks import check_grad_out, check_input, positive_int
from minicompress.pruning.surgery import remove_units


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


def require_gates(model: Module, who: str) -> list[Gate]:
    """:func:`gates`, or an error naming ``who`` if the model has none."""
    if not (layers := gates(model)):
        raise ValueError(f"{who}: the model has no Gate layers; wrap it with "
                         f"minicompress.pruning.gates.gate(model) first")
    return layers


def gate_gradients(model: Sequential, loss, x: np.ndarray, target: np.ndarray, layers=None,
                   params=None) -> list[np.ndarray]:
    """∂E/∂α (float64) for each gate of ``layers`` (default: all, input gate first), from one
    forward and backward pass of ``loss`` on (x, target). The ``grad`` of every parameter in
    ``params`` (default: all) is restored afterwards."""
    layers = require_gates(model, "gate_gradients") if layers is None else layers
    params = model.parameters() if params is None else params
    saved = [p.grad.copy() for p in params]
    for g in layers:
        g.alpha.grad.fill(0)
    loss(model(x), target)
    model.grad_params(loss.backward())
    gradients = [g.alpha.grad.astype(np.float64) for g in layers]
    for p, g in zip(params, saved):
        p.grad = g
    return gradients


def remove_unit(model: Sequential, gate_index: int, unit: int) -> Sequential:
    """A smaller gated copy of ``model`` without ``unit`` of the hidden layer behind gate
    ``gate_index`` (≥ 1; gate 0 gates the inputs): the unit's row, bias and outgoing column
    are deleted by :func:`minicompress.pruning.remove_units`."""
    layers = require_gates(model, "remove_unit")
    if not 1 <= gate_index < len(layers):
        raise ValueError(f"remove_unit: gate_index must name a hidden layer's gate, in [1, "
                         f"{len(layers) - 1}], got {gate_index}")
    units = layers[gate_index].units
    if not 0 <= unit < units or units == 1:
        raise ValueError(f"remove_unit: unit must be in [0, {units - 1}] and the layer must keep "
                         f"one unit; got unit {unit} of {units}")
    plain = ungate(model)
    producer = [i for i, l in enumerate(plain.layers) if isinstance(l, Linear)][gate_index - 1]
    return gate(remove_units(plain, producer, np.delete(np.arange(units), unit)))


def _flat_copy(model: Sequential, who: str) -> Sequential:
    if not isinstance(model, Sequential) or any(isinstance(m, Sequential) for m in model.layers):
        raise TypeError(f"{who}: expected a flat Sequential model, got {type(model).__name__}")
    new = copy.deepcopy(model)
    for m in new.modules():
        m.cache.clear()
    return new
