"""Structured Sparsity Learning: a group lasso zeroes whole filters, channels and filter shapes,
so the pruned network is a smaller *dense* network, and really faster.

W. Wen, C. Wu, Y. Wang, Y. Chen, H. Li. "Learning Structured Sparsity in Deep Neural Networks."
NeurIPS 2016, arXiv:1608.03665.

The idea. Scattered zeros do not speed up a dense GEMM; zeros in whole rows and columns of a
layer's lowered weight matrix do, as the matrix gets smaller. SSL adds a group lasso, the sum of
the unsquared L2 norms of groups of weights, which drives whole groups exactly to zero:

    E(W) = E_D(W) + λ R(W) + Σ_l Σ_kind λ_kind Σ_g ‖W_g^(l)‖₂          (the paper's objective)

with the paper's groups of a conv weight W (N filters, C channels, M×K kernel):

    filter-wise   W[n, :, :, :]   a row of the lowered GEMM matrix: removes filter n
    channel-wise  W[:, c, :, :]   removes input channel c (and the filter that produced it)
    shape-wise    W[:, c, m, k]   a column of the GEMM matrix: one tap of the filter shape
    layer-wise    W               the whole layer (depth; needs a shortcut to stay connected)
    and of a fully connected W (out, in): neuron-wise W[o, :], input-wise W[:, i].

The step (``method=``). "proximal" (default, the principled step for a non-smooth penalty):
after the optimizer's step, W_g ← W_g · max(0, 1 − η λ / ‖W_g‖₂) (block soft-thresholding, the
prox of η λ ‖·‖₂), so a group its gradient cannot hold up lands *exactly* at zero and stays there;
overlapping groups (filters, channels, shapes share weights) get their proxes one kind after
another, a standard approximation of the prox of the sum. "subgradient", the paper's (Caffe's):
λ W_g/‖W_g‖₂ added to the gradient; a group never reaches zero but oscillates around it with
amplitude about η λ, hence the authors' code zeroes weights below 1e-4 after each update. Then
groups whose norm fell below a threshold are zeroed and held by masks, the model is fine-tuned
without the regularizer and shrunk (:func:`shrink_structured`): dead filters, channels and
neurons go, dead shape columns turn a Conv2d into a :class:`~minicompress.pruning.lowered.ColumnConv2d`.

Reproduction (the paper's LeNet experiment): LeNet-5 (:mod:`minicompress.models`) trained
to convergence, then SSL (filter, channel and shape groups on both convolutions, two strengths λ:
the accuracy–speed trade-off), zeroing, fine-tuning, surgery. Reported: surviving filters,
channels and shape columns per layer, conv and total MACs, test accuracy vs the baseline and the
dense model trained as long, and the *measured* per-layer and network latency vs the original
and vs an unstructured model with as many nonzeros per layer (magnitude-pruned, scipy.sparse).

Deviations: synthetic digits by default (``data="mnist_test_split"`` for real digits); short
training; ReLU after the convolutions; proximal steps instead of the paper's subgradient + 1e-4
zeroing; all three conv group kinds at once, where the paper's LeNet rows use filter + channel
and filter + shape separately (``Config(variants=...)`` runs those); the strengths λ are ours;
latency of whole layers in NumPy (im2col included), not of the GEMM alone as in the paper; the
unstructured model is not fine-tuned.

Run: ``python -m minicompress.reproductions.wen2016_ssl [--quick] [--data mnist_test_split --data-dir
DIR]`` or ``minicompress reproduce ssl``.

Expected quick run (4,000 synthetic training digits, 2,000 test, seed 0, λ = 0.2; 16 s on 2
idle cores; accuracies deterministic for the seed, timings not): dense 94.4%, SSL 93.5%; conv1
keeps 6 of 20 filters, conv2 33 of 50 filters, 6 channels, 127 of 500 columns; 5.3x fewer conv
MACs, 3.7x fewer in all; measured 2.8x faster; the unstructured CSR model 0.92x.

Measured full runs (seeds 0, 1, 2, mean ± std; OPENBLAS_NUM_THREADS=1, 2 cores; latency of a
batch of 256 test images, dense LeNet-5 ≈ 26 ms):

    synthetic digits, 10,000 / 2,000 (5 min 31 s)   λ = 0.05             λ = 0.1
    dense 98.8 ± 0.1% (trained as long: 98.8 ± 0.1%)
    SSL accuracy, shrunk                             98.3 ± 0.1%          98.1 ± 0.4%
    conv1 filters / conv2 filters, channels, columns 7.3 / 41.7, 7.3, 178 3.7 / 37.7, 3.7, 85
    conv MACs fewer, all MACs fewer                  3.3 ± 0.2x, 2.5x     7.6 ± 1.3x, 4.2x
    measured speedup: network (conv1, conv2, fc1)    2.20 ± 0.09x (2.3, 2.8, 1.2)   3.29 ± 0.22x (3.3, 5.1, 1.4)
    unstructured CSR at equal nonzeros               0.70 ± 0.03x         0.95 ± 0.06x

    MNIST test set split 8,000 / 2,000 (4 min 36 s)
    dense 98.4 ± 0.1% (trained as long: 98.5 ± 0.0%)
    SSL accuracy, shrunk                             98.2 ± 0.2%          98.0 ± 0.2%
    conv MACs fewer, all MACs fewer                  4.3 ± 1.5x, 3.0x     8.0 ± 2.0x, 4.4x
    measured speedup: network (conv1, conv2, fc1)    2.47 ± 0.42x (2.6, 3.6, 1.3)   3.34 ± 0.35x (3.6, 5.2, 1.5)
    unstructured CSR at equal nonzeros               0.75 ± 0.13x         0.96 ± 0.06x

Claims. Measured whole-network speedup >= 2x for the shrunk model: reproduced (every seed, both
data sets, both λ), 76–88% of the MACs ratio (pooling, activations and im2col shrink less than
the GEMMs; the fc layers hardly at all). Accuracy within 0.5 points of the baseline with >= 3x
fewer conv MACs: NOT reproduced as a rule here; it holds in 1 of 3 seeds on synthetic digits
(losses 0.57 ± 0.14 and 0.70 ± 0.33 points) and in 2 of 3 on real digits (0.22 ± 0.23 and
0.38 ± 0.22), with our short training. Unstructured sparsity at equal nonzeros (scipy.sparse)
is not faster than dense: holds at 2.5–3x fewer nonzeros (0.70–0.75x), borderline at 4.2–4.4x
fewer (0.95x, faster in 1 of 3 seeds on each data set: CSR wins on conv2 at 1.2–1.3x and loses
on fc1 at 0.3x). Surgery changes the outputs by at most 8e-6 (float32).
"""
from __future__ import annotations

