"""Karnin's sensitivity: estimate, during ordinary training, what deleting each weight would cost.

E. D. Karnin, "A simple procedure for pruning back-propagation trained neural networks",
IEEE Transactions on Neural Networks 1(2):239-242, 1990. doi:10.1109/72.80236

The idea. The sensitivity of the error to a weight is S = E(w = 0) − E(w_f): the error without
the weight minus the error with its final value, every other weight final. Measuring it costs a
pass over the data per weight. Instead, integrate ∂E/∂w along the path the weight actually
travelled during training, from w_i to w_f, and stretch the result to the interval from 0 to
w_f. The running sum needs one "shadow array" entry per weight, updated at every step of
ordinary back-propagation: no change to the cost function, no interference with learning, no
extra pass over the data. Then sort the weights by the estimate and delete the tail (lowest
first: ``pruning.global_prune(params, amount, shadow.sensitivity())``).

Equations. The paper's equation numbers could not be checked against the PDF here; the plain
gradient-descent form Σ Δw² · w_f/(w_f − w_i) is quoted in a bibliography annotation of the
paper, the 1/η factor and the general form are our derivation of it:
  sensitivity     S = E(w = 0) − E(w = w_f)                                 [K90: sensitivity]
  line integral   S ≈ −∫_{w_i}^{w_f} ∂E/∂w dw · w_f / (w_f − w_i)           [K90: approximation]
  general form    Ŝ = −Σ_n ∂E/∂w(n) · Δw(n) · w_f / (w_f − w_i)             (any optimizer)
  plain SGD       Δw = −η ∂E/∂w, so Ŝ = Σ_n Δw(n)² · w_f / (η (w_f − w_i))  [K90: shadow arrays]
:class:`ShadowArray` records the general gradient-times-step form (:func:`shadow_update`), so
the estimate stays a Riemann sum of the line integral with momentum or Adam, where
Δw ≠ −η ∂E/∂w; the plain-SGD form is its special case (tested).

Pitfalls:
- Where the weight barely moved, w_f − w_i ≈ 0 and the stretch factor blows up: the denominator
  is clamped to ±``min_change`` (:func:`sensitivity_estimate`).
- Ŝ is negative where the weight moved toward zero without crossing it: E fell on the way from
  w_i toward 0, so the straight-line extrapolation predicts that going on to 0 lowers E further;
  used as is, lowest deleted first.
- The stretch assumes ∂E/∂w is about the same on [0, w_f] as on the path: exact where E is
  linear in w (tested), poor where training stopped away from a minimum. There S is dominated by
  the first-order term −g·w_f, which has either sign and which the path integral does not see;
  with minibatches, Σ(Δw)² also accumulates the noise of every step. This is why Ŝ ranks the
  weights of a large network trained by minibatch SGD (LeNet-300-100 on digits) far worse than
  |w| does, while on the paper's small, converged, full-batch problems it ranks them well.
- The sum credits a weight with the error it removed on the way, not with what removing it from
  the final net costs: a weight that grew late, by many small steps, while other weights did the
  work, keeps a small Σ g·Δw however much the final net needs it (on rule-plus-exception the
  exception unit's large weights look as redundant as the truly redundant ones).
- Memory: the shadow array (one float64 per weight) and a copy of the initial weights.

:func:`brute_force_sensitivity` measures S itself, one entry at a time: the definition the
estimate stands for, kept here beside it as the reference Ŝ is judged against (the
reproduction compares the two; the tests check it against a naive loop).
"""
from __future__ import annotations

import numpy as np

from minicompress.nn import Linear, Sequential
from minicompress.nn.optim import Optimizer

__all__ = ["shadow_update", "sensitivity_estimate", "ShadowArray", "brute_force_sensitivity"]


