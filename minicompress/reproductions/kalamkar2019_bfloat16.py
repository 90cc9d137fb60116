"""Reproduction: bfloat16 training recipes against float32 (Kalamkar et al. 2019), on digits.

The method is in :mod:`minicompress.papers.kalamkar2019_bfloat16`. Recipes (all on a
784-256-256-10 ReLU MLP, SGD, mean cross-entropy, several learning rates, the same
hyperparameters for every recipe): fp32; bf16 mixed (TPU: matmul inputs in bf16, float32
accumulation and master weights); bf16 weights with nearest-even updates; bf16 weights with
stochastic updates; fp16 (IEEE half for matmul inputs and weights, no loss scaling); fp16 mixed
(fp16 matmul inputs, float32 master weights), to tell gradient underflow from update rounding.

"Matches fp32" means within noise: at most two standard errors of the difference of two error
rates measured on the same number n of test images, 2·√(2p(1 − p)/n) with p fp32's error (1.5
to 2.5 points in a quick run on 2,000 images, about 0.5 on 10,000 at MNIST's 3%): Kalamkar et al.
report equal accuracy, and the reproduction cannot resolve less than its test set allows.

Deviations. Kalamkar et al. train ImageNet CNNs, speech and translation models; a small MLP on
digits is what runs here. Optimizer state (none for plain SGD) and the softmax stay in float32;
subnormals are kept (IEEE; TPUs flush them). The pure 16-bit recipes round the weight updates
in 16 bits but compute the gradient itself with float32 accumulation. Plain SGD with the last
epoch at lr/10 for every recipe.

The quick run's fp32 used to end at 30.6% test error (lr 0.1, constant); it now trains at lr 0.5
with the last epoch at lr/10 (about 13% on synthetic digits) and keeps lr 0.01 as the small rate
where pure-bf16 updates vanish; 2,000 test images instead of 1,000.

Run: ``minicompress reproduce bfloat16 [--quick] [--seeds 0-2] [--data mnist_test_split
--data-dir DIR]`` or ``python -m minicompress.reproductions.kalamkar2019_bfloat16 --quick``.
Numbers: the Report of a run, and the full run in ``minicompress/results/mnist.json``.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from minicompress import models, nn
from minicompress.papers.kalamkar2019_bfloat16 import RECIPES, recipe_setup
from minicompress.report import Claim, Report
from minicompress.reproductions.experiment import command_line, load_data, save_figure, say
from minicompress.train import fit


@dataclass(frozen=True)
class Config:
    """Defaults: MNIST-size data, the recipes at three learning rates."""

    n_train: int = 60_000
    n_test: int = 10_000
    hidden: tuple = (256, 256)
    lrs: tuple = (0.1, 0.01, 0.001)  # SGD step sizes: updates shrink below half a spacing
    batch_size: int = 100
    epochs: int = 4
    decay_epochs: int = 1  # the last ones at lr/10
    recipes: tuple = tuple(RECIPES)

    @classmethod
    def quick(cls) -> "Config":
        """8,000 images, a narrower MLP, two learning rates (fp32 trains at the first)."""
        return cls(n_train=8_000, n_test=2_000, hidden=(128, 128), lrs=(0.5, 0.01), epochs=4)


def train_run(recipe: str, lr: float, cfg: Config, seed: int, data, verbose: bool) -> dict:
    (x, y), test = data
    init, order, draws = (np.random.default_rng([seed, k]) for k in range(3))  # paired across recipes
    model, optimizer, kinds = recipe_setup(models.mlp((784, *cfg.hidden, 10), rng=init), recipe, lr, draws)
    start, errors = time.perf_counter(), []

    def on_epoch(record):
        if record["epoch"] == cfg.epochs - cfg.decay_epochs:
            optimizer.optimizer.lr = lr / 10
        errors.append(100 * (1 - record["val_accuracy"]))
        say("bfloat16", verbose, f"{recipe}, lr {lr:g}, seed {seed}, epoch {record['epoch']}/"
            f"{record['epochs']}: test error {errors[-1]:.2f}% ({time.perf_counter() - start:.0f} s)")

    fit(model, nn.SoftmaxCrossEntropy(), optimizer, x, y, epochs=cfg.epochs,
        batch_size=cfg.batch_size, rng=order, validation=test, verbose=False, on_epoch=on_epoch)
    return dict(recipe=recipe, lr=lr, seed=seed, errors=errors, lost=100 * optimizer.lost_fraction(),
                errors_zeroed=100 * kinds["errors"].fraction("zeroed") if kinds else 0.0)


def reproduce(*, quick: bool = False, seed: int = 0, data: str | None = None, out_dir=None,
              data_dir=None, verify: bool = True, config: Config | None = None,
              verbose: bool = True) -> Report:
    """Train every recipe at every learning rate for one seed; the table, the figure, the claims.

    ``data``: any dataset name :func:`~minicompress.reproductions.experiment.load_data` knows.
    """
    cfg = config or (Config.quick() if quick else Config())
    say("bfloat16", verbose, f"loading {data or 'synth_digits'}")
    data, out_dir, train, test = load_data("bfloat16", cfg, data, out_dir, data_dir, verify)
    runs = [train_run(recipe, lr, cfg, seed, (train, test), verbose) for lr in cfg.lrs
            for recipe in cfg.recipes]
    rows = [dict(recipe=r["recipe"], lr=r["lr"], test_error=r["errors"][-1], lost_updates=r["lost"],
                 errors_zeroed=r["errors_zeroed"]) for r in runs]
    title = (f"bfloat16 recipes: test error % on {data} after {cfg.epochs} epochs (seed {seed}); "
             f"lost_updates = % of nonzero-gradient weights left unchanged; errors_zeroed = % of "
             f"nonzero back-propagated errors rounded to 0")
    notes = [f"{data}: {len(train[1])} training and {len(test[1])} test images; MLP {cfg.hidden}, "
             f"SGD, batch {cfg.batch_size}, mean cross-entropy, the same hyperparameters for every recipe"]
    report = Report(title, rows, notes=notes, claims=claims(rows, cfg, len(test[1])), data=data)
    report.figures.append(figure(rows, cfg, Path(out_dir) / "bfloat16_recipes.png"))
    if verbose:
        print(report.table())
    return report


# ----- the claims: pure functions of the rows -----------------------------------------------------
MIXED, PURE_SR, PURE_RNE = "bf16 mixed (TPU)", "bf16 weights, SR updates", "bf16 weights, RNE updates"
FP16, FP16_MIXED = "fp16, no loss scaling", "fp16 mixed (fp32 master)"


def _finite(*values) -> bool:
    return all(isinstance(v, (int, float, np.number)) and np.isfinite(v) for v in values)


def _gap(at, recipe, lr) -> float:
    return at[recipe, lr]["test_error"] - at["fp32", lr]["test_error"]


def _listing(at, recipe, lrs, key=None) -> str:
    return ", ".join(f"lr {lr:g}: " + (f"{_gap(at, recipe, lr):+.2f}" if key is None else
                                      f"{at[recipe, lr][key]:.1f}") for lr in lrs)


def noise_points(error: float, n: int) -> float:
    """Two standard errors, in points, of the difference of two error rates near ``error`` (%)
    measured on ``n`` test images each: 2·100·√(2p(1 − p)/n). What "within noise" means here."""
    p = error / 100
    return 200 * float(np.sqrt(2 * p * (1 - p) / n)) if _finite(p) and 0 <= p <= 1 and n > 0 else float("nan")


def claims(rows: list[dict], cfg: Config, n_test: int) -> list[Claim]:
    """The claims whose recipes were run; "within noise" on ``n_test`` test images."""
    at, have = {(r["recipe"], r["lr"]): r for r in rows}, set(cfg.recipes)
    out = [matches_fp32(at, recipe, cfg.lrs, n_test) for recipe in (MIXED, PURE_SR, FP16_MIXED)
           if {recipe, "fp32"} <= have]
    if {PURE_RNE, "fp32"} <= have:
        out.append(rne_stalls(at, cfg.lrs))
    if {FP16_MIXED, MIXED} <= have:
        out.append(fp16_loses_small_errors(at, cfg.lrs))
    return out


def matches_fp32(at: dict, recipe: str, lrs, n_test: int) -> Claim:
    gaps = [_gap(at, recipe, lr) for lr in lrs]
    noise = [noise_points(at["fp32", lr]["test_error"], n_test) for lr in lrs]
    key = {MIXED: "mixed", PURE_SR: "sr_updates", FP16_MIXED: "fp16_mixed"}[recipe]
    paper = {MIXED: "Kalamkar et al. 2019, abstract: bf16 matches fp32 with no hyperparameter changes",
             PURE_SR: "stochastic rounding keeps the updates in expectation (Gupta et al. 2015)",
             FP16_MIXED: "fp16's losses here come from rounding the weights, not from underflow"}[recipe]
    return Claim(f"bfloat16.mlp.{key}_matches_fp32",
                 f"{recipe} trains like fp32 with the same hyperparameters: test error within noise "
                 f"(2 standard errors of a difference on {n_test} test images) at every learning rate",
                 recipe != FP16_MIXED, _finite(*gaps, *noise) and all(g <= m for g, m in zip(gaps, noise)),
                 "minus fp32: " + ", ".join(f"lr {lr:g}: {g:+.2f} (noise {m:.2f})"
                                            for lr, g, m in zip(lrs, gaps, noise)),
                 paper)


def rne_stalls(at: dict, lrs) -> Claim:
    """Pure bf16 weights with nearest-even updates: lost updates grow as lr shrinks, > 90% and
    more than 2 points behind fp32 at the smallest lr."""
    small, order = min(lrs), sorted(lrs, reverse=True)
    lost = [at[PURE_RNE, lr]["lost_updates"] for lr in order]
    gap = _gap(at, PURE_RNE, small)
    ok = _finite(*lost, gap) and lost == sorted(lost) and lost[-1] > 90 and gap > 2
    return Claim("bfloat16.mlp.rne_weights_stall",
                 f"{PURE_RNE} stall as updates fall below half a spacing: lost updates grow as lr "
                 f"shrinks and exceed 90% at lr {small:g}, where it trails fp32 by > 2 points", True, ok,
                 f"lost %: {_listing(at, PURE_RNE, order, 'lost_updates')}; minus fp32: "
                 f"{_listing(at, PURE_RNE, order)}",
                 "Kalamkar et al. 2019: float32 master weights are part of the recipe")


def fp16_loses_small_errors(at: dict, lrs) -> Claim:
    zeroed = {r: max(at[r, lr]["errors_zeroed"] for lr in lrs) for r in (FP16_MIXED, MIXED)}
    gaps = [_gap(at, FP16_MIXED, lr) for lr in lrs]
    return Claim("bfloat16.mlp.fp16_underflows_bf16_does_not",
                 "fp16 rounds some back-propagated errors to 0 where bf16 (float32's exponent range) "
                 "rounds none", True, _finite(*zeroed.values()) and zeroed[FP16_MIXED] > zeroed[MIXED] == 0,
                 f"worst over lr: fp16 {zeroed[FP16_MIXED]:.3f}%, bf16 {zeroed[MIXED]:.3f}%; fp16 mixed "
                 f"minus fp32: {_listing(at, FP16_MIXED, lrs)}",
                 "Kalamkar et al. 2019: bf16's range needs no loss scaling (fp16's does)")


def figure(rows: list[dict], cfg: Config, path: Path) -> Path:
    from matplotlib.figure import Figure
    from matplotlib.ticker import FuncFormatter, LogLocator
    plain = FuncFormatter(lambda v, _: f"{v:g}")
    fig = Figure(figsize=(15, 4.2), layout="constrained")
    axes = fig.subplots(1, 3)
    for i, recipe in enumerate(cfg.recipes):
        mine = [r for r in rows if r["recipe"] == recipe]
        lrs = [r["lr"] for r in mine]
        style = dict(marker="o", color=f"C{i}", label=recipe, ls="--" if "fp16" in recipe else "-")
        axes[0].plot(lrs, [r["test_error"] for r in mine], **style)
        axes[1].plot(lrs, [r["lost_updates"] for r in mine], **style)
        axes[2].plot(lrs, [max(r["errors_zeroed"], 1e-4) for r in mine], **style)
    axes[0].set(xscale="log", yscale="log", xlabel="learning rate", ylabel="test error (%)",
                title=f"after {cfg.epochs} epochs")
    axes[1].set(xscale="log", xlabel="learning rate", ylabel="updates lost to rounding (%)",
                title="nonzero-gradient weights left unchanged")
    axes[2].set(xscale="log", yscale="log", xlabel="learning rate",
                ylabel="errors rounded to 0 (%, floor 1e-4)", title="underflow of back-propagated errors")
    axes[0].yaxis.set_major_formatter(plain)
    axes[0].yaxis.set_minor_locator(LogLocator(subs=(2, 3, 5)))
    axes[0].yaxis.set_minor_formatter(plain)
    axes[0].legend(fontsize=7)
    return save_figure(fig, path)


if __name__ == "__main__":
    command_line(reproduce, __doc__)