import copy
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from minicompress import nn, pruning
from minicompress.models import CONV1, CONV2, FC1, FC2, lenet5
from minicompress.reproductions.experiment import load_data, over_seeds, pm, train_lenet as train
from minicompress.metrics import flops, latencies
from minicompress.pruning.lowered import ColumnConv2d, same_nonzeros, to_csr
from minicompress.report import Report
from minicompress.reproductions.experiment import command_line, save_figure, say
from minicompress.train import evaluate

# kind: (weight dimensions, axes summed over for one group's norm); conv W (N, C, M, K), fc W (out, in)
GROUPS = {
    "filter": (4, (1, 2, 3)),  # W[n, :, :, :]  -> norms (N, 1, 1, 1)
    "channel": (4, (0, 2, 3)),  # W[:, c, :, :]  -> (1, C, 1, 1)
    "shape": (4, (0,)),  # W[:, c, m, k]  -> (1, C, M, K)
    "neuron": (2, (1,)),  # W[o, :]  -> (out, 1)
    "input": (2, (0,)),  # W[:, i]  -> (1, in)
    "layer": (None, None),  # W -> one norm
}


# ----- the group lasso: value, subgradient, proximal step ------------------------------------------
def group_norms(w: np.ndarray, kind: str) -> np.ndarray:
    """‖W_g‖₂ of every group, shaped to broadcast against ``w`` (summed axes kept as size 1)."""
    if kind not in GROUPS:
        raise ValueError(f"kind: expected one of {', '.join(GROUPS)}, got {kind!r}")
    ndim, axes = GROUPS[kind]
    if ndim is not None and w.ndim != ndim:
        raise ValueError(f"{kind}-wise groups need a {'conv (N, C, M, K)' if ndim == 4 else 'linear (out, in)'} "
                         f"weight, got shape {w.shape}")
    return np.sqrt(np.sum(w * w, axis=axes, keepdims=True))


