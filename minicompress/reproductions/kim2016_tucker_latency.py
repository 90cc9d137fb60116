"""The measured speedup, one part of :mod:`minicompress.reproductions.kim2016_tucker` (that
module's docstring says what is reproduced, the deviations and what held; ``minicompress
reproduce tucker`` runs this part with the others).

At the VBMF ranks, conv2's replacement (its ``SPAN`` layers) is timed on conv2's own input and
each whole network on a test batch, interleaved (``metrics.latencies``, medians): Kim et al.'s
"measurably faster", here on this CPU with NumPy, not on a phone.
"""
from __future__ import annotations

import copy

import numpy as np

from minicompress import metrics, nn
from minicompress.factorize.decompose import SPAN
from minicompress.models import CONV2
from minicompress.report import Claim
from minicompress.reproductions.experiment import field, finite


def time_layers(rows, original, models: dict, x: np.ndarray, cfg) -> None:
    """conv2's replacement timed on its own input, and each whole network (ms, medians), written
    into the original's row and the rows at the VBMF ranks (``models``: method → model)."""
    h = x
    for layer in original.layers[:CONV2]:
        h = layer(h)
    blocks = {"original": nn.Sequential(copy.deepcopy(original[CONV2]))}
    blocks.update({m: nn.Sequential(*copy.deepcopy(model.layers[CONV2:CONV2 + SPAN[m]]))
                   for m, model in models.items()})
    nets = {"original": original, **models}
    layer_ms = metrics.latencies(blocks, h, repeats=cfg.latency_repeats, rounds=cfg.latency_rounds)
    net_ms = metrics.latencies(nets, x, repeats=cfg.latency_repeats, rounds=cfg.latency_rounds)
    for r in rows:
        if r["method"] == "original" or r["scale"] == 1.0:
            r["conv2_ms"] = layer_ms[r["method"]]["network"]
            r["network_ms"] = net_ms[r["method"]]["network"]


def _ratio(a: float, b: float) -> float:
    """a / b for positive finite times, NaN otherwise."""
    return a / b if finite(a, b) and a > 0 and b > 0 else np.nan


def claim_tucker_measured_speedup(rows) -> Claim:
    layer, net = (_ratio(field(rows, key, method="original"), field(rows, key, method="tucker2", scale=1.0))
                  for key in ("conv2_ms", "network_ms"))
    return Claim("kim.lenet5.tucker_measured_speedup",
                 "Tucker-2 at the VBMF ranks is measurably faster: conv2's median latency ratio "
                 "original / Tucker-2 > 1 (timed here, not on a phone)", True,
                 finite(layer) and layer > 1,
                 f"conv2 ×{layer:.2f}, whole network ×{net:.2f}",
                 "Kim et al. 2016: 1.8–4× faster whole networks on a smartphone (Samsung Galaxy S6)")


def latency_panel(ax, rows, methods) -> None:
    """Bars: conv2's and the whole network's median latency, the original and each method."""
    names = ["original", *methods]
    for k, key in enumerate(("conv2_ms", "network_ms")):
        ms = [field(rows, key, method="original"), *(field(rows, key, method=m, scale=1.0) for m in methods)]
        ax.bar(np.arange(len(names)) + 0.4 * k, ms, width=0.4, label=key.replace("_", " "))
    ax.set_xticks(np.arange(len(names)) + 0.2, names)
    ax.set(ylabel="median latency (ms)", title="measured latency (VBMF ranks)")
    ax.legend(fontsize=7)
