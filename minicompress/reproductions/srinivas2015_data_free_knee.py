"""Where the data-free stop falls, the knee part of :mod:`minicompress.reproductions.srinivas2015_data_free`
(that module's docstring says what is reproduced, the deviations and what held; ``minicompress
reproduce data-free`` runs this part with the rest).

The knee is not the paper's rule: the paper reads the number to remove off the curve of the
merges' saliencies. :func:`~minicompress.papers.srinivas2015_data_free.knee` (Kneedle on the
linear curve) stops at 91-96% of the neurons, 4-40 points below dense (quick runs, 10 seeds, both
data sets), because the last merges cost orders of magnitude more than the first and the linear
curve bends only near its end. Read on a log scale it stops at 83-88%: LeNet-5 0.8-1.7 points
below dense, the MLP 10-14 (quick, synthetic, seeds 0 and 1; interpolated between fractions).
Here: the knee of saliency + surgery's sequence, the accuracy there, its row, its claim (a
contrast) and the saliency panel of the figure.
"""
from __future__ import annotations

import numpy as np

from minicompress.papers.srinivas2015_data_free import knee
from minicompress.report import Claim
from minicompress.reproductions.experiment import finite

KNEE, PAPER = "knee (data-free stop)", "Srinivas & Babu 2015"
ROUNDING = 1e-9  # accuracies are multiples of 100/n_test: 95.0 - 94.0 must count as 1 point


def data_free_stop(merges, accuracy_after) -> dict:
    """The saliencies (n − 1,) of the merge sequence ``merges``, the knee k of their curve and
    ``accuracy_after(k)``, the test accuracy with those k neurons merged away."""
    saliency = np.array([s.saliency for s in merges])
    k = knee(saliency)
    return dict(saliency=saliency, knee=k, knee_accuracy=accuracy_after(k))


def knee_row(net: str, run: dict, params_removed) -> dict:
    """The knee's row: % of the neurons and (``params_removed(run, fraction)``) of all parameters
    removed there, and its accuracy drop from dense in points."""
    k = run["knee"] / run["n"]
    return dict(network=net, method=KNEE, knee_neurons=100 * k, knee_params=100 * params_removed(run, k),
                knee_drop=run["dense"] - run["knee_accuracy"])


def knee_claim(knee_row: dict, net: str, key: str, tolerance: float) -> Claim:
    drop, tol = knee_row["knee_drop"], f"{tolerance:g} point"
    return Claim(f"{key}.knee_within_tolerance", f"{net}: our knee of the saliency curve (Kneedle, linear "
                 f"scale) stops where accuracy is within {tol} of dense", False,
                 finite(drop) and drop <= tolerance + ROUNDING,
                 f"stops at {knee_row['knee_neurons']:.0f}% of the neurons, {drop:.2f} points below dense",
                 f"{PAPER}: the number to remove is read off the saliency curve (no explicit rule)")


def saliency_panel(ax, runs: dict, seed: int) -> None:
    """Each network's saliency of the merges against the neurons removed (log scale), its knee."""
    for net, r in runs.items():
        line, = ax.semilogy(100 * np.arange(1, r["n"]) / r["n"], np.maximum(r["saliency"], 1e-12), label=net)
        ax.axvline(100 * r["knee"] / r["n"], color=line.get_color(), ls="--")
    ax.set(xlabel="hidden neurons removed (%)", ylabel="saliency of the merge",
           title=f"saliency curve and knee (seed {seed})")
    ax.legend(fontsize=7)
