"""The measured latency of :mod:`minicompress.reproductions.wen2016_ssl` (that module's docstring
says what is reproduced, the deviations and what held; ``minicompress reproduce ssl`` runs this
part with the rest).

The dense baseline, the shrunk SSL net and the baseline magnitude-pruned to as many nonzeros per
layer, run as scipy.sparse CSR, are timed in one process on one batch of test images, models
interleaved (:func:`minicompress.metrics.latencies`, whole networks and single layers;
machine-dependent): the table's speed ratios, the three claims on them (twice the unstructured
speedup, the abstract's; a 2x network speedup; CSR not faster than dense, Fig. 1) and the
figure's speedup panel.
"""
from __future__ import annotations

import numpy as np

from minicompress.metrics import latencies
from minicompress.models import CONV1, CONV2, FC1
from minicompress.pruning.lowered import to_csr
from minicompress.report import Claim
from minicompress.reproductions.experiment import finite

PAPER = "Wen et al. 2016"
TIMED = (CONV1, CONV2, FC1)  # the layers whose latency is reported


def timings(dense, shrunk, unstructured, x, cfg) -> dict:
    """{"dense" | "shrunk" | "csr": {layer index | "network": ms}} on the batch ``x``; the
    unstructured model runs as CSR (``cfg.latency_repeats`` runs per round, ``latency_rounds``)."""
    return latencies({"dense": dense, "shrunk": shrunk, "csr": to_csr(unstructured)}, x, TIMED,
                     repeats=cfg.latency_repeats, rounds=cfg.latency_rounds)


def speed(times: dict, who: str) -> dict:
    """The row's measured numbers of model ``who`` (of :func:`timings`): its network time in ms
    and the ratios dense time / its time, network and per timed layer."""
    layers = {f"{label}_x": times["dense"][i] / times[who][i]
              for label, i in zip(("conv1", "conv2", "fc1"), TIMED)}
    return dict(ms=times[who]["network"], speedup=times["dense"]["network"] / times[who]["network"], **layers)


def speeds(*values) -> bool:
    """Measured speed ratios are finite and > 0 (anything else is a broken measurement)."""
    return finite(*values) and all(v > 0 for v in values)


def speed_claims(ssl: dict, csr: dict, name: str) -> list[Claim]:
    """The three speed claims of variant ``name`` from its SSL row and its CSR row."""
    fast, slow, key = ssl["speedup"], csr["speedup"], f"ssl.{name}"
    return [
        Claim(f"{key}.twice_unstructured_speedup", f"SSL {name}: measured speedup of the shrunk network at "
              f"least twice that of the unstructured CSR model with as many nonzeros", True,
              speeds(fast, slow) and fast >= 2 * slow, f"SSL {fast:.2f}x, CSR {slow:.2f}x (measured here, now)",
              f"{PAPER}, abstract: SSL's speedups are about twice those of non-structured sparsity"),
        Claim(f"{key}.network_speedup_2x", f"SSL {name}: measured whole-network speedup >= 2x", False,
              speeds(fast) and fast >= 2, f"{fast:.2f}x (conv1 {ssl['conv1_x']:.2f}x, conv2 {ssl['conv2_x']:.2f}x, "
              f"fc1 {ssl['fc1_x']:.2f}x)", f"{PAPER}, Table 1: LeNet conv layers 1.6-7.4x faster (GEMM alone)"),
        Claim(f"{key}.csr_not_faster", f"SSL {name}: the unstructured CSR model at equal nonzeros is not faster "
              f"than dense", False, speeds(slow) and slow <= 1, f"{slow:.2f}x",
              f"{PAPER}, Fig. 1: non-structured sparsity gives little or even negative speedup")]


def speed_panel(ax, run: dict, cfg) -> None:
    """Bars of the measured speedups vs dense (conv1, conv2, fc1, network), per variant."""
    names, keys = list(run["variants"]), [CONV1, CONV2, FC1, "network"]
    width = 0.8 / (2 * len(names))
    for k, name in enumerate(names):
        t = run["variants"][name]["times"]
        for j, (who, label) in enumerate((("shrunk", "SSL shrunk"), ("csr", "unstructured CSR"))):
            x = np.arange(len(keys)) + (2 * k + j) * width - 0.4 + width / 2
            ax.bar(x, [t["dense"][key] / t[who][key] for key in keys], width, label=f"{name}: {label}")
    ax.axhline(1, color="k", lw=0.8)
    ax.set_xticks(np.arange(len(keys)), ["conv1", "conv2", "fc1", "network"])
    ax.set(ylabel="measured speedup vs dense", title=f"latency, batch {cfg.latency_batch} (seed {run['seed']})")
    ax.legend(fontsize=7)
