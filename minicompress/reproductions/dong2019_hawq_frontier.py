"""Σ Ω as a predictor of the loss, the frontier part of :mod:`minicompress.reproductions.dong2019_hawq`
(that module's docstring says what is reproduced, the deviations and what held; ``minicompress
reproduce hawq`` runs this part with the rest).

Every point of the Pareto frontier of Σ Ω against size (HAWQ-V2, Fig. 4) is quantized and
evaluated besides the budgeted assignments; the claim is the rank correlation of Σ Ω with the
test-loss increase over all of them; the figure shows every assignment, the frontier and the
budgeted picks.
"""
from __future__ import annotations

import itertools

import numpy as np

from minicompress.papers.dong2019_hawq import model_size, pareto_frontier
from minicompress.report import Claim
from minicompress.reproductions.experiment import figure, finite, save_figure, spearman

MIXED, FOUR = "mixed", "4 bits"


def assignment_row(experiment: str, method: str, assignment, model, sizes, total, result) -> dict:
    """One evaluated assignment (bits per weight layer; ``sizes`` (L,) the layers' weights): its
    average bits per weight, Σ Ω = ``total(assignment)`` and ``result``'s (train.evaluate's) test
    loss and accuracy."""
    return dict(experiment=experiment, method=method, bits="/".join(map(str, assignment)),
                avg_bits=model_size(model, assignment) / sizes.sum(), omega=total(assignment),
                test_loss=result["loss"], test_accuracy=100 * result["accuracy"])


def frontier_rows(model, omega, sizes, bits, total, test_of) -> tuple[list[dict], list[tuple]]:
    """(a row per frontier point, the frontier): :func:`pareto_frontier` of Ω (L, len(bits)),
    each point quantized and evaluated by ``test_of(assignment)``."""
    frontier = pareto_frontier(omega, sizes, bits)
    return [assignment_row("frontier", "frontier", a, model, sizes, total, test_of(a))
            for a, _, _ in frontier], frontier


def omega_predicts_loss(rows, threshold: float = 0.5) -> Claim:
    points = {r["bits"]: r for r in rows if r["experiment"] in ("frontier", MIXED, FOUR)
              and r.get("bits") and finite(r.get("omega", np.nan))}
    full = next((r["test_loss"] for r in rows if r["experiment"] == "float"), np.nan)
    rho = spearman([r["omega"] for r in points.values()], [r["test_loss"] - full for r in points.values()])
    return Claim("hawq.lenet.omega_ranks_loss_increase", f"Σ Ω ranks the test-loss increase of the "
                 f"evaluated assignments with Spearman ρ ≥ {threshold} (ours)", False,
                 finite(rho) and rho >= threshold, f"ρ = {rho:.3f} over {len(points)} assignments",
                 "HAWQ-V2, Eq. (2.11): Ω is a second-order estimate of the loss increase")


def frontier_figure(sizes, bits, frontier, picks, total, path):
    """Σ Ω against average bits: every assignment of ``bits``, the frontier, and the budgets'
    picks ({budget: {method: assignment}}), the Hessian-aware one under the smaller markers."""
    fig = figure(6, 4.5)
    ax = fig.subplots()
    every = list(itertools.product(bits, repeat=len(sizes)))
    avg = lambda a: np.dot(a, sizes) / sizes.sum()  # noqa: E731
    ax.scatter([avg(a) for a in every], [total(a) for a in every], s=10, color="0.7", label="all assignments")
    ax.plot([s / sizes.sum() for _, _, s in frontier], [o for _, o, _ in frontier], "k-", lw=1, label="frontier")
    for (name, methods), marker in zip(picks.items(), "os"):
        uniform = next(m for m in methods if m.startswith("uniform"))
        for method, color, size in (("hawq (trace)", "C0", 90), (uniform, "C2", 50), ("reversed", "C3", 30)):
            ax.scatter(avg(methods[method]), total(methods[method]), marker=marker, color=color, s=size,
                       label=f"{method}, {name}", zorder=3)
    ax.set(yscale="log", xlabel="average bits per weight", ylabel="Σ Ω (trace)",
           title="Pareto frontier over {2, 4, 8}⁴ (uniform 3: off the grid)")
    ax.legend(fontsize=7)
    return save_figure(fig, path)
