"""Training in 16-bit fixed point: round-to-nearest loses the small updates, stochastic rounding
keeps them in expectation.

S. Gupta, A. Agrawal, K. Gopalakrishnan, P. Narayanan. "Deep Learning with Limited Numerical
Precision." ICML 2015, PMLR 37:1737–1746. arXiv:1502.02551.

The idea. Train with every number held in a 16-bit fixed-point format ⟨IL, FL⟩: weights, biases,
activations, back-propagated errors and weight updates. With round-to-nearest, an update
smaller than half a grid step (|η·g| < ε/2 = 2^−(FL+1)) rounds to nothing every time, so a
weight whose gradient is small never moves and training stalls. Stochastic rounding rounds up
with probability equal to the fractional distance, so each update survives *in expectation*
(E[round(x)] = x) and 16-bit training tracks float32.

Equations (numbering as recalled in PAPERS.md card 6, not checked against the PDF here):
  ⟨IL, FL⟩: WL = IL + FL bits, sign included; ε = 2^−FL; range [−2^(IL−1), 2^(IL−1) − ε].
  Round-to-nearest, Eq. 1: ⌊x⌋ if x − ⌊x⌋ ≤ ε/2, else ⌊x⌋ + ε (ties down).
  Stochastic rounding, Eq. 2: ⌊x⌋ + ε with probability (x − ⌊x⌋)/ε, else ⌊x⌋.
  Convert, Eq. 3: saturate to the range ends, else round.
  Multiply-accumulate: products and sums exact, one Convert per dot product; SGD step
  w ← Convert(w − η·∂E/∂w).
Implemented by :mod:`minicompress.quant`: a float64 copy of the network with a Quantize module
after every layer that leaves the grid (dot products of 16-bit codes are exact in float64, so
each is rounded exactly once), and a QuantizedOptimizer that stores weights in ⟨IL, FL⟩.

Deviations. MLP 784-256-256-10 instead of 784-1000-1000-10 (``Config(hidden=(1000, 1000))``
runs the paper's width, ~7× slower) and a small LeNet-style CNN, both trained for a few epochs
only; plain SGD, no momentum or weight decay. The loss is summed over the minibatch and the
step η/batch, so the errors stay O(1) in fixed point (with a mean, the output errors
(p − y)/100 already fall below ε/2 at FL = 8 and vanish before the updates do). A clipped unit
passes no error (the derivative of saturation): without it everything in ⟨2, 14⟩ saturates and
collapses (PAPERS.md card 6f). Synthetic digits by default; real MNIST with ``--data mnist``.

Run: ``minicompress reproduce gupta [--quick]`` or ``python -m
minicompress.reproductions.gupta2015_limited_precision [--quick] [--data mnist --data-dir DIR]``.
Quick run (synthetic digits, 4,000 training and 1,000 test images, MLP 784-128-128-10, 5 epochs,
seed 0; about 5 s of CPU), measured test error: float32 26.3%; RN ⟨8,8⟩ 51.0% (98.8% of updates
lost), ⟨6,10⟩ 28.4%, ⟨2,14⟩ 29.4%; SR 25.9%, 26.5%, 30.6%. The SR ⟨2,14⟩ gap (+4.3 points, with
2.4% of activations saturated at IL = 2) is twice the noise of a difference on 1,000 images.
Full run (MNIST with the reconstructed training images, seeds 0 and 1, mean ± std; 4.6 min of
CPU): float32 3.00 ± 0.10%; SR ⟨8,8⟩ 3.17 ± 0.04, ⟨6,10⟩ 3.11 ± 0.05, ⟨2,14⟩ 3.31 ± 0.12; RN
86.1 ± 2.5 (100% of updates lost), 4.91 ± 0.19 (97%), 3.33 ± 0.10 (43%). CNN (10,000 images, 3
epochs): float32 6.96 ± 0.71, SR ⟨8,8⟩ 6.12 ± 0.00, ⟨2,14⟩ 5.60 ± 0.27, RN 88.1 ± 0.6, 5.59 ± 0.23.
So SR tracks float32 at every FL (FL = 14: +0.31 points, within the 0.5 targeted) and RN
degrades as FL *shrinks*, not as it grows (the issue's wording is the other way round).
"""
from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from minicompress import nn
from minicompress.quant import FixedPoint, QuantizedOptimizer, Quantizer, quantize_model
from minicompress.report import Report
from minicompress.reproductions.experiment import command_line, save_figure
from minicompress.train import fit

