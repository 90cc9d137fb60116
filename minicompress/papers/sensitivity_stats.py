"""What the two sensitivity papers' reproductions share: small sigmoid nets trained to a criterion,
deletion without retraining, the statistics of their Report rows, and the Report itself.

Used by :mod:`~minicompress.papers.mozer1988_skeletonization` (Mozer & Smolensky 1988) and
:mod:`~minicompress.papers.karnin1990_sensitivity` (Karnin 1990). The statistics return NaN where
there is nothing to report (no nets, fewer than two values for a spread, a constant ranking).
"""
from __future__ import annotations

import copy

import numpy as np

from minicompress import nn, pruning
from minicompress.papers.gated import trainable
from minicompress.report import Report
from minicompress.rng import as_rng
from minicompress.train import fit


def sigmoid_mlp(sizes, *, init_scale: float | None = None, rng=None, dtype=np.float32) -> nn.Sequential:
    """Linear + Sigmoid layers of the given sizes, e.g. (4, 2, 1); weights and biases from
    U(−init_scale, init_scale), or the engine's default U(±1/√fan_in) if None."""
    rng, layers = as_rng(rng), []
    for a, b in zip(sizes[:-1], sizes[1:]):
        linear = nn.Linear(a, b, rng=rng, dtype=dtype)
        for p in linear.parameters() if init_scale is not None else ():
            p.data = rng.uniform(-init_scale, init_scale, p.shape).astype(dtype)
        layers += [linear, nn.Sigmoid()]
    return nn.Sequential(*layers)


def criterion_met(model, x, target, margin: float) -> bool:
    """Is every output within ``margin`` of its target?"""
    return bool(np.abs(model(x) - target).max() < margin)


def train_to_criterion(model, x, target, *, lr: float, momentum: float, margin: float,
                       max_epochs: int, on_step=None) -> tuple[int, bool]:
    """Full-batch gradient descent on Σ(t − o)² (gates, if any, left alone) until every output is
    within ``margin`` of its target, or ``max_epochs``. Returns (epochs run, criterion met); zero
    epochs if the criterion already holds."""
    if criterion_met(model, x, target, margin):
        return 0, True
    history = fit(model, nn.MSELoss(reduction="sum"), nn.SGD(trainable(model), lr=lr, momentum=momentum),
                  x, target, epochs=max_epochs, batch_size=len(x), shuffle=False, verbose=False,
                  on_step=on_step, on_epoch=lambda record: criterion_met(model, x, target, margin))
    return len(history), criterion_met(model, x, target, margin)


def deletion_accuracy(model, params_of, scores, amount, accuracy) -> float:
    """``accuracy(copy)`` of a copy of ``model`` whose lowest-scoring entries of
    ``params_of(copy)`` are deleted, one global ranking, no retraining; ``amount`` is a count
    or a fraction (as for :func:`minicompress.pruning.global_prune`), ``scores`` aligned with
    ``params_of(model)``. ``model`` itself is left unchanged."""
    pruned = copy.deepcopy(model)
    if amount:
        pruning.global_prune(params_of(pruned), amount, scores)
    return accuracy(pruned)


def flat(arrays) -> np.ndarray:
    """The arrays of a list (one per parameter or gate) raveled and concatenated, in order."""
    return np.concatenate([np.asarray(a).ravel() for a in arrays])


def row(experiment: str, method: str, measure: str, value, spread=np.nan, n=None) -> dict:
    """One number of the report (the experiments measure different things: one row each)."""
    return dict(experiment=experiment, method=method, measure=measure, value=float(value),
                spread=float(spread), n="" if n is None else int(n))


def pct(flags) -> float:
    """The percentage of true flags, 100·count/n (one rounding)."""
    return float(100 * np.sum(flags) / np.size(flags)) if np.size(flags) else np.nan


def mean(values) -> float:
    return float(np.mean(values)) if len(values) else np.nan


def std(values) -> float:
    """Population std over nets or seeds; NaN for fewer than two (no spread to report)."""
    return float(np.std(values)) if len(values) > 1 else np.nan


def median(values) -> float:
    return float(np.median(values)) if len(values) else np.nan


def iqr(values) -> float:
    return float(np.subtract(*np.percentile(values, [75, 25]))) if len(values) else np.nan


def spearman(a, b) -> float:
    """Spearman's rank correlation; NaN if either side is constant (no ranking to compare)."""
    from scipy.stats import spearmanr  # imported here: scipy.stats takes a while to import
    a, b = np.asarray(a), np.asarray(b)
    if a.size < 2 or np.ptp(a) == 0 or np.ptp(b) == 0:
        return float("nan")
    return float(spearmanr(a, b)[0])


def figure(width: float, height: float):
    """A matplotlib Figure with constrained layout (matplotlib imported only when drawing)."""
    from matplotlib.figure import Figure
    return Figure(figsize=(width, height), layout="constrained")


def assemble(title: str, experiments: list[dict], figures: list) -> Report:
    """The Report of ``experiments`` (dicts with "rows" and "notes", in order), printed."""
    report = Report(title, [r for e in experiments for r in e["rows"]],
                    notes=[n for e in experiments for n in e["notes"]])
    report.figures += figures
    print(report.table())
    return report
