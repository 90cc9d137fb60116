"""Frankle & Carbin (2019), "The Lottery Ticket Hypothesis: Finding Sparse, Trainable Neural
Networks", ICLR 2019; with the rewinding of Frankle, Dziugaite, Roy & Carbin (2020), "Linear Mode
Connectivity and the Lottery Ticket Hypothesis", ICML 2020.

The hypothesis (Sec. 1). A dense, randomly initialized network f(x; θ₀) contains a subnetwork
f(x; m ⊙ θ₀), m ∈ {0, 1}^|θ|, that — trained in isolation from the *same* initial values —
reaches the test accuracy of the dense network in at most as many iterations, with ‖m‖₀ ≪ |θ|.
Such a subnetwork is a *winning ticket*: its initial values matter, because the same mask with a
fresh initialization m ⊙ θ₀′, θ₀′ ~ D_θ, learns more slowly and reaches a lower accuracy.

Iterative magnitude pruning, IMP (Sec. 2 and Sec. 5 "Iterative pruning"):

    1. initialize θ₀ ~ D_θ; m = 1;
    2. train f(x; m ⊙ θ₀) for j iterations, reaching m ⊙ θ_j;
    3. in each layer, prune p% of the weights still unpruned: those of smallest |θ_j|
       (the output layer at p/2%), giving the new mask m;
    4. reset the surviving weights to their initial values, θ ← θ₀, and repeat from 2.

After r rounds a layer pruned at rate p keeps (1 − p)^r of its weights: LeNet-300-100 with
p = 20% (output layer 10%) keeps 51.3% of its weights after 3 rounds, 21.1% after 7, 10.8%
after 10, 3.6% after 15.
Biases are not pruned; they too are reset to θ₀. The LeNet-300-100 recipe of the paper
(Figure 2): Adam, learning rate 1.2·10⁻³, batches of 60, 50,000 iterations; early stopping is
the iteration of minimum validation loss, and test accuracy is reported at that iteration.

Rewinding (Frankle et al. 2020, Sec. 5): step 4 resets to θ_k, the weights after k iterations of
the dense training, instead of θ₀; for deeper networks only k > 0 finds tickets, for
LeNet-300-100 k = 0 already does.

This file: the per-layer rates, one pruning round, the remaining counts, and the three resets
(to a stored state such as θ₀ or θ_k, or to a fresh random initialization). Training is the
caller's (the reproduction's).
"""
from __future__ import annotations

import numbers

import numpy as np

from minicompress import nn, pruning


def _check_rate(rate, name: str) -> float:
    if isinstance(rate, bool) or not isinstance(rate, numbers.Real) or not 0.0 < rate < 1.0:
        raise ValueError(f"{name}: expected a fraction in (0, 1) of the unpruned weights pruned per "
                         f"round, got {rate!r}")
    return float(rate)


def layer_rates(model: nn.Module, rate: float = 0.2, output_rate: float | None = None) -> list:
    """(Parameter, rate) for every weight of ``model`` in order: ``rate`` for each layer, and
    ``output_rate`` (default rate/2, as the paper) for the last, the output layer."""
    rate = _check_rate(rate, "rate")
    output_rate = _check_rate(rate / 2 if output_rate is None else output_rate, "output_rate")
    weights = pruning.weights(model)
    if not weights:
        raise ValueError("model: has no weights to prune")
    return [(w, output_rate if i == len(weights) - 1 else rate) for i, w in enumerate(weights)]


def prune_round(model: nn.Module, rate: float = 0.2, output_rate: float | None = None) -> nn.Module:
    """IMP step 3: in each layer delete ``rate`` of the still-unpruned weights with the smallest
    |w| (the output layer at ``output_rate``), rounding counts as PyTorch does; masks only gain
    zeros. Returns ``model``."""
    for w, r in layer_rates(model, rate, output_rate):
        pruning.prune(w, r)
    return model


def remaining_counts(sizes, rate: float, output_rate: float | None, rounds: int) -> list[int]:
    """Unpruned weights per layer after ``rounds`` rounds, for layers of ``sizes`` entries: each
    round n ← n − round(r · n) (r = ``rate``, ``output_rate`` for the last layer)."""
    rate = _check_rate(rate, "rate")
    output_rate = _check_rate(rate / 2 if output_rate is None else output_rate, "output_rate")
    if isinstance(rounds, bool) or not isinstance(rounds, numbers.Integral) or rounds < 0:
        raise ValueError(f"rounds: expected an int >= 0, got {rounds!r}")
    counts = [int(s) for s in sizes]
    for _ in range(rounds):
        counts = [n - round((output_rate if i == len(counts) - 1 else rate) * n)
                  for i, n in enumerate(counts)]
    return counts


def remaining_fraction(model: nn.Module) -> float:
    """Fraction of ``model``'s weights still unpruned, ‖m‖₀ / |θ| over the weights."""
    return 1.0 - pruning.masked_fraction(pruning.weights(model))


def snapshot(model: nn.Module) -> dict[str, np.ndarray]:
    """Copies of every parameter's values (θ₀ before training, θ_k after k iterations); masks
    are not part of it."""
    return {name: p.data.copy() for name, p in model.named_parameters()}


def rewind(model: nn.Module, state: dict[str, np.ndarray]) -> nn.Module:
    """IMP step 4: every parameter's values back to ``state`` (a :func:`snapshot`), masks kept,
    gradients zeroed. The optimizer's state belongs to the caller: start a new optimizer."""
    params = dict(model.named_parameters())
    if set(state) != set(params):
        raise ValueError(f"state: expected the parameters {sorted(params)}, got {sorted(state)}")
    for name, p in params.items():
        value = np.asarray(state[name])
        if value.shape != p.data.shape:
            raise ValueError(f"state: {name!r} has shape {value.shape}, expected {p.data.shape}")
        p.data = value.astype(p.data.dtype, copy=True)
        p.grad = np.zeros_like(p.data)
    model.clear()
    return model


def reinitialize(model: nn.Module, fresh: nn.Module) -> nn.Module:
    """The control: ``model``'s masks with new random values θ₀′ taken from ``fresh``, a newly
    built network of the same architecture (e.g. ``lenet_300_100(rng=other_rng)``)."""
    return rewind(model, snapshot(fresh))