def shadow_update(shadow: np.ndarray, grad: np.ndarray, step: np.ndarray) -> np.ndarray:
    """shadow ← shadow − g ⊙ Δw, in place (Karnin's running sum, gradient-times-step form).

    For plain gradient descent Δw = −η g, so −g Δw = Δw²/η: the Σ(Δw)² of the paper, over η.
    Returns ``shadow``.
    """
    if grad.shape != shadow.shape or step.shape != shadow.shape:
        raise ValueError(f"shadow_update: shadow {shadow.shape}, gradient {grad.shape} and step "
                         f"{step.shape} must have the same shape")
    shadow -= grad * step
    return shadow


def sensitivity_estimate(shadow: np.ndarray, w_initial: np.ndarray, w_final: np.ndarray,
                         min_change: float = 1e-6) -> np.ndarray:
    """Karnin's Ŝ = shadow · w_f / (w_f − w_i), the division guarded.

    Parameters
    ----------
    shadow : array
        −Σ_n g(n)·Δw(n), accumulated during training.
    w_initial, w_final : arrays of the same shape
        The weights before the first and after the last step.
    min_change : float ≥ 0
        Where the weight moved less than this, |w_f − w_i| < min_change, the denominator is
        taken as ±min_change (the sign of the move; + if it did not move). A weight that never
        received a gradient then scores 0, and one that barely moved cannot blow up to ±inf.

    Returns
    -------
    float64 array of the same shape: the estimated increase of the error when the weight is
    set to zero. It is negative where the weight moved toward zero without crossing it.
    """
    shadow, w_initial, w_final = (np.asarray(a, dtype=np.float64) for a in (shadow, w_initial, w_final))
    if not shadow.shape == w_initial.shape == w_final.shape:
        raise ValueError(f"sensitivity_estimate: shadow {shadow.shape}, w_initial {w_initial.shape} "
                         f"and w_final {w_final.shape} must have the same shape")
    if not min_change >= 0:
        raise ValueError(f"sensitivity_estimate: min_change must be >= 0, got {min_change!r}")
    moved = w_final - w_initial
    sign = np.where(moved < 0, -1.0, 1.0)
    denominator = np.where(np.abs(moved) < min_change, sign * min_change, moved)
    with np.errstate(divide="ignore", invalid="ignore"):  # min_change = 0: unguarded, as printed
        return shadow * w_final / denominator


class ShadowArray:
    """Wrap ``optimizer``; record Karnin's shadow arrays while it trains.

    Each :meth:`step` copies the weights, lets the wrapped optimizer step, then adds
    −∂E/∂w · Δw into the shadow array of every entry. The gradient is ``p.grad`` as the
    training loop left it (the loss of the current batch; an optimizer's weight decay is part of
    Δw but not of ∂E/∂w). Works for any update rule (momentum, Adam), because it records the
    actual step rather than assuming Δw = −η g.

    Memory: the shadow arrays (float64, one per weight), a copy of the initial weights, and a
    buffer per weight for the step.

    >>> shadow = ShadowArray(nn.SGD(model.parameters(), lr=0.1, momentum=0.9))  # doctest: +SKIP
    >>> fit(model, loss, shadow, x, y, epochs=10, batch_size=128)               # doctest: +SKIP
    >>> scores = shadow.sensitivity()  # one array per parameter  # doctest: +SKIP

    Attributes
    ----------
    optimizer : Optimizer
    params : list of Parameter
    shadow : list of float64 arrays, −Σ g Δw per entry
    initial : list of arrays, the weights when the wrapper was created
    steps : int
    """

    def __init__(self, optimizer: Optimizer):
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"ShadowArray: expected an optimizer (nn.SGD, nn.Adam, ...), got "
                            f"{type(optimizer).__name__}")
        self.optimizer = optimizer
        self.params = optimizer.params
        self.initial = [p.data.copy() for p in self.params]
        self.shadow = [np.zeros(p.shape) for p in self.params]
        self.steps = 0
        self._step = [np.empty_like(p.data) for p in self.params]  # w before a step, then Δw

    def zero_grad(self) -> None:
        self.optimizer.zero_grad()

    def step(self) -> None:
        """One step of the wrapped optimizer, then shadow −= g ⊙ Δw."""
        for p, buffer in zip(self.params, self._step):
            np.copyto(buffer, p.data)  # buffers reused: the wrapper runs after every step
        self.optimizer.step()
        for p, step, shadow in zip(self.params, self._step, self.shadow):
            shadow_update(shadow, p.grad, np.subtract(p.data, step, out=step))
        self.steps += 1

    def sensitivity(self, min_change: float = 1e-6) -> list[np.ndarray]:
        """Ŝ for every parameter (list aligned with ``params``), from the current weights."""
        return [sensitivity_estimate(s, w0, p.data, min_change)
                for s, w0, p in zip(self.shadow, self.initial, self.params)]

    @property
    def lr(self) -> float:
        return self.optimizer.lr

    def __repr__(self) -> str:
        return f"ShadowArray({self.optimizer!r}, {self.steps} steps)"


