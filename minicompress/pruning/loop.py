"""The survey's five-step pruning loop: train, score, delete, fine-tune, repeat.

    1. train the network (dense);
    2. score every prunable entry (any criterion: |w|, OBD's ½·h_kk·w², Karnin's sensitivity);
    3. delete the lowest-scoring fraction of what is left (a mask);
    4. fine-tune with the mask fixed, for a given budget;
    5. repeat 2-4 until the target sparsity is reached, or until accuracy has dropped more
       than allowed (then the last acceptable round is restored).

Training, fine-tuning and evaluation are the caller's functions (usually ``fit``/``evaluate``
with fixed arguments), so the budget is whatever ``fine_tune`` does and the loop never forks
the training code.
"""
from __future__ import annotations

import sys
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from minicompress.pruning.masks import (_check_params, global_prune, masked_fraction, n_masked,
                                       prune)


def magnitude_scores(params) -> list[np.ndarray]:
    """The default score provider: |w| of each parameter."""
    return [np.abs(p.data) for p in params]


@dataclass
class PruningRun:
    """What :func:`iterative_pruning` did.

    Attributes
    ----------
    history : list of dict
        Round 0 is the trained model before any deletion; then one record per round with
        round, sparsity (over the pruned parameters), loss, accuracy (from ``evaluate``, after
        fine-tuning) and accepted (False for a round undone by the accuracy rule).
    reason : str
        Why the loop stopped: "target sparsity", "accuracy loss", "max rounds" or "nothing to prune".
    """

    history: list[dict] = field(default_factory=list)
    reason: str = ""

    def final(self) -> dict:
        """The last accepted record: the model the loop leaves behind."""
        return [r for r in self.history if r["accepted"]][-1]


def iterative_pruning(model, params, *, evaluate: Callable[[], dict], fine_tune: Callable[[], object],
                      train: Callable[[], object] | None = None,
                      score: Callable[[list], list] = magnitude_scores, amount: float = 0.2,
                      target_sparsity: float = 0.9, max_accuracy_loss: float | None = None,
                      scope: str = "global", max_rounds: int = 100, verbose: bool = True) -> PruningRun:
    """Run the five-step loop on ``model`` in place.

    Parameters
    ----------
    model : Module
        Its state is snapshotted each round so an unacceptable round can be undone.
    params : iterable of Parameter
        What may be pruned (e.g. ``pruning.weights(model)``).
    evaluate : callable() -> dict
        Returns at least ``loss`` and ``accuracy`` (e.g. ``lambda: evaluate(model, loss, x, y)``).
    fine_tune : callable()
        Step 4, the fine-tuning budget (e.g. one epoch of ``fit`` with the masks in place).
    train : callable(), optional
        Step 1; None if ``model`` is already trained.
    score : callable(params) -> list of arrays
        Step 2, the score provider: one array per parameter, same shapes; low is deleted first.
    amount : float in (0, 1]
        Fraction of the still-unpruned entries deleted per round (PyTorch's rule), capped so the
        last round lands exactly on the target.
    target_sparsity : float in [0, 1)
        Stop once the pruned parameters hold this fraction of zeros.
    max_accuracy_loss : float, optional
        Stop when accuracy falls more than this (absolute, e.g. 0.005 = half a point) below
        round 0's, restoring the previous round.
    scope : {"global", "layer"}
        One ranking across all ``params``, or each parameter pruned by the same fraction.
    max_rounds : int
    verbose : bool
        One line per round on stderr.
    """
    params = _check_params(params)
    if scope not in ("global", "layer"):
        raise ValueError(f"scope: expected 'global' or 'layer', got {scope!r}")
    if not 0.0 <= target_sparsity < 1.0:
        raise ValueError(f"target_sparsity: expected a fraction in [0, 1), got {target_sparsity!r}")
    if not 0.0 < amount <= 1.0:
        raise ValueError(f"amount: expected a fraction in (0, 1] per round, got {amount!r}")
    if train is not None:
        train()
    run = PruningRun()
    run.history.append(_record(0, params, evaluate(), True, verbose))
    baseline = run.history[0]["accuracy"]
    for round_ in range(1, max_rounds + 1):
        counts = _round_counts(params, amount, target_sparsity, scope)
        if sum(counts) == 0:
            run.reason = "target sparsity" if _reached(params, target_sparsity, scope) else "nothing to prune"
            return run
        snapshot = model.state_dict()
        scores = score(params)
        if scope == "global":
            global_prune(params, counts[0], scores)
        else:
            for p, count, s in zip(params, counts, scores):
                prune(p, count, s)
        fine_tune()
        record = _record(round_, params, evaluate(), True, verbose)
        run.history.append(record)
        if max_accuracy_loss is not None and baseline - record["accuracy"] > max_accuracy_loss:
            record["accepted"] = False
            model.load_state_dict(snapshot)
            run.reason = "accuracy loss"
            return run
    run.reason = "target sparsity" if _reached(params, target_sparsity, scope) else "max rounds"
    return run


def _groups(params, scope: str) -> list[list]:
    return [params] if scope == "global" else [[p] for p in params]


def _still_needed(group, target: float) -> int:
    """Entries of ``group`` to delete before it reaches ``target`` (round(target · n) masked)."""
    n = sum(p.data.size for p in group)
    return max(round(target * n) - sum(n_masked(p) for p in group), 0)


def _round_counts(params, amount: float, target: float, scope: str) -> list[int]:
    """Entries to delete this round: ``amount`` of the unpruned ones, at most what the target
    still needs (one count for the global scope, one per parameter otherwise)."""
    counts = []
    for group in _groups(params, scope):
        unpruned = sum(p.data.size - n_masked(p) for p in group)
        counts.append(min(round(amount * unpruned), _still_needed(group, target)))
    return counts


def _reached(params, target: float, scope: str) -> bool:
    return all(_still_needed(group, target) == 0 for group in _groups(params, scope))


def _record(round_: int, params, scores: dict, accepted: bool, verbose: bool) -> dict:
    record = dict(round=round_, sparsity=masked_fraction(params), loss=float(scores["loss"]),
                  accuracy=float(scores["accuracy"]), accepted=accepted)
    if verbose:
        print(f"pruning round {round_}: sparsity {100 * record['sparsity']:.1f}%  "
              f"loss {record['loss']:.4f}  accuracy {100 * record['accuracy']:.2f}%", file=sys.stderr)
    return record
