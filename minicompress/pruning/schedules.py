"""Pruning schedules with TensorFlow Model Optimization's semantics, and the object that applies
one to a model's masks from inside ``fit(on_step=...)``.

A schedule answers, for a training step: should the masks be updated now, and to which
sparsity (fraction of zeros)? Masks are updated only on steps with

    begin_step ≤ step ≤ end_step   and   (step − begin_step) mod frequency = 0

(``ConstantSparsity``'s ``end_step = -1`` means "forever"). Zhu & Gupta's gradual schedule
(arXiv 1710.01878, Eq. 1), which TF-MOT ships as ``PolynomialDecay``, is

    s(step) = s_f + (s_i − s_f) · (1 − p)^power,   p = clip((step − begin)/(end − begin), 0, 1)

so most weights go early, while the network still has capacity to recover, and few late.
One-shot pruning is ``ConstantSparsity(s, begin_step=k, end_step=k)``; iterative prune /
fine-tune rounds live in :mod:`minicompress.pruning.loop`.

Steps: ``fit`` calls ``on_step(k)`` after its k-th optimizer step, so the masks set for step k
act from update k + 1 on, as in TF-MOT (whose masks for step k are set before batch k + 1).
Step 0 happens before any update: call ``pruner(0)`` yourself if ``begin_step`` is 0. ``fit``
counts from 1 in each call; spread over several calls, pass ``lambda k: pruner(k + offset)``.
"""
from __future__ import annotations

import numbers
from dataclasses import dataclass

import numpy as np

from minicompress.pruning.masks import _check_params, global_prune, masked_fraction, n_masked, prune


@dataclass(frozen=True)
class _Schedule:
    def should_update(self, step: int) -> bool:
        """Is ``step`` a mask-update step (inside [begin, end] and on the frequency grid)?"""
        _check_int(step, "step", minimum=0)
        inside = self.begin_step <= step and (self.end_step < 0 or step <= self.end_step)
        return inside and (step - self.begin_step) % self.frequency == 0

    def __call__(self, step: int) -> float | None:
        """The target sparsity if the masks are to be updated at ``step``, else None."""
        return self.sparsity(step) if self.should_update(step) else None

    def _check_steps(self, allow_forever: bool) -> None:
        _check_int(self.begin_step, "begin_step", minimum=0)
        _check_int(self.frequency, "frequency", minimum=1)
        _check_int(self.end_step, "end_step", minimum=-1 if allow_forever else 0)
        if self.end_step != -1 and self.end_step < self.begin_step:
            raise ValueError(f"{type(self).__name__}: end_step ({self.end_step}) must be >= "
                             f"begin_step ({self.begin_step})" + (" or -1 (forever)" if allow_forever else ""))


@dataclass(frozen=True)
class ConstantSparsity(_Schedule):
    """Prune to ``target_sparsity`` at ``begin_step`` and every ``frequency`` steps after,
    until ``end_step`` (-1: forever), re-applying the same target as weights change."""

    target_sparsity: float
    begin_step: int
    end_step: int = -1
    frequency: int = 100

    def __post_init__(self):
        _check_sparsity(self.target_sparsity, "target_sparsity")
        self._check_steps(allow_forever=True)

    def sparsity(self, step: int) -> float:
        return float(self.target_sparsity)


@dataclass(frozen=True)
class PolynomialDecay(_Schedule):
    """Zhu & Gupta's gradual schedule: s = s_f + (s_i − s_f)(1 − p)^power (module docstring)."""

    initial_sparsity: float
    final_sparsity: float
    begin_step: int
    end_step: int
    power: float = 3
    frequency: int = 100

    def __post_init__(self):
        _check_sparsity(self.initial_sparsity, "initial_sparsity")
        _check_sparsity(self.final_sparsity, "final_sparsity")
        self._check_steps(allow_forever=False)
        if self.end_step == self.begin_step:
            raise ValueError(f"PolynomialDecay: end_step must be > begin_step (both {self.end_step}); "
                             f"for a single pruning step use ConstantSparsity")
        if isinstance(self.power, bool) or not isinstance(self.power, numbers.Real) or not self.power > 0:
            raise ValueError(f"PolynomialDecay: power must be a number > 0, got {self.power!r}")

    def sparsity(self, step: int) -> float:
        """s(step) for any step (clipped to s_i before begin and s_f after end)."""
        p = min(1.0, max(0.0, (step - self.begin_step) / (self.end_step - self.begin_step)))
        return self.final_sparsity + (self.initial_sparsity - self.final_sparsity) * (1 - p) ** self.power


