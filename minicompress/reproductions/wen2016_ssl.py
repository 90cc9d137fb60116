"""Wen et al. (2016), structured sparsity learning: the LeNet experiment, measured.

The method is in :mod:`minicompress.papers.wen2016_ssl`. LeNet-5 (:mod:`minicompress.models`)
trained to a baseline; SSL from it (proximal steps; filter and shape groups on conv1, filter,
channel and shape groups on conv2); groups below 1e-4 zeroed; surgery; the compact net fine-tuned
without the group lasso, as the authors do. Reported: surviving filters, channels and shape
columns, MACs per layer, test accuracy against the baseline (full run: also against the dense
model trained as long), and the *measured* latency of the network and of its layers against the
baseline and against the baseline magnitude-pruned to as many nonzeros per layer, run as
scipy.sparse CSR (:func:`minicompress.metrics.latencies`, interleaved; machine-dependent; the
timing, its claims and its panel in :mod:`.wen2016_ssl_latency`).

Claims (``ssl.<variant>.*``). Headline, the paper's LeNet result (Table 1: error 0.9% → 0.8% /
1.0% with conv2 at 7.6% / 3.6% of its FLOPs) and its abstract's comparison: ``accuracy_and_conv2``,
test error within 0.2 points of the baseline's with conv2's MACs cut >= 4x;
``twice_unstructured_speedup``, the shrunk net's measured speedup at least twice the CSR model's.
Contrasts: network speedup >= 2x, CSR not faster than dense (the paper's Fig. 1), surgery exact,
within 0.2 points of the dense model trained as long (full run).

Recipe: Caffe's LeNet solver (batch 64, momentum 0.9, weight decay 5e-4); baseline at lr 0.05;
SSL and fine-tuning at lr 0.01 (the authors advise a tenth of the baseline's); the last epochs of
each phase at lr/10 (the authors' SSL runs 70% of its steps at the first rate). λ: 0.005 (the
authors' LeNet example solver) and 0.01 in the full run, 0.03 in the quick one (8x fewer SSL
steps). Before the momentum fix, λ = 0.05, 0.1 and 0.2 gave these same steps: the threshold lr·λ
made the objective E + λR/10.

Exception: ``accuracy_and_conv2`` does not hold in every quick seed (9 of 10 on synthetic digits,
5 of 10 on mnist_test_split). With 4,000 training images and 3 SSL epochs (baseline 94.5-96% on
synthetic, 96-97% on real digits; about 99% in the full run) one λ leaves too many conv1 filters
in some seeds (synthetic seed 8: 7 filters, conv2 3.3x) and too few on real digits, where it
keeps 3-5 and loses 0.15-0.6 points (seeds 1, 4-7, 9). Tried: λ = 0.02, 0.025, 0.03; 2-4
fine-tuning epochs; 3-4 SSL epochs, with and without a final lr/10: each fixed one seed and broke
another. SSL also trains 7 epochs more than the quick baseline, which helps it there.

Deviations: synthetic digits by default; ReLU after the convolutions; proximal steps
(``Config(method="subgradient")`` runs the paper's, with its 1e-4 zeroing); all three group kinds
at once, where the paper's LeNet rows use filter + channel and filter + shape
(``Config(variants=...)``); latency of whole layers in NumPy, im2col included; the CSR model is not
fine-tuned.

Run: ``python -m minicompress.reproductions.wen2016_ssl [--quick] [--data mnist_test_split
--data-dir DIR]`` or ``minicompress reproduce ssl [--seeds 0-9]``.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from minicompress import nn
from minicompress.metrics import flops
from minicompress.models import CONV1, CONV2, FC1, FC2, lenet5
from minicompress.papers.wen2016_ssl import GroupLasso, shrink_structured, ssl_terms, survivors, zero_small_groups
from minicompress.pruning.lowered import same_nonzeros
from minicompress.report import Claim, Report
from minicompress.reproductions.experiment import (command_line, figure, finite, load_data, save_figure, say,
                                                   train_lenet)
from minicompress.reproductions.wen2016_ssl_latency import PAPER, speed, speed_claims, speed_panel, timings
from minicompress.train import evaluate

ROUNDING = 1e-9  # accuracies are multiples of 100/n_test: 98.0 - 97.8 must count as 0.2


@dataclass(frozen=True)
class Config:
    """LeNet-5 on digits; SSL on both convolutions from a trained baseline."""

    n_train: int = 10_000  # (mnist_test_split has 8,000)
    n_test: int = 10_000  # (mnist_test_split has 2,000)
    epochs: int = 8  # dense baseline
    decay_epochs: int = 2  # ... of which the last ones at a tenth of the learning rate
    ssl_epochs: int = 6  # with the group lasso
    ssl_decay_epochs: int = 2  # ... of which the last ones at a tenth of the learning rate (the authors' 0.7/0.3)
    finetune_epochs: int = 4  # of the compact net (zero groups removed), without the group lasso
    finetune_decay_epochs: int = 1  # ... of which the last ones at a tenth of the learning rate
    reference: bool = True  # also train the dense model as long as SSL + fine-tuning (fair reference)
    batch_size: int = 64  # Caffe's LeNet solver
    lr: float = 0.05  # baseline, SGD with momentum 0.9
    ssl_lr: float = 0.01  # SSL and fine-tuning
    weight_decay: float = 5e-4  # the λ R(W) term of the objective, kept in every phase
    method: str = "proximal"  # or "subgradient" (the paper's)
    variants: dict = field(default_factory=lambda: {  # name: {kind: λ}; conv1 takes no channel group
        "λ=0.005": {"filter": 0.005, "channel": 0.005, "shape": 0.005},
        "λ=0.01": {"filter": 0.01, "channel": 0.01, "shape": 0.01}})
    zero_threshold: float = 1e-4  # group norms below this are zeroed before fine-tuning
    latency_batch: int = 256  # test images per timed forward pass
    latency_repeats: int = 10  # timed runs per round (median), after 2 warm-up runs
    latency_rounds: int = 3  # rounds, models interleaved within each

    @classmethod
    def quick(cls) -> "Config":
        return cls(n_train=4_000, n_test=2_000, epochs=3, decay_epochs=1, ssl_epochs=3, ssl_decay_epochs=1,
                   finetune_epochs=4, reference=False, latency_repeats=3, latency_rounds=2,
                   variants={"λ=0.03": {"filter": 0.03, "channel": 0.03, "shape": 0.03}})


def terms_for(model, kinds: dict) -> list:
    """The group terms of one variant: every kind on conv2; on conv1 all but the channel group
    (conv1 has one input channel, so its channel group would be the whole layer)."""
    return ssl_terms(model, {CONV1: {k: v for k, v in kinds.items() if k != "channel"}, CONV2: kinds})


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
    title = (f"Wen et al. SSL on LeNet-5, {data} (seed {seed}; filter and shape groups on conv1, filter, "
             f"channel and shape groups on conv2; test accuracy %; surviving filters f1/20, shape columns "
             f"c1/25 of conv1, filters f2/50, channels ch2/20, columns c2/500 of conv2; MACs and measured "
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
    """The baseline, then per variant: SSL, zeroing, surgery, fine-tuning the compact net, the CSR
    model at equal nonzeros, timings."""
    rng = np.random.default_rng(seed)
    phase = lambda model, epochs, lr, **kw: train_lenet(model, train_set, cfg, rng, epochs=epochs, lr=lr,
                                                        verbose=verbose, **kw)
    accuracy = lambda m: 100 * evaluate(m, nn.SoftmaxCrossEntropy(), *test_set)["accuracy"]
    say("ssl", verbose, f"seed {seed}: dense baseline")
    baseline = phase(lenet5(rng), cfg.epochs, cfg.lr, decay_last=cfg.decay_epochs)
    out = dict(seed=seed, baseline=accuracy(baseline), variants={})
    if cfg.reference:
        say("ssl", verbose, f"seed {seed}: dense, trained as long as SSL + fine-tuning")
        out["reference"] = accuracy(phase(copy.deepcopy(baseline), cfg.ssl_epochs + cfg.finetune_epochs, cfg.ssl_lr,
                                          decay_last=cfg.finetune_decay_epochs))
    x = test_set[0][:cfg.latency_batch]
    for name, kinds in cfg.variants.items():
        say("ssl", verbose, f"seed {seed}: SSL {name} {kinds}")
        model = copy.deepcopy(baseline)
        terms = terms_for(model, kinds)
        phase(model, cfg.ssl_epochs, cfg.ssl_lr, wrap=lambda opt: GroupLasso(opt, terms, cfg.method),
              decay_last=cfg.ssl_decay_epochs)
        zero_small_groups(terms, cfg.zero_threshold)
        small = shrink_structured(model)  # the compact net, as the authors fine-tune it
        difference = float(np.abs(small(x) - model(x)).max())
        phase(small, cfg.finetune_epochs, cfg.ssl_lr, decay_last=cfg.finetune_decay_epochs)  # no group lasso
        unstructured = same_nonzeros(baseline, small, (CONV1, CONV2, FC1, FC2))
        out["variants"][name] = dict(
            shrunk_accuracy=accuracy(small), unstructured_accuracy=accuracy(unstructured),
            max_output_difference=difference, survivors=survivors(model), macs=flops(small, (1, 28, 28))["layers"],
            weights=[model[i].weight.value().copy() for i in (CONV1, CONV2)],
            times=timings(baseline, small, unstructured, x, cfg))
    return dict(out, dense_macs=flops(baseline, (1, 28, 28))["layers"],
                dense_weights=[baseline[i].weight.data.copy() for i in (CONV1, CONV2)])


# ----- the table and the claims ---------------------------------------------------------------------
def table(run: dict, cfg: Config) -> list[dict]:
    """Rows: the baseline, [the dense model trained as long], per variant the shrunk SSL model and
    the CSR model at equal nonzeros (accuracy, structure, MACs and measured speed ratios)."""
    dense, variants = run["dense_macs"], run["variants"]
    rows = [dict(model="dense baseline", accuracy=run["baseline"],
                 ms=float(np.mean([v["times"]["dense"]["network"] for v in variants.values()])))]
    if cfg.reference:
        rows.append(dict(model="dense, trained as long", accuracy=run["reference"]))
    for name, v in variants.items():
        s1, s2 = v["survivors"]

        def fewer(first, last):  # dense MACs / shrunk MACs over layers [first, last)
            return sum(m["dense"] for m in dense[first:last]) / sum(m["dense"] for m in v["macs"][first:last])

        rows.append(dict(model=f"SSL {name}", accuracy=v["shrunk_accuracy"],
                         baseline_minus_ssl=run["baseline"] - v["shrunk_accuracy"],
                         f1=s1["filters"], c1=s1["columns"], f2=s2["filters"], ch2=s2["channels"], c2=s2["columns"],
                         conv1_macs_x=fewer(0, 1), conv2_macs_x=fewer(1, 2), conv_macs_x=fewer(0, 2),
                         macs_x=fewer(0, None), **speed(v["times"], "shrunk"),
                         max_output_difference=v["max_output_difference"]))
        rows.append(dict(model=f"  unstructured CSR, same nnz as {name}", accuracy=v["unstructured_accuracy"],
                         macs_x=fewer(0, None), **speed(v["times"], "csr")))
    return rows


def claims_of(rows: list[dict], name: str) -> list[Claim]:
    """The claims about one variant, from the table's rows (a pure function: testable by hand)."""
    by_model = {r["model"]: r for r in rows}
    ssl, csr = by_model[f"SSL {name}"], by_model[f"  unstructured CSR, same nnz as {name}"]
    base, key = by_model["dense baseline"]["accuracy"], f"ssl.{name}"
    drop, conv2_x = base - ssl["accuracy"], ssl["conv2_macs_x"]
    out = [
        Claim(f"{key}.accuracy_and_conv2", f"SSL {name}: test error within 0.2 points of the baseline's with "
              f"conv2's MACs cut >= 4x", True, finite(drop, conv2_x) and drop <= 0.2 + ROUNDING and conv2_x >= 4,
              f"baseline - SSL = {drop:+.2f} points, conv2 MACs {conv2_x:.1f}x fewer "
              f"(conv1 {ssl['conv1_macs_x']:.1f}x, conv layers {ssl['conv_macs_x']:.1f}x)",
              f"{PAPER}, Table 1 (LeNet): error 0.9% -> 0.8% / 1.0% with conv2 at 7.6% / 3.6% of its FLOPs"),
        *speed_claims(ssl, csr, name),
        Claim(f"{key}.surgery_exact", f"SSL {name}: surgery keeps the outputs (max |shrunk - masked| < 1e-4, float32)",
              False, finite(ssl["max_output_difference"]) and ssl["max_output_difference"] < 1e-4,
              f"{ssl['max_output_difference']:.1e}", "removing zero groups is exact up to rounding")]
    if "dense, trained as long" in by_model:
        gap = by_model["dense, trained as long"]["accuracy"] - ssl["accuracy"]
        out.append(Claim(f"{key}.vs_trained_as_long", f"SSL {name}: test error within 0.2 points of the dense "
                         f"model trained as long (baseline + SSL + fine-tuning epochs)", False,
                         finite(gap) and gap <= 0.2 + ROUNDING, f"dense trained as long - SSL = {gap:+.2f} points",
                         "our control: SSL trains longer than the baseline"))
    return out


# ----- the figure -------------------------------------------------------------------------------------
def _figure(run: dict, cfg: Config, path: Path) -> Path:
    """conv1's filters before and after SSL, conv2's lowered matrix after, measured speedups."""
    names = list(run["variants"])
    fig = figure(14, 2.2 + 2.4 * len(names))
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
    speed_panel(right.subplots(), run, cfg)
    return save_figure(fig, path)


if __name__ == "__main__":
    command_line(reproduce, __doc__)