ROUNDING_NAMES = {"nearest": "RN", "stochastic": "SR"}


@dataclass(frozen=True)
class Config:
    """Defaults: the paper's MNIST setting at reduced width and length (see Deviations)."""

    n_train: int = 60_000
    n_test: int = 10_000
    hidden: tuple = (256, 256)  # paper: (1000, 1000)
    word_bits: int = 16  # paper: WL = 16
    frac_bits: tuple = (8, 10, 14)  # paper: FL ∈ {8, 10, 14}
    roundings: tuple = ("nearest", "stochastic")
    batch_size: int = 100  # paper: minibatches of 100
    lr: float = 0.1  # per mean gradient; applied as lr/batch to the summed loss
    epochs: int = 5
    seeds: int = 2
    cnn: bool = True  # also the LeNet-style CNN (smaller budget)
    cnn_channels: tuple = (8, 16, 100)  # conv 5×5 → pool → conv 5×5 → pool → fc
    cnn_n_train: int = 10_000
    cnn_epochs: int = 3
    cnn_frac_bits: tuple = (8, 14)

    @classmethod
    def quick(cls) -> "Config":
        """4,000 images, a narrower MLP, a larger step (few steps to learn in), no CNN."""
        return cls(n_train=4_000, n_test=1_000, hidden=(128, 128), lr=0.3, epochs=5, seeds=1,
                   cnn=False)


def mlp(hidden, rng) -> nn.Sequential:
    """784-hidden…-10, ReLU, on (n, 1, 28, 28) images."""
    sizes, layers = (784, *hidden, 10), [nn.Flatten()]
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers += [nn.Linear(a, b, rng=rng)] + ([nn.ReLU()] if i < len(hidden) else [])
    return nn.Sequential(*layers)


def lenet(channels, rng) -> nn.Sequential:
    """LeNet-style: conv 5×5 (c1) → ReLU → pool 2 → conv 5×5 (c2) → ReLU → pool 2 → fc → 10."""
    c1, c2, h = channels
    return nn.Sequential(nn.Conv2d(1, c1, 5, rng=rng), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(c1, c2, 5, rng=rng), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                         nn.Linear(16 * c2, h, rng=rng), nn.ReLU(), nn.Linear(h, 10, rng=rng))


def limited_precision(model, fmt: FixedPoint | None, rounding: str, lr: float, rng):
    """Gupta et al.'s training setup: every value in ``fmt`` with ``rounding`` (float32 if None).

    Returns (model to train, optimizer, quantizers by kind). Weights, activations, errors and
    the input each get their own Quantizer (same format and rounding, one random stream).
    """
    if fmt is None:  # float32; the wrapper only counts updates lost to float32 rounding
        return model, QuantizedOptimizer(nn.SGD(model.parameters(), lr=lr)), {}
    kinds = {k: Quantizer(fmt, rounding, rng) for k in ("activations", "errors", "inputs")}
    quantized = quantize_model(model, **kinds, placement="outputs", dtype=np.float64)
    weights = Quantizer(fmt, rounding, rng, count=False)  # the optimizer counts lost updates
    return quantized, QuantizedOptimizer(nn.SGD(quantized.parameters(), lr=lr), weights), kinds


