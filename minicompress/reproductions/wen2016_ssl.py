"""Wen et al. (2016), structured sparsity learning: the LeNet experiment, measured.

The method is in :mod:`minicompress.papers.wen2016_ssl`. Reproduced: LeNet-5
(:mod:`minicompress.models`) trained to a baseline, then SSL (filter, channel and shape groups on
both convolutions), zeroing, fine-tuning without the regularizer, surgery. Reported: surviving
filters, channels and shape columns per layer, conv and total MACs, test accuracy against the
baseline (and, in the full run, against the dense model trained as long), and the *measured*
per-layer and network latency against the original and against an unstructured model with as
many nonzeros per layer (magnitude-pruned, scipy.sparse CSR), by
:func:`minicompress.metrics.latencies` (interleaved; timings depend on the machine and its load).

Deviations: synthetic digits by default; short training; ReLU after the convolutions; proximal
steps (``Config(method="subgradient")`` runs the paper's); all three conv group kinds at once,
where the paper's LeNet rows use filter + channel and filter + shape separately
(``Config(variants=...)`` runs those); latency of whole layers in NumPy (im2col included), not of
the GEMM alone as in the paper; the unstructured model is not fine-tuned.

Run: ``python -m minicompress.reproductions.wen2016_ssl [--quick] [--data mnist_test_split
--data-dir DIR]`` or ``minicompress reproduce ssl [--seeds 0-9]``.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from minicompress import nn
from minicompress.metrics import flops, latencies
from minicompress.models import CONV1, CONV2, FC1, FC2, lenet5
from minicompress.papers.wen2016_ssl import GroupLasso, shrink_structured, ssl_terms, survivors, zero_small_groups
from minicompress.pruning.lowered import same_nonzeros, to_csr
from minicompress.report import Claim, Report
from minicompress.reproductions.experiment import command_line, load_data, save_figure, say, train_lenet
from minicompress.train import evaluate

PAPER = "Wen et al. 2016"
TIMED = (CONV1, CONV2, FC1)  # the layers whose latency is reported


@dataclass(frozen=True)
class Config:
    """LeNet-5 on digits; SSL on both convolutions from a trained baseline."""

    n_train: int = 10_000
    n_test: int = 2_000
    epochs: int = 8  # dense baseline
    decay_epochs: int = 2  # ... of which the last ones at a tenth of the learning rate
    ssl_epochs: int = 6  # with the group lasso
    finetune_epochs: int = 4  # without it, zeroed groups held by masks
    reference: bool = True  # also train the dense model as long as SSL + fine-tuning (fair reference)
    batch_size: int = 64  # Caffe's LeNet solver
    lr: float = 0.05  # baseline, SGD with momentum 0.9
    ssl_lr: float = 0.01  # SSL and fine-tuning
    weight_decay: float = 5e-4  # the λ R(W) term of the objective, kept in every phase
    method: str = "proximal"  # or "subgradient" (the paper's)
    variants: dict = field(default_factory=lambda: {  # name: {kind: λ} on conv1 and conv2
        "λ=0.05": {"filter": 0.05, "channel": 0.05, "shape": 0.05},
        "λ=0.1": {"filter": 0.1, "channel": 0.1, "shape": 0.1}})
    zero_threshold: float = 1e-4  # group norms below this are zeroed before fine-tuning
    latency_batch: int = 256  # test images per timed forward pass
    latency_repeats: int = 10  # timed runs per round (median), after 2 warm-up runs
    latency_rounds: int = 3  # rounds, models interleaved within each

    @classmethod
    def quick(cls) -> "Config":
        return cls(n_train=4_000, epochs=3, decay_epochs=1, ssl_epochs=3, finetune_epochs=2,
                   reference=False, latency_repeats=5, latency_rounds=2,
                   variants={"λ=0.2": {"filter": 0.2, "channel": 0.2, "shape": 0.2}})


def reproduce(*, quick: bool = False, seed: int = 0, data: str | None = None, data_dir=None,
              verify: bool = True, out_dir=None, verbose: bool = True,
              config: Config | None = None) -> Report:
    """Train LeNet-5, run every SSL variant, shrink, time; tabulate, plot, claim.

    ``data``: see :func:`~minicompress.reproductions.experiment.load_data`. Latencies are
    measured in this process, on one batch of test images, models interleaved.
    """
    cfg = config or (Config.quick() if quick else Config())
    data, out_dir, train_set, test_set = load_data("ssl", cfg, data, out_dir, data_dir, verify)
    run = one_run(cfg, seed, train_set, test_set, verbose)
    rows = table(run, cfg)
    title = (f"Wen et al. SSL on LeNet-5, {data} (seed {seed}; filter, channel and shape groups on "
             f"both convolutions; test accuracy %; surviving filters f1/20, shape columns c1/25 of "
             f"conv1, filters f2/50, channels ch2/20, columns c2/500 of conv2; MACs and measured "
             f"latency ratios vs the dense baseline, batch {cfg.latency_batch})")
    notes = [f"{len(train_set[1])} training and {len(test_set[1])} test images; {cfg.method} steps",
             "latency: whole forward passes and single layers in one process on one batch, models "
             "interleaved, median of medians; ratios vary with the machine and its load"]
    report = Report(title, rows, notes=notes, claims=[c for name in cfg.variants for c in claims_of(rows, name)],
                    data=data)
    report.figures.append(_figure(run, cfg, out_dir / "ssl_structure.png"))
    if verbose:
        print(report.table())
    return report


def one_run(cfg: Config, seed: int, train_set, test_set, verbose: bool) -> dict:
    """The baseline, then per variant: SSL, zeroing, fine-tuning, surgery, the CSR model, timings."""
    rng = np.random.default_rng(seed)
    phase = lambda model, epochs, lr, **kw: train_lenet(model, train_set, cfg, rng, epochs=epochs, lr=lr,
                                                        verbose=verbose, **kw)
    accuracy = lambda m: 100 * evaluate(m, nn.SoftmaxCrossEntropy(), *test_set)["accuracy"]
    say("ssl", verbose, f"seed {seed}: dense baseline")
    baseline = phase(lenet5(rng), cfg.epochs, cfg.lr, decay_last=cfg.decay_epochs)
    out = dict(seed=seed, baseline=accuracy(baseline), variants={})
    if cfg.reference:
        say("ssl", verbose, f"seed {seed}: dense, trained as long as SSL + fine-tuning")
        out["reference"] = accuracy(phase(copy.deepcopy(baseline), cfg.ssl_epochs + cfg.finetune_epochs, cfg.ssl_lr))
    x = test_set[0][:cfg.latency_batch]
    for name, kinds in cfg.variants.items():
        say("ssl", verbose, f"seed {seed}: SSL {name} {kinds}")
        model = copy.deepcopy(baseline)
        terms = ssl_terms(model, {CONV1: kinds, CONV2: kinds})
        phase(model, cfg.ssl_epochs, cfg.ssl_lr, wrap=lambda opt: GroupLasso(opt, terms, cfg.method))
        zero_small_groups(terms, cfg.zero_threshold)
        phase(model, cfg.finetune_epochs, cfg.ssl_lr)  # masks hold the zero groups at zero
        small = shrink_structured(model)
        unstructured = same_nonzeros(baseline, small, (CONV1, CONV2, FC1, FC2))
        out["variants"][name] = dict(
            shrunk_accuracy=accuracy(small), unstructured_accuracy=accuracy(unstructured),
            max_output_difference=float(np.abs(small(x) - model(x)).max()),
            survivors=survivors(model), macs=flops(small, (1, 28, 28))["layers"],
            weights=[model[i].weight.value().copy() for i in (CONV1, CONV2)],
            times=latencies({"dense": baseline, "shrunk": small, "csr": to_csr(unstructured)}, x,
                            TIMED, repeats=cfg.latency_repeats, rounds=cfg.latency_rounds))
    return dict(out, dense_macs=flops(baseline, (1, 28, 28))["layers"],
                dense_weights=[baseline[i].weight.data.copy() for i in (CONV1, CONV2)])


# ----- the table and the claims ---------------------------------------------------------------------
def table(run: dict, cfg: Config) -> list[dict]:
    """Rows: the baseline, [the dense model trained as long], per variant the shrunk SSL model and
    the CSR model at equal nonzeros (accuracies, structure, MACs and measured speed ratios)."""
    macs = lambda layers, first=None: sum(m["dense"] for m in layers[:first])  # MACs of the first layers
    variants = run["variants"].values()
    rows = [dict(model="dense baseline", accuracy=run["baseline"], std=0.0,
                 ms=float(np.mean([v["times"]["dense"]["network"] for v in variants])))]
    if cfg.reference:
        rows.append(dict(model="dense, trained as long", accuracy=run["reference"], std=0.0))
    for name, v in run["variants"].items():
        t = v["times"]
        speed = {who: {k: t["dense"][k] / t[who][k] for k in ("network", *TIMED)} for who in ("shrunk", "csr")}
        (s1, s2) = v["survivors"]
        structure = dict(f1=s1["filters"], c1=s1["columns"], f2=s2["filters"], ch2=s2["channels"], c2=s2["columns"],
                         conv_macs_x=macs(run["dense_macs"], 2) / macs(v["macs"], 2))
        total_x = macs(run["dense_macs"]) / macs(v["macs"])
        for who, label, key, extra in (("shrunk", f"SSL {name}", "shrunk_accuracy", structure),
                                       ("csr", "  unstructured CSR, same nnz", "unstructured_accuracy", {})):
            r = speed[who]
            rows.append(dict(model=label, accuracy=v[key], std=0.0, **extra, macs_x=total_x, ms=t[who]["network"],
                             speedup=r["network"], speedup_std=0.0, conv1_x=r[CONV1], conv2_x=r[CONV2], fc1_x=r[FC1]))
        rows[-2]["conv2_macs_x"] = run["dense_macs"][1]["dense"] / v["macs"][1]["dense"]
        rows[-2]["baseline_minus_ssl"] = run["baseline"] - v["shrunk_accuracy"]
        rows[-2]["max_output_difference"] = v["max_output_difference"]
    return rows


def _finite(*values) -> bool:
    return all(np.isfinite(v) for v in values)


def claims_of(rows: list[dict], name: str) -> list[Claim]:
    """The claims about one variant, from the table's rows (a pure function: testable by hand)."""
    by_model = {r["model"]: r for r in rows}
    ssl, csr, base = by_model[f"SSL {name}"], by_model["  unstructured CSR, same nnz"], by_model["dense baseline"]
    key, drop, conv_x = f"ssl.{name}", base["accuracy"] - ssl["accuracy"], ssl["conv_macs_x"]
    fast, slow = ssl["speedup"], csr["speedup"]
    return [
        Claim(f"{key}.accuracy_and_conv_macs", f"SSL {name}: accuracy within 0.5 points of the baseline with "
              f">= 3x fewer conv MACs", True, _finite(drop, conv_x) and drop <= 0.5 and conv_x >= 3,
              f"baseline - SSL = {drop:.2f} points, conv MACs {conv_x:.1f}x fewer",
              f"{PAPER}, Table 1: LeNet error 0.9% -> 0.8-1.0% with conv2 at 3.6-7.6% of its FLOPs"),
        Claim(f"{key}.network_speedup_2x", f"SSL {name}: measured whole-network speedup >= 2x", False,
              _finite(fast) and fast >= 2, f"{fast:.2f}x", f"{PAPER}, Table 1: conv layers 1.6-7.4x faster"),
        Claim(f"{key}.csr_not_faster", f"SSL {name}: the unstructured CSR model at equal nonzeros is not "
              f"faster than dense", False, _finite(slow) and slow <= 1, f"{slow:.2f}x",
              f"{PAPER}, Fig. 1: non-structured sparsity gives little or negative speedup"),
        Claim(f"{key}.surgery_exact", f"SSL {name}: surgery keeps the outputs (max |shrunk - masked| < 1e-4, float32)",
              False, _finite(ssl["max_output_difference"]) and ssl["max_output_difference"] < 1e-4,
              f"{ssl['max_output_difference']:.1e}", "surgery is exact up to rounding"),
    ]


