"""Lebedev et al. 2015's CP at its operating point, one part of
:mod:`minicompress.reproductions.kim2016_tucker` (that module's docstring says what is
reproduced, the deviations and what held; ``minicompress reproduce tucker`` runs this part with the
others; the CP fit is :mod:`minicompress.papers.lebedev2015_cp`).

Of the rank sweep, the CP row closest to Lebedev et al.'s 8.5× speedup (the smallest conv2 MACs
reduction ≥ 8.5×) is fine-tuned, with Tucker-2 at the same scale: is it within 1 point of the
original after fine-tuning, does fine-tuning recover what CP lost, and does CP need it more?
"""
from __future__ import annotations

import numpy as np

from minicompress.report import Claim
from minicompress.reproductions.experiment import field, finite

LEBEDEV_SPEEDUP = 8.5  # the character CNN's speedup for 1% accuracy lost
TIE = 1e-9  # errors are image counts in percent: a gap of exactly 0.5 is 0.5, not 0.5000001
LEBEDEV_PAPER = ("Lebedev et al. 2015: 8.5× faster character CNN for 1% accuracy lost after "
                 "fine-tuning; much more lost without it")


def lebedev_point(rows, finetuned: bool = False) -> float:
    """The scale of the sweep closest to Lebedev et al.'s operating point: the CP row with the
    smallest conv2 MACs reduction that is still ≥ 8.5× (with ``finetuned``: among fine-tuned
    rows); NaN if there is none."""
    candidates = [(r["macs_reduction"], r["scale"]) for r in rows if r.get("method") == "cp"
                  and np.isfinite(r.get("macs_reduction", np.nan)) and r["macs_reduction"] >= LEBEDEV_SPEEDUP
                  and (not finetuned or np.isfinite(r.get("finetuned", np.nan)))]
    return min(candidates)[1] if candidates else np.nan


def _cp_at_lebedev_point(rows):
    scale = lebedev_point(rows, finetuned=True)
    return (field(rows, "finetuned", method="original"),
            *(field(rows, key, method="cp", scale=scale) for key in ("error", "finetuned", "macs_reduction")))


def claim_cp_within_one_point(rows) -> Claim:
    control, before, after, reduction = _cp_at_lebedev_point(rows)
    return Claim("lebedev.lenet5.cp_within_one_point",
                 "CP at the swept rank closest to Lebedev's speedup (the smallest conv2 MACs "
                 "reduction ≥ 8.5×), fine-tuned one epoch: within 1 point of the original given the "
                 "same epoch (after − original ≤ 1)", True,
                 finite(control, after, reduction) and reduction >= LEBEDEV_SPEEDUP
                 and after - control <= 1.0 + TIE,
                 f"CP (MACs ÷{reduction:.1f}) {after:.2f}% after fine-tuning; original "
                 f"{control:.2f}% ({after - control:+.2f} points)", LEBEDEV_PAPER)


def claim_cp_finetuning_recovers(rows) -> Claim:
    control, before, after, reduction = _cp_at_lebedev_point(rows)
    return Claim("lebedev.lenet5.cp_finetuning_recovers",
                 "CP at the same rank loses accuracy without fine-tuning that one epoch recovers "
                 "(error after < error before)", True,
                 finite(before, after, reduction) and reduction >= LEBEDEV_SPEEDUP
                 and after < before - TIE,
                 f"CP (MACs ÷{reduction:.1f}) {before:.2f}% before, {after:.2f}% after; original "
                 f"{field(rows, 'error', method='original'):.2f}% before the control epoch", LEBEDEV_PAPER)


def claim_cp_needs_finetuning_more(rows) -> Claim:
    scale = lebedev_point(rows, finetuned=True)
    gain = {m: field(rows, "error", method=m, scale=scale) - field(rows, "finetuned", method=m, scale=scale)
            for m in ("cp", "tucker2")}
    return Claim("lebedev.lenet5.cp_needs_finetuning_more",
                 "At equal conv2 MACs (at Lebedev's point, as above) CP gains more from fine-tuning "
                 "than Tucker-2 (error before − after: CP's > Tucker-2's)", True,
                 finite(*gain.values()) and gain["cp"] > gain["tucker2"] + TIE,
                 f"fine-tuning gain: CP {gain['cp']:+.2f}, Tucker-2 {gain['tucker2']:+.2f} points",
                 "Lebedev et al. 2015: the CP network without fine-tuning loses accuracy that "
                 "fine-tuning recovers (the issue's reading: CP needs fine-tuning more)")


def lebedev_claims(rows) -> list[Claim]:
    """Lebedev et al.'s three claims, checked on the rows of one run."""
    return [claim_cp_within_one_point(rows), claim_cp_finetuning_recovers(rows),
            claim_cp_needs_finetuning_more(rows)]