class ScheduledPruner:
    """Apply a schedule to parameters' masks; pass it as ``fit(..., on_step=pruner)``.

    At an update step with target sparsity s, each parameter of n entries keeps
    k = max(round(n·(1 − s)), 1) of them (TF-MOT's count; ``round`` is half to even in both);
    the lowest-scoring unpruned entries go. Masks only ever gain zeros: a target below the
    current sparsity leaves the mask as it is.

    Parameters
    ----------
    params : iterable of Parameter
        What to prune, e.g. ``pruning.weights(model)``.
    schedule : callable(step) -> float or None
        ``ConstantSparsity``, ``PolynomialDecay`` or any function with that contract.
    scores : callable(param) -> array, optional
        Importance of each entry, computed at each update; default ``|param.data|``.
    scope : {"layer", "global"}
        "layer": every parameter reaches s (TF-MOT). "global": one ranking across all of them
        (scores must then be comparable), and s is their overall sparsity.

    Attributes
    ----------
    history : list of dict
        One record per update: step, target, sparsity (realized, over ``params``).

    Deviations from TF-MOT: its mask keeps every weight tied with the k-th largest magnitude, so
    its realized sparsity can fall short of s; here exactly n − k entries go (ties by flat index).
    And TF-MOT recomputes each mask from the magnitudes of all the layer's weights, a weight it
    zeroed having received one step of gradient since, so in principle a zeroed weight can
    return; here masked entries get no gradient and the mask only gains zeros.
    """

    def __init__(self, params, schedule, *, scores=None, scope: str = "layer"):
        if scope not in ("layer", "global"):
            raise ValueError(f"scope: expected 'layer' or 'global', got {scope!r}")
        if not callable(schedule):
            raise TypeError(f"schedule: expected a callable (ConstantSparsity, PolynomialDecay or "
                            f"a function of the step), got {type(schedule).__name__}")
        if scores is not None and not callable(scores):
            raise TypeError(f"scores: expected None or a function of a parameter, got "
                            f"{type(scores).__name__}")
        self.params = _check_params(params)
        self.schedule, self.scores, self.scope = schedule, scores, scope
        self.history: list[dict] = []

    def __call__(self, step: int) -> None:
        target = self.schedule(step)
        if target is None:
            return
        _check_sparsity(target, f"schedule({step})")
        groups = [self.params] if self.scope == "global" else [[p] for p in self.params]
        for group in groups:
            n = sum(p.data.size for p in group)
            pruned = sum(n_masked(p) for p in group)
            count = (n - max(round(n * (1 - target)), 1)) - pruned
            if count > 0:
                self._prune(group, count)
        self.history.append(dict(step=step, target=target, sparsity=self.sparsity()))

    def sparsity(self) -> float:
        """Fraction of masked entries over all ``params``."""
        return masked_fraction(self.params)

    def _prune(self, group, count: int) -> None:
        scores = [np.abs(p.data) if self.scores is None else self.scores(p) for p in group]
        if len(group) == 1:
            prune(group[0], count, scores[0])
        else:
            global_prune(group, count, scores)


def _check_sparsity(value, name: str) -> None:
    ok = isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_)) and 0.0 <= value < 1.0
    if not ok:
        raise ValueError(f"{name}: expected a sparsity (fraction of zeros) in [0, 1), got {value!r}")


def _check_int(value, name: str, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise ValueError(f"{name}: expected an int >= {minimum}, got {value!r}")
