"""Skeletonization: trim the units whose removal would change the error least.

M. C. Mozer, P. Smolensky, "Skeletonization: a technique for trimming the fat from a network via
relevance assessment", Advances in Neural Information Processing Systems 1 (NIPS 1988),
pp. 107-115, Morgan Kaufmann, 1989.

The idea. Give every input and hidden unit i an "attentional strength" α_i that scales what it
sends upward: α = 1 is the trained network, α_i = 0 removes unit i. The relevance of the unit is
the error lost without it. Instead of measuring it unit by unit, take the derivative in α_i at
α = 1, which one backward pass gives for every unit at once; measure it with the *linear* error,
and smooth it over training sweeps. Then train to criterion, delete the least relevant unit,
retrain, and repeat: a network trimmed down from a large one learns more reliably than the small
one trained from the start, and what is left is easier to read (the "skeleton").

Equations. The paper's equations are unnumbered and could not be checked against the PDF here;
the tags name the step of the method as the secondary sources describe it (Reed & Marks,
"Neural Smithing", ch. 13; the SNNS manual and its PRUNE_Skeletonization code):
  gated unit     x_j = f(Σ_i w_ji α_i x_i)                                       [M&S: gates]
  relevance      ρ_i = E(α_i = 0) − E(α_i = 1)                                   [M&S: relevance]
  estimate       ρ̂_i = −∂E/∂α_i |α=1 = −Σ_p x_i^p Σ_j w_ji ∂E/∂a_j^p              [M&S: approximation]
  linear error   E^l = Σ_p Σ_j |t_pj − o_pj|,   ∂E^l/∂o_pj = sign(o_pj − t_pj)    [M&S: linear error]
  smoothing      ρ̂_i(t+1) = 0.8 ρ̂_i(t) + 0.2 · (−∂E^l(t)/∂α_i), once per sweep    [M&S: averaging]
  trimming       delete the unit of least ρ̂; retrain to criterion; repeat         [M&S: algorithm]
ρ̂ > 0 for a unit whose removal raises the error. Training itself uses the quadratic error
Σ(t − o)²; only relevance uses E^l.

Pitfalls, and why the method is built this way:
- The quadratic error's derivative 2(o − t) vanishes as the outputs reach their targets, so at
  convergence every unit would look irrelevant; sign(o − t) keeps its size. That is the reason
  for the linear error (measured in the reproduction: at convergence |ρ̂| with the quadratic
  error is a small fraction of |ρ̂| with the linear error, while after the first sweep they are
  about equal).
- ρ̂ is a first-order Taylor term, but deleting a unit moves α all the way from 1 to 0: for a
  unit that saturates its successors the estimate can rank poorly. ρ (:func:`true_relevance`)
  costs one forward pass per unit and is the reference ρ̂ is judged against.
- The per-sweep derivative is erratic (a sign error flips when an output crosses its target):
  hence the 0.8/0.2 average; on a network whose weights still move, the average lags behind.
- ρ̂ can be negative (the error would fall without the unit, to first order); deleting the most
  negative units together can hurt more than deleting units of |ρ̂| ≈ 0.

The gates themselves (the Gate layer, :func:`~minicompress.pruning.gates.gate`, ``ungate``,
``gate_gradients``, ``remove_unit``) are generic machinery in :mod:`minicompress.pruning.gates`;
here is Mozer & Smolensky's method on top of them.

Index conventions: p (or n) pattern, i unit, j unit of the layer above.
"""
from __future__ import annotations

import numpy as np
from scipy.special import softmax

from minicompress.nn import MSELoss, Sequential
from minicompress.nn.checks import positive_int
from minicompress.pruning.gates import gate_gradients, gates, remove_unit, require_gates

__all__ = ["ERRORS", "LinearError", "error_function", "relevance_estimate", "true_relevance", "ema",
           "RelevanceTracker", "skeletonize"]

ERRORS = ("linear", "quadratic")


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
    if isinstance(error, str) and error in ERRORS:
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
        A gated model (see :func:`minicompress.pruning.gates.gate`).
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


def skeletonize(model: Sequential, x: np.ndarray, target: np.ndarray, n_units: int, train, *,
                choose=None, decay: float = 0.8):
    """Mozer & Smolensky's loop on the first hidden layer: train to criterion, delete the least
    relevant unit, retrain, until ``n_units`` are left   [M&S: algorithm].

    Parameters
    ----------
    model : Sequential
        A gated model with at least one hidden layer (gate 1 gates the first hidden layer).
    x, target : the patterns and their targets, on which ρ̂ is measured (linear error).
    n_units : int
        Size of the first hidden layer to trim down to.
    train : callable(model, on_step) -> (epochs, criterion met)
        Trains ``model`` to criterion, calling ``on_step(step)`` after every optimizer step (the
        relevance average is kept there). Any recipe: the paper's is full-batch backpropagation
        on the quadratic error.
    choose : callable(model) -> int, optional
        A different rule for the unit to delete (a baseline: random, smallest weights); by
        default the unit of least ρ̂, smoothed ``decay``/(1 − decay) during the last training.

    Returns
    -------
    (model, total epochs, criterion met at the end); stops as soon as a training stage fails.
    """
    if len(require_gates(model, "skeletonize")) < 2:
        raise ValueError("skeletonize: the model has no hidden layer to trim")
    positive_int(n_units, "skeletonize", "n_units")
    if choose is not None and not callable(choose):
        raise TypeError(f"skeletonize: choose must be a callable(model) -> unit, got {choose!r}")
    total = 0
    while True:
        tracker = RelevanceTracker(model, x, target, decay=decay) if choose is None else None
        epochs, ok = train(model, tracker)
        total, hidden = total + epochs, gates(model)[1]
        if not ok or hidden.units <= n_units:
            return model, total, ok
        unit = int(np.argmin(tracker.relevance[1])) if choose is None else int(choose(model))
        model = remove_unit(model, 1, unit)