def group_lasso(w: np.ndarray, kind: str) -> float:
    """R_g(W) = Σ_g ‖W_g‖₂ (unsquared norms: that is what makes groups exactly zero)."""
    return float(np.sum(group_norms(w, kind)))


def group_lasso_grad(w: np.ndarray, kind: str) -> np.ndarray:
    """∂R_g/∂W = W_g / ‖W_g‖₂ for a nonzero group, 0 for a zero group (the subgradient of least
    norm, the one that lets a zero group stay zero)."""
    norms = group_norms(w, kind)
    return np.divide(w, norms, out=np.zeros_like(w), where=norms > 0)


def group_shrink(w: np.ndarray, kind: str, threshold: float) -> np.ndarray:
    """prox of threshold·R_g: W_g · max(0, 1 − threshold / ‖W_g‖₂) (block soft-thresholding)."""
    norms = group_norms(w, kind)
    scale = np.maximum(0.0, 1.0 - threshold / np.maximum(norms, np.finfo(w.dtype).tiny))
    return w * scale.astype(w.dtype)


@dataclass(frozen=True)
class GroupTerm:
    """λ Σ_g ‖W_g‖₂ over the ``kind``-wise groups of one weight."""

    param: nn.Parameter
    kind: str
    strength: float

    def __post_init__(self):
        group_norms(self.param.data, self.kind)  # fails early on a bad kind or shape
        if not np.isfinite(self.strength) or self.strength < 0:
            raise ValueError(f"strength: expected a finite number >= 0, got {self.strength!r}")


class GroupLasso:
    """Wrap an optimizer so that every step also applies the group lasso terms.

    ``method="proximal"``: the wrapped step, then W_g ← prox(W_g) with threshold lr·λ per term
    (use with SGD: the threshold assumes a step of size lr). ``method="subgradient"``: add
    λ W_g/‖W_g‖₂ to the gradients, then the wrapped step (the paper's Caffe implementation).
    Used by :func:`minicompress.train.fit` like any optimizer.
    """

    METHODS = ("proximal", "subgradient")

    def __init__(self, optimizer: nn.Optimizer, terms, method: str = "proximal"):
        if method not in self.METHODS:
            raise ValueError(f"method: expected one of {self.METHODS}, got {method!r}")
        self.optimizer, self.terms, self.method = optimizer, list(terms), method
        foreign = [t.param.name for t in self.terms if not any(t.param is p for p in optimizer.params)]
        if foreign:
            raise ValueError(f"terms: parameters {foreign} are not updated by the optimizer")

    def zero_grad(self) -> None:
        self.optimizer.zero_grad()

    def step(self) -> None:
        if self.method == "subgradient":
            for t in self.terms:
                t.param.add_grad(t.strength * group_lasso_grad(t.param.value(), t.kind))
        self.optimizer.step()
        if self.method == "proximal":
            for t in self.terms:
                p = t.param
                shrunk = group_shrink(p.value(), t.kind, self.optimizer.lr * t.strength)
                np.copyto(p.data, shrunk, where=True if p.mask is None else p.mask > 0)  # in place

    def penalty(self) -> float:
        """Σ_terms λ R_g(W) at the current weights."""
        return sum(t.strength * group_lasso(t.param.value(), t.kind) for t in self.terms)


def ssl_terms(model: nn.Sequential, strengths: dict) -> list[GroupTerm]:
    """Group terms from ``{layer index: {kind: λ}}``, e.g. ``{0: {"filter": 0.1, "shape": 0.1}}``."""
    for index in strengths:
        if not isinstance(model[index], (nn.Conv2d, nn.Linear)):
            raise ValueError(f"layer {index}: {model[index].describe()} has no weight to regularize")
    return [GroupTerm(model[index].weight, kind, float(strength))
            for index, kinds in strengths.items() for kind, strength in kinds.items()]


