"""Deletion with retraining (Fig. 2), one part of :mod:`minicompress.reproductions.lecun1989_obd`
(that module's docstring says what is reproduced, the deviations and what held; ``minicompress
reproduce obd`` runs this part with the others).

OBD deletes 10% more of the parameters at a time, its saliencies recomputed, and the network is
retrained with the deleted ones frozen at zero; the claim: how much can go with the test accuracy
within half a point of the dense network's.
"""
from __future__ import annotations

import copy

import numpy as np

from minicompress.papers.lecun1989_obd import delete, saliencies
from minicompress.report import Claim


def with_retraining(model, loss, x, t, config, label: str, retrain, measure) -> list[dict]:
    """Fig. 2: delete 10% more of the parameters at a time by OBD (saliencies recomputed on the
    training set ``x``, ``t``), retrain with the deleted ones frozen at zero (``retrain(model,
    seed, label)``); a row per level of what ``measure(model)`` gives, 0% for the dense network."""
    model = copy.deepcopy(model)
    total = sum(p.data.size for p in model.parameters())
    row = lambda f: dict(experiment="retrained", method="OBD", deleted=f, **measure(model))  # noqa: E731
    rows = [row(0.0)]
    for k, fraction in enumerate(config.fractions, start=1):
        gone = sum(int((p.mask == 0).sum()) for p in model.parameters() if p.mask is not None)
        delete(model, round(total * fraction) - gone, saliencies(model, loss, x, t, config.curvature))
        retrain(model, k, f"{label}, {fraction:.0%} deleted, retrained")
        rows.append(row(fraction))
    return rows


# ----- the claims: small pure functions of the rows ------------------------------------------------
def retraining_keeps_accuracy(retrain_rows: list[dict], net: str, need: float = 0.5, points: float = 0.5) -> Claim:
    """Fig. 2: with retraining, every level up to ``need`` deleted keeps the test accuracy
    within ``points`` of the dense network's (:func:`deletable`)."""
    dense = [r["test_accuracy"] for r in retrain_rows if r["deleted"] == 0] or [np.nan]
    reached = deletable(retrain_rows, points)
    return Claim(f"obd.{net}.retraining_keeps_accuracy", f"{net}: with retraining, at least {need:.0%} of "
                 f"the parameters can be deleted (every level up to it) with the test accuracy within "
                 f"{points} points of the dense network's", True, reached >= need - 1e-9,
                 f"up to {reached:.0%} deleted; dense {100 * dense[0]:.1f}%",
                 "Fig. 2: training and test objective almost unchanged up to 1500 deleted (60%)")


def deletable(retrain_rows: list[dict], points: float = 0.5) -> float:
    """The last level of the unbroken run, from the first deletion level upward, whose test
    accuracy is within ``points`` percentage points of the dense one (0 if the first fails;
    NaN without a finite dense accuracy)."""
    dense = [r["test_accuracy"] for r in retrain_rows if r["deleted"] == 0]
    if not dense or not np.isfinite(dense[0]):
        return float("nan")
    reached = 0.0
    for r in sorted((r for r in retrain_rows if r["deleted"] > 0), key=lambda r: r["deleted"]):
        if not r["test_accuracy"] >= dense[0] - points / 100 - 1e-12:
            break
        reached = r["deleted"]
    return reached


# ----- the figure ------------------------------------------------------------------------------------
def retraining_panel(ax, one_shot_rows: list[dict], retrained_rows: list[dict]) -> None:
    """Fig. 2: training and test objective (dB) against % deleted, without and with retraining."""
    for pts, style, when in ((one_shot_rows, "--", "no retraining"), (retrained_rows, "-", "retrained")):
        for key, color, which in (("objective_db", "C0", "train"), ("test_objective_db", "C2", "test")):
            ax.plot([100 * r["deleted"] for r in pts], [r[key] for r in pts], style, color=color,
                    label=f"{which}, {when}")
