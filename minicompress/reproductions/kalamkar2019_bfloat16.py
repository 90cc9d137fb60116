"""bfloat16 training: float32's range in 16 bits, and the recipes that make it train like float32.

bfloat16: Google Brain's format for TPUs (1 sign, 8 exponent, 7 mantissa bits: the upper half of
a float32), described in "BFloat16: The secret to high performance on Cloud TPUs" (Google Cloud
blog, 2019) and studied by D. Kalamkar, D. Mudigere, N. Mellempudi et al., "A Study of BFLOAT16
for Deep Learning Training", arXiv:1905.12322 (2019).

The idea. bfloat16 keeps float32's 8 exponent bits, so gradients neither underflow nor overflow
where float32 would not and no loss scaling is needed, but it keeps only 8 bits of precision:
adjacent numbers near w are 2⁻⁷|w| to 2⁻⁸|w| apart. Kalamkar et al.'s recipe (the TPU's) rounds
the *inputs* of every matrix product to bfloat16, accumulates in float32 and keeps float32
master weights, and matches float32 with unchanged hyperparameters. Storing the weights
themselves in bfloat16 with round-to-nearest-even stalls once updates fall below half a spacing
(|η·g| < 2⁻⁹|w| or so), unless the updates are rounded stochastically.

Equations. bf16(x) by round-to-nearest-even on the float32 pattern u:
u ← u + 0x7FFF + ((u >> 16) & 1), then clear the low 16 bits (TensorFlow's conversion; NaN kept
quiet, overflow to ±inf). An update Δ to a stored weight w survives nearest rounding only if
|Δ| > spacing(w)/2; stochastic rounding keeps it in expectation, E[SR(w + Δ)] = w + Δ.

Recipes (all on a 784-256-256-10 ReLU MLP, SGD, mean cross-entropy, several learning rates):
  fp32; bf16 mixed (TPU: matmul inputs in bf16, float32 accumulation and master weights);
  bf16 weights with nearest-even updates; bf16 weights with stochastic updates; fp16 (IEEE half
  for matmul inputs and weights, no loss scaling); fp16 mixed (fp16 matmul inputs, float32
  master weights) to tell gradient underflow from update rounding.

Deviations. Kalamkar et al. train ImageNet CNNs, speech and translation models; a small MLP on
digits is what runs here. Optimizer state (none for plain SGD) and the softmax stay in float32;
subnormals are kept (IEEE; TPUs flush them). The pure 16-bit recipes round the weight updates
in 16 bits but compute the gradient itself with float32 accumulation.

Run: ``minicompress reproduce bfloat16 [--quick]`` or ``python -m minicompress.reproductions.kalamkar2019_bfloat16
[--quick] [--data mnist --data-dir DIR]``. Quick run (synthetic digits, 8,000 training and 1,000
test images, MLP 784-128-128-10, 4 epochs, lr 0.1 and 0.01, seed 0; about 6 s of CPU), measured
test error at lr 0.01: fp32 70.9%, bf16 mixed 70.9%, bf16 SR updates 70.0%, bf16 RNE updates
87.7% (97% of updates lost), fp16 73.4%, fp16 mixed 70.8%; at lr 0.1 all within 30.5–30.7%.
Full run (MNIST with the reconstructed training images, 4 epochs, seeds 0 and 1; 3.7 min of
CPU), test error % at lr 0.1 / 0.01 / 0.001: fp32 3.56 / 10.2 / 42.2; bf16 mixed 3.60 / 10.2 /
42.2; bf16 SR 3.57 / 10.1 / 41.9; bf16 RNE 3.77 / 33.2 / 88.9 (lost updates 56 / 97 / 99.8%);
fp16 3.56 / 10.4 / 84.7; fp16 mixed 3.56 / 10.2 / 42.2. Errors rounded to 0: fp16 up to 2.0%,
bf16 none, yet fp16 mixed matches fp32: here fp16 loses accuracy by rounding the updates, not
by gradient underflow (as PAPERS.md card 8f found).
"""
from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from minicompress import nn
from minicompress.quant import BFLOAT16, FLOAT16, QuantizedOptimizer, Quantizer, quantize_model
from minicompress.report import Report
from minicompress.reproductions.experiment import command_line, save_figure
from minicompress.train import fit

# name: (format of matmul inputs and of stored weights, weight rounding or None for fp32 master)
RECIPES = {
    "fp32": (None, None),
    "bf16 mixed (TPU)": (BFLOAT16, None),
    "bf16 weights, RNE updates": (BFLOAT16, "nearest_even"),
    "bf16 weights, SR updates": (BFLOAT16, "stochastic"),
    "fp16, no loss scaling": (FLOAT16, "nearest_even"),
    "fp16 mixed (fp32 master)": (FLOAT16, None),
}