# ----- the figure -------------------------------------------------------------------------------------
def _figure(run: dict, cfg: Config, path: Path) -> Path:
    """conv1's filters before and after SSL, conv2's lowered matrix after, measured speedups."""
    from matplotlib.figure import Figure
    names = list(run["variants"])
    fig = Figure(figsize=(14, 2.2 + 2.4 * len(names)), layout="constrained")
    left, middle, right = fig.subfigures(1, 3, width_ratios=(1.3, 1.3, 1))
    tiles = [("dense", run["dense_weights"])] + [(n, run["variants"][n]["weights"]) for n in names]
    column = lambda subfigure: subfigure.subplots(len(tiles), 1, squeeze=False)[:, 0]
    for ax1, ax2, (label, (w1, w2)) in zip(column(left), column(middle), tiles):
        shown = [np.pad(f[0] if f.any() else np.full(f[0].shape, np.nan), 1, constant_values=np.nan)
                 for f in w1]  # (7, 7) tiles, a removed filter blank
        mosaic = np.block([shown[:10], shown[10:]])  # 2 rows of 10 filters
        ax1.imshow(mosaic, cmap="RdBu_r", vmin=-np.abs(w1).max(), vmax=np.abs(w1).max())
        ax1.set_axis_off()
        ax1.set_title(f"conv1 filters, {label} (blank = removed)", fontsize=8)
        lowered = np.abs(w2.reshape(w2.shape[0], -1))  # (50 filters, 20 channels · 25 taps)
        ax2.imshow(np.where(lowered > 0, lowered, np.nan), aspect="auto", cmap="viridis", interpolation="nearest")
        ax2.set(title=f"conv2 GEMM matrix |W|, {label}", xlabel="column (channel, tap)", ylabel="filter")
        ax2.title.set_fontsize(8)
    ax = right.subplots()
    keys = [CONV1, CONV2, FC1, "network"]
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
    return save_figure(fig, path)


if __name__ == "__main__":
    command_line(reproduce, __doc__)
