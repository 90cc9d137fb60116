"""QuantizedOptimizer: any engine optimizer, with the weights it keeps in a low-precision format.

QPyTorch's ``OptimLP`` in a few lines: the wrapped optimizer computes each update as usual, from
``p.grad``, then the stored weights are rounded, w ← Q(w − η·g). With a ``weights`` format the
step runs in float64 (the weights, gradients and the optimizer's state), so w − η·g reaches the
quantizer unrounded and is rounded once: rounding it to the model's float32 first would round
twice (a value just past a tie lands on the tie) and, at fine grids, drop the bits stochastic
rounding needs (1 + 2⁻²⁴ is 1 in float32), biasing it. The rounded weights are exact in the
model's dtype (the format must fit it). The wrapper also counts, step by step, the updates
rounding cancelled: under round-to-nearest every update smaller than half a grid step is lost,
every time (Gupta et al. 2015). ``fit`` calls ``step()`` as on any optimizer: the training loop is
the engine's, unchanged.
"""
from __future__ import annotations

import numpy as np

from minicompress import nn
from minicompress.quant.quantizer import Quantizer


class QuantizedOptimizer:
    """Wrap an engine optimizer so the weights it keeps live in a low-precision format, and
    count the updates that rounding cancels.

    Parameters
    ----------
    optimizer : nn.Optimizer
        Computes each update as usual, from ``p.grad``; with ``weights`` its state is kept in
        float64 from now on (:meth:`nn.Optimizer.astype`).
    weights : Quantizer or None
        The format the stored weights and biases live in: after every step,
        w ← Q(w − η·g), w − η·g computed in float64 and rounded once (Gupta et al.; pure
        bfloat16). None: the optimizer keeps them in the model's dtype (a float32 *master
        copy*), updated in that dtype.
    compute : Quantizer or None
        If given, layers compute with ``compute(stored)`` while the optimizer updates the stored
        values (the TPU recipe: float32 master weights, bfloat16 copies in the matrix products).

    Attributes
    ----------
    attempted, lost : list of int
        Per step: entries whose gradient was nonzero, and those among them whose stored value
        did not change (the update was smaller than rounding could express, or cancelled).
    """

    def __init__(self, optimizer, weights: Quantizer | None = None, *,
                 compute: Quantizer | None = None):
        if not isinstance(optimizer, nn.Optimizer):
            raise TypeError(f"QuantizedOptimizer: expected an engine optimizer (SGD, Adam), got "
                            f"{type(optimizer).__name__}")
        for name, q in (("weights", weights), ("compute", compute)):
            if q is not None and not isinstance(q, Quantizer):
                raise TypeError(f"QuantizedOptimizer: {name} must be a Quantizer or None, got "
                                f"{type(q).__name__}")
        self.optimizer, self.weights, self.compute = optimizer, weights, compute
        self.params = optimizer.params
        self.attempted, self.lost = [], []
        for p in self.params:
            if weights is not None:
                p.data = weights(p.data)  # in the model's dtype: refuses formats it cannot hold
        if weights is not None:
            optimizer.astype(np.float64)
        self.stored = [p.data for p in self.params]  # what the optimizer updates
        if compute is not None:
            for p, w in zip(self.params, self.stored):
                p.data = compute(w)

    def zero_grad(self) -> None:
        self.optimizer.zero_grad()

    def step(self) -> None:
        """One update of the stored weights, rounded into ``weights``; refresh the compute copies."""
        before = [w.copy() for w in self.stored]
        grads = [p.grad for p in self.params]
        for p, w in zip(self.params, self.stored):
            if self.weights is None:
                p.data = w  # the optimizer updates the stored values in place
            else:  # w − η·g in float64, rounded once below
                p.data, p.grad = w.astype(np.float64), p.grad.astype(np.float64)
        self.optimizer.step()
        attempted = lost = 0
        for i, (p, old) in enumerate(zip(self.params, before)):
            p.grad = grads[i]
            new = p.data if self.weights is None else self.weights(p.data).astype(old.dtype)
            self.stored[i] = new
            p.data = new if self.compute is None else self.compute(new)
            tried = p.grad != 0
            attempted += np.count_nonzero(tried)
            tried &= new == old
            lost += np.count_nonzero(tried)
        self.attempted.append(attempted)
        self.lost.append(lost)

    def lost_fraction(self, start: int = 0, stop: int | None = None) -> float:
        """Lost updates over attempted ones in steps [start, stop) (NaN if none attempted)."""
        attempted = sum(self.attempted[start:stop])
        return sum(self.lost[start:stop]) / attempted if attempted else float("nan")

    def __repr__(self) -> str:
        return (f"QuantizedOptimizer({self.optimizer!r}, weights={self.weights!r}, "
                f"compute={self.compute!r})")