@dataclass(frozen=True)
class Config:
    """Defaults: PAPERS.md card 8's reproduction plan, on MNIST-size data."""

    n_train: int = 60_000
    n_test: int = 10_000
    hidden: tuple = (256, 256)
    lrs: tuple = (0.1, 0.01, 0.001)  # SGD step sizes: updates shrink below half a spacing
    batch_size: int = 100
    epochs: int = 4
    seeds: int = 2
    recipes: tuple = tuple(RECIPES)

    @classmethod
    def quick(cls) -> "Config":
        """8,000 images, a narrower MLP, one seed, two learning rates."""
        return cls(n_train=8_000, n_test=1_000, hidden=(128, 128), lrs=(0.1, 0.01), epochs=4,
                   seeds=1)


def mlp(hidden, rng) -> nn.Sequential:
    """784-hidden…-10, ReLU, on (n, 1, 28, 28) images (float32)."""
    sizes, layers = (784, *hidden, 10), [nn.Flatten()]
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers += [nn.Linear(a, b, rng=rng)] + ([nn.ReLU()] if i < len(hidden) else [])
    return nn.Sequential(*layers)


def recipe_setup(model, recipe: str, lr: float, rng):
    """(model to train, optimizer, quantizers by kind) for one recipe of RECIPES."""
    fmt, weight_rounding = RECIPES[recipe]
    if fmt is None:
        return model, QuantizedOptimizer(nn.SGD(model.parameters(), lr=lr)), {}
    kinds = {k: Quantizer(fmt, "nearest_even", rng) for k in ("activations", "errors")}
    quantized = quantize_model(model, **kinds, placement="inputs")
    sgd = nn.SGD(quantized.parameters(), lr=lr)
    if weight_rounding is None:  # float32 master weights, 16-bit copies in the products
        optimizer = QuantizedOptimizer(sgd, compute=Quantizer(fmt, "nearest_even", rng, count=False))
    else:  # the weights themselves stored in 16 bits: w ← Q(w − η·g)
        optimizer = QuantizedOptimizer(sgd, Quantizer(fmt, weight_rounding, rng, count=False))
    return quantized, optimizer, kinds


def train_run(recipe: str, lr: float, cfg: Config, seed: int, data, say) -> dict:
    (x, y), test = data
    init, order, draws = (np.random.default_rng([seed, k]) for k in range(3))  # paired across recipes
    model, optimizer, kinds = recipe_setup(mlp(cfg.hidden, init), recipe, lr, draws)
    start, errors = time.perf_counter(), []

    def on_epoch(record):
        errors.append(100 * (1 - record["val_accuracy"]))
        say(f"{recipe}, lr {lr:g}, seed {seed}, epoch {record['epoch']}/{record['epochs']}: test "
            f"error {errors[-1]:.2f}% ({time.perf_counter() - start:.0f} s)")

    fit(model, nn.SoftmaxCrossEntropy(), optimizer, x, y, epochs=cfg.epochs,
        batch_size=cfg.batch_size, rng=order, validation=test, verbose=False, on_epoch=on_epoch)
    return dict(recipe=recipe, lr=lr, seed=seed, errors=errors, lost=100 * optimizer.lost_fraction(),
                errors_zeroed=100 * kinds["errors"].fraction("zeroed") if kinds else 0.0)


def reproduce(*, quick: bool = False, seed: int = 0, data: str | None = None, out_dir=None,
              data_dir=None, verify: bool = True, config: Config | None = None,
              verbose: bool = True) -> Report:
    """Train every recipe at every learning rate over ``config.seeds`` seeds; print the table,
    write the figure. ``data`` and ``data_dir``/``verify`` as in the Gupta reproduction."""
    from minicompress.datasets import load_train_test  # matplotlib and scipy load here, not at import
    cfg = config or (Config.quick() if quick else Config())
    data = data or "synth_digits"
    out_dir = Path(out_dir or Path("out") / "bfloat16")
    say = (lambda text: print(f"[bfloat16] {text}", file=sys.stderr, flush=True)) if verbose else (lambda text: None)
    say(f"loading {data}")
    sets = load_train_test(data, n_train=cfg.n_train, n_test=cfg.n_test, data_dir=data_dir,
                           verify=verify)
    runs = [train_run(recipe, lr, cfg, s, sets, say) for s in range(seed, seed + cfg.seeds)
            for lr in cfg.lrs for recipe in cfg.recipes]
    report = summarize(runs, cfg, data)
    report.figures.append(figure(report.rows, cfg, out_dir / "bfloat16_recipes.png"))
    print(report.table())
    return report