# ----- the reference: the true sensitivity, by brute force -------------------------------------
def brute_force_sensitivity(model: Sequential, loss, x: np.ndarray, y: np.ndarray,
                            params=None, entries=None) -> np.ndarray:
    """S = E(w = 0) − E(w) for each entry, every other weight as it is   [K90: sensitivity].

    Parameters
    ----------
    model : Sequential
    loss : the error E (e.g. ``nn.MSELoss("sum")``), evaluated on (x, y).
    params : list of Parameter, optional
        Whose entries to score (default ``model.parameters()``); each must belong to a layer of
        ``model``.
    entries : 1-D int array, optional
        Positions in the concatenation of the raveled ``params``, in order; default all.

    Returns
    -------
    float64 array (len(entries),)

    Each entry costs a forward pass from its own layer up (the layers below are computed once).
    For a Linear layer's weight W[o, i] the layer's output with that weight zeroed is
    y[:, o] − W[o, i]·x[:, i], exact, so not even that layer is recomputed.
    """
    if not isinstance(model, Sequential):
        raise TypeError(f"brute_force_sensitivity: expected a Sequential, got {type(model).__name__}")
    layers = list(model.layers)
    params = model.parameters() if params is None else list(params)
    owner = {id(p): k for k, layer in enumerate(layers) for p in layer.parameters()}
    for p in params:
        if id(p) not in owner:
            raise ValueError(f"brute_force_sensitivity: parameter {p.name or p} is not in the model")
    sizes = np.cumsum([0] + [p.data.size for p in params])
    entries = np.arange(sizes[-1]) if entries is None else np.asarray(entries)
    if entries.ndim != 1 or (entries.size and (entries.min() < 0 or entries.max() >= sizes[-1])):
        raise ValueError(f"brute_force_sensitivity: entries must be a 1-D array of positions in "
                         f"[0, {sizes[-1]}), got {entries!r}")
    inputs, outputs, h = [], [], x  # what layer k receives and emits with the weights as they are
    for layer in layers:
        inputs.append(h)
        h = layer(h)
        outputs.append(h)
    base = loss(h, y)

    def error_from(k, out):  # E with layer k's output replaced by ``out``
        for layer in layers[k + 1:]:
            out = layer(out)
        return loss(out, y)

    result = np.zeros(entries.size)
    for j, position in enumerate(entries):
        i = int(np.searchsorted(sizes, position, side="right") - 1)
        p, index = params[i], int(position - sizes[i])
        k = owner[id(p)]
        layer, value = layers[k], p.value().flat[index]
        if isinstance(layer, Linear):  # patch one output column, exact
            out = outputs[k].copy()
            if p is layer.weight:
                o, col = np.unravel_index(index, p.shape)
                out[:, o] -= value * inputs[k][:, col]
            else:
                out[:, index] -= value
            result[j] = error_from(k, out) - base
        else:  # any other layer: set the entry to zero and recompute from that layer up
            saved, p.data.flat[index] = p.data.flat[index], 0
            result[j] = error_from(k, layer(inputs[k])) - base
            p.data.flat[index] = saved
    return result