def zero_small_groups(terms, threshold: float = 1e-4) -> int:
    """Set every group of norm < ``threshold`` to zero and keep it there with a mask (combined
    with any mask already set). Returns how many groups were zeroed."""
    count = 0
    for t in terms:
        dead = group_norms(t.param.value(), t.kind) < threshold  # (broadcastable to the weight)
        count += int(dead.sum())
        keep = np.broadcast_to(~dead, t.param.shape).astype(t.param.data.dtype)
        t.param.mask = keep if t.param.mask is None else t.param.mask * keep
    return count


def shrink_structured(model: nn.Sequential) -> nn.Sequential:
    """The smaller dense model: :func:`~minicompress.pruning.shrink` removes dead filters,
    channels and neurons; then every convolution with all-zero columns of its lowered matrix
    becomes a ColumnConv2d without them. Outputs equal the model's up to rounding."""
    small, _ = pruning.shrink(model)
    zero_column = lambda m: not m.weight.value().reshape(m.out_channels, -1).any(axis=0).all()
    return nn.Sequential(*(ColumnConv2d.from_conv(m) if isinstance(m, nn.Conv2d) and zero_column(m) else m
                           for m in small.layers))


def survivors(model: nn.Sequential) -> list[dict]:
    """Per convolution of ``model`` (masked, not yet shrunk): the filters, input channels and shape
    columns that survive surgery, out of how many. A channel whose producer filter died counts
    as gone, as surgery removes it."""
    small, _ = pruning.shrink(model)
    return [dict(layer=before.name, filters=after.out_channels, of_filters=before.out_channels,
                 channels=after.in_channels, of_channels=before.in_channels,
                 columns=int(after.weight.value().reshape(after.out_channels, -1).any(axis=0).sum()),
                 of_columns=int(np.prod(before.weight.shape[1:])))
            for before, after in zip(model.layers, small.layers) if isinstance(before, nn.Conv2d)]


# ----- the reproduction ---------------------------------------------------------------------------
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
    seeds: int = 3

    @classmethod
    def quick(cls) -> "Config":
        return cls(n_train=4_000, epochs=3, decay_epochs=1, ssl_epochs=3, finetune_epochs=2,
                   reference=False, seeds=1, latency_repeats=5, latency_rounds=2,
                   variants={"λ=0.2": {"filter": 0.2, "channel": 0.2, "shape": 0.2}})


def reproduce(*, quick: bool = False, seed: int = 0, data: str | None = None, out_dir=None,
              data_dir=None, verify: bool = True, config: Config | None = None,
              verbose: bool = True) -> Report:
    """Train LeNet-5, run every SSL variant, shrink, time; print the table, write the figure.

    ``data``: see :func:`~minicompress.reproductions.experiment.load_data`, e.g. "mnist_test_split" with
    ``data_dir``. Latencies are measured in this process, on the same batch, models interleaved;
    they depend on the machine and its load.
    """
    cfg = config or (Config.quick() if quick else Config())
    data, out_dir, train_set, test_set = load_data("ssl", cfg, data, out_dir, data_dir, verify)
    runs = [_one_seed(cfg, s, train_set, test_set, verbose) for s in range(seed, seed + cfg.seeds)]
    report = _summarize(runs, cfg, data)
    report.figures.append(_figure(runs[0], cfg, out_dir / "ssl_structure.png"))
    print(report.table())
    return report


def _one_seed(cfg: Config, seed: int, train_set, test_set, verbose: bool) -> dict:
    rng = np.random.default_rng(seed)
    phase = lambda model, epochs, lr, **kw: train(model, train_set, cfg, rng, epochs=epochs, lr=lr,
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
                            (CONV1, CONV2, FC1, FC2), repeats=cfg.latency_repeats, rounds=cfg.latency_rounds))
    return dict(out, dense_macs=flops(baseline, (1, 28, 28))["layers"],
                dense_weights=[baseline[i].weight.data.copy() for i in (CONV1, CONV2)])