def summarize(runs: list[dict], cfg: Config, data: str) -> Report:
    rows = []
    for lr in cfg.lrs:
        for recipe in cfg.recipes:
            group = [r for r in runs if r["recipe"] == recipe and r["lr"] == lr]
            final = np.array([r["errors"][-1] for r in group])
            rows.append(dict(recipe=recipe, lr=lr, test_error=final.mean(), std=final.std(),
                             min=final.min(), max=final.max(),
                             lost_updates=np.mean([r["lost"] for r in group]),
                             errors_zeroed=np.mean([r["errors_zeroed"] for r in group])))
    title = (f"bfloat16 recipes: test error % on {data} after {cfg.epochs} epochs (mean, std, min, "
             f"max over {cfg.seeds} seed(s)); lost_updates = % of nonzero-gradient weights left "
             f"unchanged; errors_zeroed = % of nonzero back-propagated errors rounded to 0")
    return Report(title, rows, notes=claims(rows, cfg))


def claims(rows: list[dict], cfg: Config) -> list[str]:
    """The claims of the issue and PAPERS.md card 8, with the numbers behind each verdict."""
    at = {(r["recipe"], r["lr"]): r for r in rows}
    verdict = lambda ok: "holds" if ok else "does NOT hold"
    gap = lambda recipe, lr: at[recipe, lr]["test_error"] - at["fp32", lr]["test_error"]
    listing = lambda recipe, key=None: ", ".join(
        f"lr {lr:g}: " + (f"{gap(recipe, lr):+.2f}" if key is None else f"{at[recipe, lr][key]:.1f}")
        for lr in cfg.lrs)
    notes = []
    for recipe in ("bf16 mixed (TPU)", "bf16 weights, SR updates"):
        if recipe in cfg.recipes:
            notes.append(f"{recipe} matches fp32 (test error at most 0.5 points above) at every lr: "
                         f"{verdict(all(gap(recipe, lr) <= 0.5 for lr in cfg.lrs))} (minus fp32: "
                         f"{listing(recipe)})")
    rne, small = "bf16 weights, RNE updates", min(cfg.lrs)
    if rne in cfg.recipes:
        lost = [at[rne, lr]["lost_updates"] for lr in sorted(cfg.lrs, reverse=True)]
        notes.append(f"{rne} stalls as updates fall below half a spacing: lost updates grow as lr "
                     f"shrinks and exceed 90% at lr {small:g}, where it trails fp32 by > 2 points: "
                     f"{verdict(lost == sorted(lost) and lost[-1] > 90 and gap(rne, small) > 2)} "
                     f"(lost %: {listing(rne, 'lost_updates')}; minus fp32: {listing(rne)})")
    fp16, bf16 = "fp16 mixed (fp32 master)", "bf16 mixed (TPU)"
    if fp16 in cfg.recipes and bf16 in cfg.recipes:
        zeroed = lambda recipe: max(at[recipe, lr]["errors_zeroed"] for lr in cfg.lrs)
        notes.append(f"fp16 loses small gradients that bf16 keeps (back-propagated errors rounded "
                     f"to 0: fp16 > bf16): {verdict(zeroed(fp16) > zeroed(bf16))} (worst over lr: "
                     f"fp16 {zeroed(fp16):.3f}%, bf16 {zeroed(bf16):.3f}%); fp16 mixed minus fp32: "
                     f"{listing(fp16)}, so accuracy {'is' if any(gap(fp16, lr) > 0.5 for lr in cfg.lrs) else 'is not'} hurt")
    if "fp16, no loss scaling" in cfg.recipes:
        notes.append(f"fp16 with 16-bit weights minus fp32: {listing('fp16, no loss scaling')}; "
                     f"lost updates %: {listing('fp16, no loss scaling', 'lost_updates')} "
                     f"(update rounding, as for bf16 RNE)")
    return notes


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
        axes[0].errorbar(lrs, [r["test_error"] for r in mine], yerr=[r["std"] for r in mine],
                         capsize=3, **style)
        axes[1].plot(lrs, [r["lost_updates"] for r in mine], **style)
        axes[2].plot(lrs, [max(r["errors_zeroed"], 1e-4) for r in mine], **style)
    axes[0].set(xscale="log", yscale="log", xlabel="learning rate", ylabel="test error (%)",
                title=f"after {cfg.epochs} epochs (mean ± std over seeds)")
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