def train_run(arch: str, frac_bits, rounding, cfg: Config, seed: int, data, say) -> dict:
    """One training run; the record of its test error and counters per epoch."""
    (x, y), test = data
    if arch == "cnn":
        x, y = x[:cfg.cnn_n_train], y[:cfg.cnn_n_train]
    init, order, draws = (np.random.default_rng([seed, k]) for k in range(3))  # paired across formats
    model = lenet(cfg.cnn_channels, init) if arch == "cnn" else mlp(cfg.hidden, init)
    fmt = None if frac_bits is None else FixedPoint(cfg.word_bits, frac_bits)
    model, optimizer, kinds = limited_precision(model, fmt, rounding, cfg.lr / cfg.batch_size, draws)
    label = "float32" if fmt is None else f"{ROUNDING_NAMES[rounding]} {fmt.label}"
    steps = -(-len(x) // cfg.batch_size)
    start, errors = time.perf_counter(), []

    def on_epoch(record):
        errors.append(100 * (1 - record["val_accuracy"]))
        lost = 100 * optimizer.lost_fraction(len(optimizer.lost) - steps)
        say(f"{arch} {label} seed {seed} epoch {record['epoch']}/{record['epochs']}: test error "
            f"{errors[-1]:.2f}%, updates lost {lost:.1f}% ({time.perf_counter() - start:.0f} s)")

    epochs = cfg.cnn_epochs if arch == "cnn" else cfg.epochs
    fit(model, nn.SoftmaxCrossEntropy("sum"), optimizer, x, y, epochs=epochs,
        batch_size=cfg.batch_size, rng=order, validation=test, verbose=False, on_epoch=on_epoch)
    lost = [100 * optimizer.lost_fraction(e * steps, (e + 1) * steps) for e in range(epochs)]
    return dict(arch=arch, label=label, frac_bits=frac_bits, rounding=rounding, seed=seed,
                errors=errors, lost=lost, lost_all=100 * optimizer.lost_fraction(),
                **{f"{k}_{c}": 100 * q.fraction(c) for k, q in kinds.items()
                   for c in ("saturated", "zeroed")})


def settings(cfg: Config, arch: str) -> list:
    """(frac_bits, rounding): float32 first, then every FL × rounding."""
    fls = cfg.cnn_frac_bits if arch == "cnn" else cfg.frac_bits
    return [(None, None)] + [(fl, r) for fl in fls for r in cfg.roundings]


def reproduce(*, quick: bool = False, seed: int = 0, data: str | None = None, out_dir=None,
              data_dir=None, verify: bool = True, config: Config | None = None,
              verbose: bool = True) -> Report:
    """Train every setting over ``config.seeds`` seeds; print the table, write the figure.

    ``data``: "synth_digits" (default), "mnist", "fashion_mnist" or "mnist_test_split"
    (from ``data_dir``; ``verify=False`` reads local copies whatever their checksum).
    """
    from minicompress.datasets import load_train_test  # matplotlib and scipy load here, not at import
    cfg = config or (Config.quick() if quick else Config())
    data = data or "synth_digits"
    out_dir = Path(out_dir or Path("out") / "gupta")
    say = (lambda text: print(f"[gupta] {text}", file=sys.stderr, flush=True)) if verbose else (lambda text: None)
    say(f"loading {data}")
    train, test = load_train_test(data, n_train=cfg.n_train, n_test=cfg.n_test, data_dir=data_dir,
                                  verify=verify)
    runs = []
    for arch in ("mlp", "cnn") if cfg.cnn else ("mlp",):
        for s in range(seed, seed + cfg.seeds):
            for frac_bits, rounding in settings(cfg, arch):
                runs.append(train_run(arch, frac_bits, rounding, cfg, s, (train, test), say))
    report = summarize(runs, cfg, data)
    report.figures.append(figure(runs, out_dir / "gupta_test_error.png"))
    print(report.table())
    return report


def summarize(runs: list[dict], cfg: Config, data: str) -> Report:
    rows = []
    for arch in dict.fromkeys(r["arch"] for r in runs):
        for label in dict.fromkeys(r["label"] for r in runs if r["arch"] == arch):
            group = [r for r in runs if r["arch"] == arch and r["label"] == label]
            final = np.array([r["errors"][-1] for r in group])
            row = dict(model=arch, format=label, test_error=final.mean(), std=final.std(),
                       min=final.min(), max=final.max(),
                       lost_updates=np.mean([r["lost_all"] for r in group]))
            if label != "float32":
                row.update(act_saturated=np.mean([r["activations_saturated"] for r in group]),
                           errors_zeroed=np.mean([r["errors_zeroed"] for r in group]))
            rows.append(row)
    title = (f"Gupta et al. 2015: 16-bit fixed point, test error % on {data} (mean, std, min, max "
             f"over {cfg.seeds} seed(s)); lost_updates = % of nonzero-gradient weights left "
             f"unchanged; act_saturated = % of activations clipped at the range ends; "
             f"errors_zeroed = % of nonzero back-propagated errors rounded to 0")
    return Report(title, rows, notes=claims(rows, cfg))


def claims(rows: list[dict], cfg: Config) -> list[str]:
    """The paper's claims, checked on the means over seeds (the issue's wording included)."""
    verdict = lambda ok: "holds" if ok else "does NOT hold"
    notes = []
    for arch in dict.fromkeys(r["model"] for r in rows):
        err = {r["format"]: r["test_error"] for r in rows if r["model"] == arch}
        by = {r["format"]: r for r in rows if r["model"] == arch}
        fls = sorted(cfg.cnn_frac_bits if arch == "cnn" else cfg.frac_bits)
        name = lambda kind, fl: f"{kind} <{cfg.word_bits - fl},{fl}>"
        sr = {fl: err[name("SR", fl)] - err["float32"] for fl in fls}
        rn = {fl: err[name("RN", fl)] for fl in fls}
        lost = {fl: by[name("RN", fl)]["lost_updates"] for fl in fls}
        pairs = list(zip(fls, fls[1:]))
        top, low = fls[-1], fls[0]
        notes += [
            f"{arch}: SR tracks float32 at every FL (test error at most 0.5 points above): "
            f"{verdict(all(d <= 0.5 for d in sr.values()))} (SR - float32 = "
            + ", ".join(f"FL={fl}: {d:+.2f}" for fl, d in sr.items()) + f"; float32 {err['float32']:.2f}%)",
            f"{arch}: SR at FL={top} within 0.5 points of float32 (the issue's target; being "
            f"better counts as within): {verdict(sr[top] <= 0.5)} ({sr[top]:+.2f}; activations saturated at IL="
            f"{cfg.word_bits - top}: {by[name('SR', top)]['act_saturated']:.2f}%)",
            f"{arch}: RN loses more updates as FL shrinks (eps/2 = 2^-(FL+1) grows): "
            f"{verdict(all(lost[a] >= lost[b] for a, b in pairs))} ("
            + ", ".join(f"FL={fl}: {lost[fl]:.1f}% lost, error {rn[fl]:.2f}%" for fl in fls) + ")",
            f"{arch}: RN is worst, and furthest behind SR, at the smallest FL={low}: "
            f"{verdict(all(rn[low] >= v for v in rn.values()) and rn[low] - err[name('SR', low)] >= max(rn[fl] - err[name('SR', fl)] for fl in fls))} "
            f"(RN - SR = " + ", ".join(f"FL={fl}: {rn[fl] - err[name('SR', fl)]:+.2f}" for fl in fls) + ")",
        ]
        if len(fls) > 1:
            notes.append(f"{arch}: RN degrades as FL grows (the issue's wording): "
                         f"{verdict(all(rn[a] <= rn[b] for a, b in pairs))}")
    return notes


def figure(runs: list[dict], path: Path) -> Path:
    from matplotlib.figure import Figure
    from matplotlib.ticker import FuncFormatter, LogLocator, MaxNLocator
    plain = FuncFormatter(lambda v, _: f"{v:g}")
    archs = list(dict.fromkeys(r["arch"] for r in runs))
    fig = Figure(figsize=(5.5 * len(archs), 7), layout="constrained")
    axes = fig.subplots(2, len(archs), squeeze=False)
    fls = sorted({r["frac_bits"] for r in runs if r["frac_bits"] is not None})
    colours = {fl: f"C{i}" for i, fl in enumerate(fls)}
    for col, arch in enumerate(archs):
        for label in dict.fromkeys(r["label"] for r in runs if r["arch"] == arch):
            group = [r for r in runs if r["arch"] == arch and r["label"] == label]
            first = group[0]
            style = dict(color="k" if first["frac_bits"] is None else colours[first["frac_bits"]],
                         ls="--" if first["rounding"] == "nearest" else "-", label=label)
            epochs = np.arange(1, len(first["errors"]) + 1)
            axes[0, col].plot(epochs, np.mean([r["errors"] for r in group], axis=0), marker="o", **style)
            if first["frac_bits"] is not None:
                axes[1, col].plot(epochs, np.mean([r["lost"] for r in group], axis=0), marker="o", **style)
        axes[0, col].set(yscale="log", xlabel="epoch", ylabel="test error (%)",
                         title=f"{arch.upper()}: WL = 16, RN dashed, SR solid")
        axes[0, col].yaxis.set_major_formatter(plain)
        axes[0, col].yaxis.set_minor_locator(LogLocator(subs=(2, 3, 5)))
        axes[0, col].yaxis.set_minor_formatter(plain)
        axes[1, col].set(xlabel="epoch", ylabel="updates lost to rounding (%)", ylim=(0, 101))
        for ax in axes[:, col]:
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        axes[0, col].legend(fontsize=7)
    return save_figure(fig, path)


if __name__ == "__main__":
    command_line(reproduce, __doc__)