def _summarize(runs: list[dict], cfg: Config, data: str) -> Report:
    """The table (baseline, then per variant the shrunk SSL model and the CSR model) and the claims."""
    mean, std = (lambda v: float(np.mean(v))), (lambda v: float(np.std(v)))
    total = lambda layers, first=None: sum(m["dense"] for m in layers[:first])  # MACs of the first layers
    base = [r["baseline"] for r in runs]
    rows = [dict(model="dense baseline", accuracy=mean(base), std=std(base),
                 ms=mean([v["times"]["dense"]["network"] for r in runs for v in r["variants"].values()]))]
    if cfg.reference:
        ref = [r["reference"] for r in runs]
        rows.append(dict(model="dense, trained as long", accuracy=mean(ref), std=std(ref)))
    notes = []
    for name in cfg.variants:
        vs = [r["variants"][name] for r in runs]
        conv_ratio = [total(runs[0]["dense_macs"], 2) / total(v["macs"], 2) for v in vs]
        total_ratio = [total(runs[0]["dense_macs"]) / total(v["macs"]) for v in vs]
        speed = {who: {k: [v["times"]["dense"][k] / v["times"][who][k] for v in vs]
                       for k in ("network", CONV1, CONV2, FC1)} for who in ("shrunk", "csr")}
        sv = lambda i, k: mean([v["survivors"][i][k] for v in vs])
        structure = dict(f1=sv(0, "filters"), c1=sv(0, "columns"), f2=sv(1, "filters"), ch2=sv(1, "channels"),
                         c2=sv(1, "columns"), conv_macs_x=mean(conv_ratio))
        for who, label, key, extra in (("shrunk", f"SSL {name}", "shrunk_accuracy", structure),
                                       ("csr", "  unstructured CSR, same nnz", "unstructured_accuracy", {})):
            acc, ratio = [v[key] for v in vs], speed[who]
            rows.append(dict(model=label, accuracy=mean(acc), std=std(acc), **extra, macs_x=mean(total_ratio),
                             ms=mean([v["times"][who]["network"] for v in vs]), speedup=mean(ratio["network"]),
                             speedup_std=std(ratio["network"]), conv1_x=mean(ratio[CONV1]), conv2_x=mean(ratio[CONV2]),
                             fc1_x=mean(ratio[FC1])))
        drop = [r["baseline"] - v["shrunk_accuracy"] for r, v in zip(runs, vs)]
        fast, csr = speed["shrunk"]["network"], speed["csr"]["network"]
        notes += [f"{name}: within 0.5 points of the baseline with >= 3x fewer conv MACs: "
                  f"{over_seeds(d <= 0.5 and c >= 3 for d, c in zip(drop, conv_ratio))} (baseline - SSL = "
                  f"{pm(drop)} points, conv MACs {pm(conv_ratio, '.1f')}x fewer)",
                  f"{name}: measured whole-network speedup >= 2x: {over_seeds(s >= 2 for s in fast)} ({pm(fast)}x)",
                  f"{name}: unstructured CSR model at equal nonzeros not faster than dense: "
                  f"{over_seeds(c <= 1 for c in csr)} ({pm(csr)}x)",
                  f"{name}: surgery keeps the outputs: max |shrunk - masked| = "
                  f"{max(v['max_output_difference'] for v in vs):.1e}"]
        if cfg.reference:
            gap = [r["reference"] - v["shrunk_accuracy"] for r, v in zip(runs, vs)]
            notes.append(f"{name}: vs the dense model trained as long: {pm(gap)} points below")
    title = (f"Wen et al. SSL on LeNet-5, {data} ({len(runs)} seed(s); filter, channel and shape "
             f"groups on both convolutions; test accuracy %, mean and std; surviving filters f1/20, "
             f"shape columns c1/25 of conv1, filters f2/50, channels ch2/20, columns c2/500 of "
             f"conv2; MACs and measured latency ratios vs the dense baseline, batch "
             f"{cfg.latency_batch})")
    notes.append("latency: whole forward passes in one process on one batch, models interleaved, "
                 "median of medians; ratios vary with the machine and its load")
    return Report(title, rows, notes=notes)


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
