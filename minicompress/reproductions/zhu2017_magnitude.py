"""Magnitude pruning as the libraries ship it: PyTorch's ``torch.nn.utils.prune`` and TensorFlow
Model Optimization's ``prune_low_magnitude`` with Zhu & Gupta's gradual schedule.

References: M. Zhu, S. Gupta, "To prune, or not to prune: exploring the efficacy of pruning for
model compression", arXiv:1710.01878 (2017); TF-MOT ``PolynomialDecay``/``ConstantSparsity``;
PyTorch ``l1_unstructured``, ``global_unstructured``, ``ln_structured``; the reporting follows
Blalock et al., "What is the state of neural network pruning?", MLSys 2020 (ShrinkBench).

The idea: a weight's importance is its magnitude |w|. Delete the smallest (per layer, or with one
threshold across layers), then fine-tune the rest with the deleted weights held at zero. Pruning
gradually while training, on a schedule that removes much early and little late, lets the network
adapt as it loses capacity, and a large sparse network beats a small dense one of equal size.

Equations. Layer-wise: mask_l = [|w| ranks above the round(s·n_l) smallest of layer l]. Global:
one ranking over all layers. Zhu & Gupta's schedule (their Eq. 1, TF-MOT ``PolynomialDecay``):
s_t = s_f + (s_i − s_f)(1 − (t − t₀)/(nΔt))³, masks recomputed every Δt steps. Compression ratio
= weights / nonzero weights; theoretical speedup = dense MACs / nonzero MACs (ShrinkBench).

The experiments, on LeNet-300-100 (784-300-100-10, ReLU, softmax cross-entropy, SGD):
  1. layer-wise vs global magnitude vs random pruning at compression 2, 4, 8, 16, 32, one shot,
     with and without fine-tuning (same budget for every method);
  2. gradual (cubic schedule, layer-wise as TF-MOT) vs one-shot + fine-tuning at 90% sparsity,
     with the same training budget after the dense phase;
  3. large-sparse (that 90% model) vs small-dense (an MLP with as many weights, trained as long);
  4. structured: 75% of the hidden units pruned by L2 norm and fine-tuned, then surgery; the
     masked and the shrunk model timed on the same batch in the same run.

Deviations: synthetic digits by default (offline), not MNIST; compression is counted over the
weights (biases, 0.15% of the parameters, are never pruned; the structured rows count all
parameters, masked model / shrunk model); TF-MOT keeps weights tied with its threshold, we delete
exact counts (ties by flat index); plain SGD with momentum, no learning-rate decay, no dropout;
Zhu & Gupta's own networks (InceptionV3, MobileNet, LSTMs) are out of reach.

Run: ``python -m minicompress.reproductions.zhu2017_magnitude [--quick] [--seed 0] [--data mnist --data-dir DIR]``
(or ``minicompress reproduce magnitude``).

Expected quick run (10,000 synthetic training digits, 2,000 test, one seed, seed 0; about 10 s on
2 idle cores; accuracies are deterministic for the seed, timings are not): dense 92.4%; at 32x,
global magnitude 70.0% -> 88.0% after fine-tuning, layer-wise 34.4% -> 74.9%, random 10.0% ->
17.2%; at 90% sparsity gradual 92.1%, one-shot + fine-tuning 92.2%, dense trained as long 93.7%,
small dense with as many weights 87.7%; surgery 4.37x fewer MACs, measured about 3.3x faster.

Measured full run (60,000 synthetic training digits, 10,000 test, seeds 0, 1, 2; mean ± std):
dense 97.8 ± 0.1% (98.0 ± 0.05% trained as long as the pruned models); at 32x global magnitude
60.9 ± 4.4% -> 94.9 ± 0.1% fine-tuned, layer-wise 33.7 ± 1.3% -> 88.4 ± 0.8%, random 10.0% ->
35.4 ± 2.3%; at 90% sparsity gradual 97.4 ± 0.2%, one-shot + fine-tuning 97.3 ± 0.1%, small dense
(784-33-11-10) 93.4 ± 0.5%; structured 75% + surgery: outputs equal to 1e-5 (float32), 4.37x fewer
MACs, measured 4.9x faster than the masked model (batch 1,000; the masked model also pays for
the data·mask product). Claims: global >= random and fine-tuning recovers: hold; large-sparse >>
small-dense: holds (+4 points); gradual >= one-shot: a tie (+0.1 point, 2 of 3 seeds); "90%
sparse within 0.5 points of dense": NOT reproduced here, 0.61 ± 0.21 points below the dense model
trained as long (0.4 below the 15-epoch dense model), within 0.5 in 2 of 3 seeds.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from minicompress import metrics, nn, pruning
from minicompress.models import lenet_300_100
from minicompress.report import Report
from minicompress.reproductions.experiment import command_line, save_figure, say
from minicompress.rng import as_rng
from minicompress.train import evaluate, fit

METHODS = ("layer", "global", "random")


@dataclass(frozen=True)
class Config:
    """Defaults: LeNet-300-100 as in Han et al. 2015 / Frankle & Carbin 2019, trained briefly."""

    n_train: int = 60_000  # training images (first n of the split for real data)
    n_test: int = 10_000
    hidden: tuple = (300, 100)  # LeNet-300-100
    epochs: int = 15  # dense training
    finetune_epochs: int = 2  # budget after each one-shot pruning in the sweep
    schedule_epochs: int = 6  # budget after dense training for gradual vs one-shot at 90%
    batch_size: int = 128
    lr: float = 0.05  # SGD, momentum 0.9, for dense training
    finetune_lr: float = 0.01  # fine-tuning and gradual pruning
    compressions: tuple = (2, 4, 8, 16, 32)  # weights / nonzero weights
    target_sparsity: float = 0.9  # gradual vs one-shot
    schedule_frequency: int = 50  # steps between mask updates (TF-MOT's default is 100)
    structured_fraction: float = 0.75  # of each hidden layer's units
    seeds: int = 3  # headline numbers are mean ± std over this many seeds
    latency_batch: int = 1000
    latency_repeats: int = 30

    @classmethod
    def quick(cls) -> "Config":
        return cls(n_train=10_000, n_test=2_000, epochs=10, finetune_epochs=2, schedule_epochs=4,
                   seeds=1, latency_repeats=15)


def small_dense_hidden(nonzero_weights: int, ratio: float = 3.0) -> tuple[int, int]:
    """Hidden sizes (h, h/ratio) of an MLP 784-h-h/ratio-10 with about ``nonzero_weights`` weights:
    the largest h with 784·h + h·(h/ratio) + 10·(h/ratio) ≤ nonzero_weights."""
    h = 1
    while _mlp_weights(h + 1, ratio) <= nonzero_weights:
        h += 1
    return h, max(round(h / ratio), 1)


def _mlp_weights(h: int, ratio: float) -> int:
    h2 = max(round(h / ratio), 1)
    return 784 * h + h * h2 + h2 * 10


def prune_weights(model: nn.Module, method: str, sparsity: float, rng=None) -> None:
    """One-shot pruning of the weights to ``sparsity``: per layer ("layer", PyTorch's
    ``l1_unstructured`` on each), one threshold ("global"), or at random per layer ("random")."""
    weights = pruning.weights(model)
    if method == "global":
        pruning.global_prune(weights, sparsity)
    for w in weights if method != "global" else []:
        if method == "layer":
            pruning.prune(w, sparsity)
        elif method == "random":
            pruning.random_unstructured(w, sparsity, rng=rng)
        else:
            raise ValueError(f"method: expected one of {METHODS}, got {method!r}")


def reproduce(*, quick: bool = False, seed: int = 0, data: str | None = None, out_dir=None,
              data_dir=None, verify: bool = True, config: Config | None = None,
              verbose: bool = True) -> Report:
    """Run the four experiments over ``config.seeds`` seeds; print the table, write the figure.

    ``data``: "synth_digits" (default) or "mnist"/"fashion_mnist" (from ``data_dir``; pass
    ``verify=False`` for local copies whose checksum differs, such as the reconstructed MNIST
    training set, and report the data as such).
    """
    cfg = config or (Config.quick() if quick else Config())
    data = data or "synth_digits"
    out_dir = Path(out_dir or Path("out") / "magnitude")
    out_dir.mkdir(parents=True, exist_ok=True)
    train_set, test_set = _load(data, cfg, data_dir, verify)
    runs = []
    for s in range(seed, seed + cfg.seeds):
        say("magnitude", verbose, f"== seed {s} ({s - seed + 1} of {cfg.seeds}) ==")
        runs.append(_one_seed(cfg, s, train_set, test_set, verbose))
    report = _summarize(runs, cfg, data)
    if data != "synth_digits" and not verify:
        report.notes.append(f"{data} files were read without checksum verification (verify=False): "
                            f"report them as local copies (e.g. MNIST with reconstructed training images)")
    report.figures.append(_figure(runs, cfg, out_dir / "magnitude_accuracy_vs_compression.png"))
    print(report.table())
    return report


def _one_seed(cfg: Config, seed: int, train_set, test_set, verbose: bool) -> dict:
    rng = np.random.default_rng(seed)
    loss = nn.SoftmaxCrossEntropy()
    test = lambda m: evaluate(m, loss, *test_set)["accuracy"]

    def train(model, epochs, lr, on_step=None):
        opt = nn.SGD(model.parameters(), lr=lr, momentum=0.9)
        fit(model, loss, opt, *train_set, epochs=epochs, batch_size=cfg.batch_size, rng=rng,
            verbose=verbose, on_step=on_step)
        return model

    def copy_of(model):
        new = lenet_300_100(rng=0, hidden=cfg.hidden)
        new.load_state_dict(model.state_dict())
        return new

    say("magnitude", verbose, "dense training")
    dense = train(lenet_300_100(rng=rng, hidden=cfg.hidden), cfg.epochs, cfg.lr)
    out = dict(dense=test(dense), sweep={}, curve=[])
    for method in METHODS:  # experiment 1
        for c in cfg.compressions:
            say("magnitude", verbose, f"one-shot {method} magnitude pruning at {c}x, then fine-tuning")
            model = copy_of(dense)
            prune_weights(model, method, 1 - 1 / c, rng=rng)
            before = test(model)
            out["sweep"][method, c] = before, test(train(model, cfg.finetune_epochs, cfg.finetune_lr))
    say("magnitude", verbose, "dense, trained on for the same budget (the fair reference)")  # exp. 2
    out["dense_longer"] = test(train(copy_of(dense), cfg.schedule_epochs, cfg.finetune_lr))
    say("magnitude", verbose, f"one-shot {cfg.target_sparsity:.0%} + fine-tuning vs gradual pruning")
    one_shot = copy_of(dense)
    prune_weights(one_shot, "layer", cfg.target_sparsity)
    out["one_shot"] = test(train(one_shot, cfg.schedule_epochs, cfg.finetune_lr))
    gradual, steps = copy_of(dense), cfg.schedule_epochs * -(-len(train_set[1]) // cfg.batch_size)
    end = (2 * steps // 3) // cfg.schedule_frequency * cfg.schedule_frequency  # on the update grid,
    # or the last update would fall short of the final sparsity (as in TF-MOT)
    schedule = pruning.PolynomialDecay(0.0, cfg.target_sparsity, begin_step=0, end_step=end,
                                       frequency=cfg.schedule_frequency)
    pruner = pruning.ScheduledPruner(pruning.weights(gradual), schedule)
    out["gradual"] = test(train(gradual, cfg.schedule_epochs, cfg.finetune_lr, on_step=pruner))
    out["schedule"], out["curve"] = schedule, [(0, 0.0), *((r["step"], r["sparsity"]) for r in
                                                          pruner.history), (steps, pruner.sparsity())]
    nonzero = metrics.count_nonzero(pruning.weights(gradual))  # experiment 3
    out["small_hidden"] = small_dense_hidden(nonzero)
    say("magnitude", verbose, f"small dense {out['small_hidden']} with {nonzero} weights, trained as long")
    small = train(lenet_300_100(rng=rng, hidden=out["small_hidden"]), cfg.epochs + cfg.schedule_epochs, cfg.lr)
    out["small_dense"] = test(small)
    out["small_weights"] = metrics.count_params(pruning.weights(small))
    out["large_sparse_weights"] = nonzero
    out["structured"] = _structured(cfg, copy_of(dense), train, test, test_set[0], verbose)  # exp. 4
    return out


def _structured(cfg, model, train, test, x_test, verbose) -> dict:
    say("magnitude", verbose, f"structured: {cfg.structured_fraction:.0%} of the hidden units, then surgery")
    for layer in model.layers[1:-1]:
        if isinstance(layer, nn.Linear):
            pruning.ln_structured(layer.weight, cfg.structured_fraction, n=2, dim=0)
    train(model, cfg.finetune_epochs, cfg.finetune_lr)
    small, _ = pruning.shrink(model)
    x = x_test[:cfg.latency_batch]
    masked_flops, small_flops = metrics.flops(model, (1, 28, 28)), metrics.flops(small, (1, 28, 28))
    masked_s = metrics.latency(model, x, repeats=cfg.latency_repeats)
    small_s = metrics.latency(small, x, repeats=cfg.latency_repeats)
    return dict(accuracy=test(model), shrunk_accuracy=test(small),
                max_output_difference=float(np.abs(model(x) - small(x)).max()),
                params=metrics.count_params(model), shrunk_params=metrics.count_params(small),
                flops_ratio=masked_flops["dense"] / small_flops["dense"],
                masked_ms=1e3 * masked_s, shrunk_ms=1e3 * small_s, speedup=masked_s / small_s)


def _summarize(runs: list[dict], cfg: Config, data: str) -> Report:
    mean = lambda xs: float(np.mean(xs))
    spread = lambda xs: float(np.std(xs))  # population std over seeds (0 for one seed)
    pct = lambda key: [100 * r[key] for r in runs]
    rows = [dict(experiment="dense", method="LeNet-300-100", compression=1.0,
                 accuracy=mean(pct("dense")), std=spread(pct("dense")))]
    for method in METHODS:
        for c in cfg.compressions:
            before = [100 * r["sweep"][method, c][0] for r in runs]
            after = [100 * r["sweep"][method, c][1] for r in runs]
            rows.append(dict(experiment="one-shot", method=method, compression=float(c),
                             accuracy=mean(before), std=spread(before),
                             finetuned=mean(after), finetuned_std=spread(after)))
    ratio = 1 / (1 - cfg.target_sparsity)
    for name, key, c in (("dense, trained as long", "dense_longer", 1.0),
                         ("gradual (cubic)", "gradual", ratio), ("one-shot + fine-tune", "one_shot", ratio),
                         ("small dense", "small_dense", ratio)):
        rows.append(dict(experiment=f"{cfg.target_sparsity:.0%} sparse", method=name,
                         compression=c, accuracy=mean(pct(key)), std=spread(pct(key))))
    st = {k: np.array([r["structured"][k] for r in runs]) for k in runs[0]["structured"]}
    c = mean(st["params"] / st["shrunk_params"])  # parameters, masked model / shrunk model
    rows.append(dict(experiment="structured", method="masked", compression=c, accuracy=mean(100 * st["accuracy"]),
                     std=spread(100 * st["accuracy"]), ms=mean(st["masked_ms"])))
    rows.append(dict(experiment="structured", method="after surgery", compression=c,
                     accuracy=mean(100 * st["shrunk_accuracy"]), std=spread(100 * st["shrunk_accuracy"]),
                     ms=mean(st["shrunk_ms"]), speedup=mean(st["speedup"]), flops_ratio=mean(st["flops_ratio"])))
    return Report(f"Magnitude pruning, LeNet-300-100 on {data} ({len(runs)} seed(s); accuracy % on the "
                  f"test set, mean and std over seeds)", rows, notes=_claims(runs, cfg))


def _claims(runs: list[dict], cfg: Config) -> list[str]:
    """Each claim, whether it held in every seed, and the numbers."""
    def verdict(ok):
        return "holds" if all(ok) else f"does NOT hold in {sum(not o for o in ok)} of {len(ok)} seeds"
    hi = max(cfg.compressions)
    gap = {k: [100 * (r["dense_longer"] - r[k]) for r in runs] for k in ("gradual", "one_shot")}
    st = [r["structured"] for r in runs]
    return [
        "global magnitude >= random at every compression, fine-tuned or not: " + verdict(
            [r["sweep"]["global", c][i] >= r["sweep"]["random", c][i] for r in runs
             for c in cfg.compressions for i in (0, 1)]),
        f"fine-tuning recovers accuracy (global, {hi}x): " + verdict(
            [r["sweep"]["global", hi][1] > r["sweep"]["global", hi][0] for r in runs]),
        "gradual >= one-shot + fine-tuning at the same sparsity and budget: " + verdict(
            [r["gradual"] >= r["one_shot"] for r in runs]),
        f"{cfg.target_sparsity:.0%} sparse (gradual) within 0.5 points of dense trained as long: "
        + verdict([g <= 0.5 for g in gap["gradual"]])
        + f" (dense - gradual = {np.mean(gap['gradual']):.2f} ± {np.std(gap['gradual']):.2f} points, "
          f"dense - one-shot = {np.mean(gap['one_shot']):.2f} ± {np.std(gap['one_shot']):.2f})",
        "large-sparse >= small-dense at equal nonzero weights: " + verdict(
            [r["gradual"] >= r["small_dense"] for r in runs])
        + f" (small dense {runs[0]['small_hidden']}: {runs[0]['small_weights']} weights vs "
          f"{runs[0]['large_sparse_weights']} nonzero)",
        "surgery keeps the outputs (max |difference| "
        f"{max(s['max_output_difference'] for s in st):.1e}) and runs faster than the masked model: "
        + verdict([s["speedup"] > 1 for s in st])
        + f" (measured {np.mean([s['speedup'] for s in st]):.2f}x vs FLOPs ratio "
          f"{np.mean([s['flops_ratio'] for s in st]):.2f}x, batch {cfg.latency_batch})",
    ]


def _figure(runs: list[dict], cfg: Config, path: Path) -> Path:
    from matplotlib.figure import Figure
    fig = Figure(figsize=(10, 4), layout="constrained")
    ax, ax2 = fig.subplots(1, 2)
    cs = np.array(cfg.compressions, float)
    for method, colour in zip(METHODS, ("C0", "C1", "C2")):
        for i, (style, label) in enumerate((("--", "one-shot"), ("-", "+ fine-tuning"))):
            acc = np.array([[100 * r["sweep"][method, c][i] for c in cfg.compressions] for r in runs])
            ax.errorbar(cs, acc.mean(0), yerr=acc.std(0), fmt=style + "o", color=colour,
                        label=f"{method} {label}", capsize=3, markersize=4)
    ax.axhline(100 * np.mean([r["dense"] for r in runs]), color="k", lw=0.8, label="dense")
    ax.set(xscale="log", xlabel="compression ratio (weights / nonzero weights)",
           ylabel="test accuracy (%)", title="LeNet-300-100, magnitude vs random")
    ax.minorticks_off()
    ax.set_xticks(cs, [f"{c:g}x" for c in cs])
    ax.legend(fontsize=7)
    steps, sparsity = zip(*runs[0]["curve"])
    ax2.step(steps, 100 * np.array(sparsity), where="post", label="masks (updated every "
             f"{cfg.schedule_frequency} steps)")
    t = np.arange(steps[-1] + 1)
    ax2.plot(t, [100 * runs[0]["schedule"].sparsity(k) for k in t], "--", label="s(t), Eq. 1")
    ax2.legend(fontsize=7)
    ax2.set(xlabel="training step after dense phase", ylabel="sparsity (%)",
            title="Zhu & Gupta cubic schedule (realized)")
    return save_figure(fig, path)


def _load(data: str, cfg: Config, data_dir, verify: bool):
    """(x, y) for training and testing; the data are the same for every seed (data seed 0)."""
    from minicompress.datasets import load  # imported here: matplotlib/scipy for synth_digits
    where = dict(data_dir=data_dir, verify=verify)
    return load(data, "train", n=cfg.n_train, **where), load(data, "test", n=cfg.n_test, **where)


if __name__ == "__main__":
    command_line(reproduce, __doc__)
