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

The relevance of a unit is measured through its gate, with Mozer & Smolensky's linear error
(:class:`LinearError`): the estimate ρ̂_i = −∂E/∂α_i from one backward pass
(:func:`relevance_estimate`), and the true ρ_i = E(α_i = 0) − E(α_i = 1) by brute force
(:func:`true_relevance`); :class:`RelevanceTracker` keeps the 0.8/0.2 running average of ρ̂
during training (:func:`ema`). See :mod:`minicompress.papers.mozer1988_skeletonization`.

Index conventions: n batch, i unit.
"""
from __future__ import annotations

import copy

import numpy as np
from scipy.special import softmax

from minicompress.nn import Linear, Module, MSELoss, Parameter, Sequential
from minicompress.nn.checks import check_grad_out, check_input, positive_int
from minicompress.pruning.surgery import remove_units

ERRORS = ("linear", "quadratic")


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


# ----- relevance: the linear error, the estimate ρ̂, the true ρ, the running average -----------
class LinearError:
    """E^l = Σ |t − o| over every entry; ``backward()`` = ∂E^l/∂o = sign(o − t) (0 where o = t).

    The error Mozer & Smolensky use for relevance (not for training). Same protocol as the
    engine's losses: ``forward(output, target) -> float``, then ``backward()``.

    With ``softmax=True`` the outputs are logits z of a network trained with
    ``SoftmaxCrossEntropy`` and the error is measured on the probabilities o = softmax(z), so
    ∂E^l/∂z = o ⊙ (s − Σ_c o_c s_c) with s = sign(o − t) (the softmax Jacobian applied to s).
    Targets are then one-hot rows (``nn.one_hot``).
    """

    reduction = "sum"

    def __init__(self, softmax: bool = False):
        self.softmax, self.cache = softmax, {}

    def __call__(self, output: np.ndarray, target: np.ndarray) -> float:
        return self.forward(output, target)

    def forward(self, output: np.ndarray, target: np.ndarray) -> float:
        if not isinstance(target, np.ndarray) or target.shape != output.shape:
            raise ValueError(f"LinearError: target must be an array of the output's shape "
                             f"{output.shape}, got {getattr(target, 'shape', type(target).__name__)}")
        output = softmax(output, axis=1) if self.softmax else output
        self.cache.update(diff=output - target.astype(output.dtype, copy=False), output=output)
        return float(np.abs(self.cache["diff"]).sum(dtype=np.float64))

    def backward(self) -> np.ndarray:
        if "diff" not in self.cache:
            raise RuntimeError("LinearError: backward called before forward")
        s, o = np.sign(self.cache["diff"]), self.cache["output"]
        return o * (s - (o * s).sum(axis=1, keepdims=True)) if self.softmax else s


def error_function(error):
    """The error relevance is measured with: "linear" (Σ|t − o|), "quadratic" (Σ(t − o)²), or
    an error object with ``forward(output, target)`` and ``backward()`` (e.g.
    ``LinearError(softmax=True)``), returned as it is."""
    if error in ERRORS:
        return LinearError() if error == "linear" else MSELoss(reduction="sum")
    if callable(getattr(error, "forward", None)) and callable(getattr(error, "backward", None)):
        return error
    raise ValueError(f"error: expected one of {ERRORS} or an object with forward and backward, "
                     f"got {error!r}")


def relevance_estimate(model: Sequential, x: np.ndarray, target: np.ndarray,
                       error="linear") -> list[np.ndarray]:
    """ρ̂_i = −∂E/∂α_i at the current gates, one backward pass, for every gate of ``model``.

    Parameters
    ----------
    model : Sequential
        A gated model (see :func:`gate`).
    x : (n, ...) inputs;  target : (n, k) targets of the same shape as the outputs.
    error : "linear", "quadratic" or an error object (see :func:`error_function`)

    Returns
    -------
    list of float64 arrays, one per Gate (input gate first), shape (units,).
    The parameters' ``grad`` are left as they were.
    """
    layers = require_gates(model, "relevance_estimate")
    return [-g for g in gate_gradients(model, error_function(error), x, target, layers)]


def true_relevance(model: Sequential, x: np.ndarray, target: np.ndarray,
                   error="linear") -> list[np.ndarray]:
    """ρ_i = E(α_i = 0) − E(α_i = 1) by brute force: one forward pass per unit.

    Same arguments and layout as :func:`relevance_estimate`; every α is restored.
    """
    layers, loss = require_gates(model, "true_relevance"), error_function(error)
    base, out = loss(model(x), target), []
    for g in layers:
        rho = np.zeros(g.units)
        for i in range(g.units):
            saved, g.alpha.data[i] = g.alpha.data[i], 0
            rho[i] = loss(model(x), target) - base
            g.alpha.data[i] = saved
        out.append(rho)
    return out


def ema(average: np.ndarray, new: np.ndarray, decay: float = 0.8) -> np.ndarray:
    """The exponentially decaying average decay·average + (1 − decay)·new   [M&S: averaging]."""
    if not 0.0 <= decay < 1.0:
        raise ValueError(f"ema: decay must be in [0, 1), got {decay!r}")
    return decay * average + (1.0 - decay) * new


class RelevanceTracker:
    """ρ̂ kept during training: call it after every optimizer step (``fit(..., on_step=tracker)``).

    Starts from the estimate at the current weights, then ρ̂ ← decay·ρ̂ + (1 − decay)·(−∂E/∂α)
    with E measured on the fixed (x, target), at every ``every``-th step (1: every step, which is
    every sweep in full-batch training, as in the paper). ``relevance``: a list aligned with the gates.
    """

    def __init__(self, model, x, target, error="linear", decay: float = 0.8, every: int = 1):
        ema(0.0, 0.0, decay)  # checks decay
        self.decay, self.every = decay, positive_int(every, "RelevanceTracker", "every")
        self.model, self.x, self.target, self._loss = model, x, target, error_function(error)
        # looked up once: the tracker runs after every step
        self._layers, self._params = require_gates(model, "RelevanceTracker"), model.parameters()
        self.relevance = self.estimate()

    def estimate(self) -> list[np.ndarray]:
        """−∂E/∂α at the current weights (what :func:`relevance_estimate` returns)."""
        return [-g for g in gate_gradients(self.model, self._loss, self.x, self.target,
                                           self._layers, self._params)]

    def __call__(self, step: int = 0) -> None:
        if step % self.every == 0:
            self.relevance = [ema(r, n, self.decay) for r, n in zip(self.relevance, self.estimate())]


def _flat_copy(model: Sequential, who: str) -> Sequential:
    if not isinstance(model, Sequential) or any(isinstance(m, Sequential) for m in model.layers):
        raise TypeError(f"{who}: expected a flat Sequential model, got {type(model).__name__}")
    new = copy.deepcopy(model)
    for m in new.modules():
        m.cache.clear()
    return new
