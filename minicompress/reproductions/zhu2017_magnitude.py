"""Reproduction: magnitude pruning as the libraries ship it (Zhu & Gupta 2017, TF-MOT, PyTorch),
on LeNet-300-100 (Han et al. 2015's network).

The method is in :mod:`minicompress.papers.zhu2017_magnitude`. The experiments, on LeNet-300-100
(784-300-100-10, ReLU, softmax cross-entropy, SGD with momentum 0.9):
  1. layer-wise vs global magnitude vs random pruning at compression 2, 4, 8, 16, 32, one shot,
     with and without fine-tuning (same budget for every method);
  2. gradual (cubic schedule, layer-wise as TF-MOT) vs one-shot + fine-tuning at 90% sparsity,
     with the same training budget after the dense phase, and the dense model trained as long;
  3. large-sparse (that gradual model) vs small-dense (an MLP with as many weights, trained as long);
  4. structured: 75% of the hidden units pruned by L2 norm and fine-tuned, then surgery; the
     masked and the shrunk model timed on the same batch in the same run.

Deviations: synthetic digits by default (offline), not MNIST; compression is counted over the
weights (biases, 0.15% of the parameters, are never pruned; the structured rows count all
parameters, masked model / shrunk model); TF-MOT keeps weights tied with its threshold and
recomputes its masks from every weight's magnitude, our masks delete exact counts and only gain
zeros (see the method file); plain SGD with momentum, no learning-rate decay, no dropout; Zhu &
Gupta's own networks (InceptionV3, MobileNet, LSTMs) are out of reach.

Run: ``minicompress reproduce magnitude [--quick] [--seeds 0-2] [--data mnist_test_split
--data-dir DIR]`` or ``python -m minicompress.reproductions.zhu2017_magnitude --quick``.
Numbers: the Report of a run, and the full run in ``minicompress/results/mnist.json``.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from minicompress import metrics, nn, pruning
from minicompress.models import lenet_300_100
from minicompress.papers.zhu2017_magnitude import METHODS, gradual_pruner, gradual_schedule, prune_weights
from minicompress.report import Claim, Report
from minicompress.reproductions.experiment import command_line, load_data, save_figure, say
from minicompress.train import evaluate, fit


@dataclass(frozen=True)
class Config:
    """Defaults: LeNet-300-100 as in Han et al. 2015 / Frankle & Carbin 2019, trained briefly."""

    n_train: int = 60_000  # training images (first n of the split for real data)
    n_test: int = 10_000
    hidden: tuple = (300, 100)  # LeNet-300-100
    epochs: int = 15  # dense training
    finetune_epochs: int = 2  # budget after each one-shot pruning in the sweep
    schedule_epochs: int = 6  # budget after dense training for gradual vs one-shot
    batch_size: int = 128
    lr: float = 0.05  # SGD, momentum 0.9, for dense training
    finetune_lr: float = 0.01  # fine-tuning and gradual pruning
    compressions: tuple = (2, 4, 8, 16, 32)  # weights / nonzero weights
    target_sparsity: float = 0.9  # gradual vs one-shot
    schedule_frequency: int = 50  # steps between mask updates, Δt (TF-MOT's default is 100)
    structured_fraction: float = 0.75  # of each hidden layer's units
    latency_batch: int = 1000
    latency_repeats: int = 30

    @classmethod
    def quick(cls) -> "Config":
        return cls(n_train=10_000, n_test=2_000, epochs=10, finetune_epochs=2, schedule_epochs=4,
                   latency_repeats=15)


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


def reproduce(*, quick: bool = False, seed: int = 0, data: str | None = None, out_dir=None,
              data_dir=None, verify: bool = True, config: Config | None = None,
              verbose: bool = True) -> Report:
    """The four experiments for one seed; the table, the figure and the claims.

    ``data``: any dataset name :func:`~minicompress.reproductions.experiment.load_data` knows
    ("synth_digits" by default; "mnist_test_split" or "mnist" with ``data_dir``; ``verify=False``
    for local copies whose checksum differs, such as MNIST with reconstructed training images).
    """
    cfg = config or (Config.quick() if quick else Config())
    data, out_dir, train_set, test_set = load_data("magnitude", cfg, data, out_dir, data_dir, verify)
    say("magnitude", verbose, f"seed {seed}, {data}: {len(train_set[1])} training, {len(test_set[1])} test images")
    run = _one_seed(cfg, seed, train_set, test_set, verbose)
    rows = _rows(run, cfg)
    notes = [f"{data}: {len(train_set[1])} training and {len(test_set[1])} test images; seed {seed}"]
    if not verify:
        notes.append(f"{data} files were read without checksum verification (verify=False): report "
                     f"them as local copies (e.g. MNIST with reconstructed training images)")
    report = Report(f"Magnitude pruning, LeNet-300-100 on {data} (seed {seed}; accuracy % on the test set)",
                    rows, notes=notes, claims=claims(rows, cfg), data=data)
    report.figures.append(_figure(run, cfg, out_dir / "magnitude_accuracy_vs_compression.png"))
    if verbose:
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
    schedule = gradual_schedule(cfg.target_sparsity, begin_step=0, frequency=cfg.schedule_frequency,
                                n_updates=(2 * steps // 3) // cfg.schedule_frequency)
    pruner = gradual_pruner(gradual, schedule)
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


# ----- the table ----------------------------------------------------------------------------------
SPARSE = {"dense_longer": "dense, trained as long", "gradual": "gradual (cubic)",
          "one_shot": "one-shot + fine-tune", "small_dense": "small dense"}


def _rows(run: dict, cfg: Config) -> list[dict]:
    rows = [dict(experiment="dense", method="LeNet-300-100", compression=1.0, accuracy=100 * run["dense"])]
    for method in METHODS:
        for c in cfg.compressions:
            before, after = run["sweep"][method, c]
            rows.append(dict(experiment="one-shot", method=method, compression=float(c),
                             accuracy=100 * before, finetuned=100 * after))
    ratio, sparse = 1 / (1 - cfg.target_sparsity), f"{cfg.target_sparsity:.0%} sparse"
    for key, name in SPARSE.items():
        rows.append(dict(experiment=sparse, method=name, compression=1.0 if key == "dense_longer" else ratio,
                         accuracy=100 * run[key]))
    rows[-1].update(weights=run["small_weights"], hidden=str(run["small_hidden"]))
    rows[-3].update(weights=run["large_sparse_weights"])  # the gradual model's nonzero weights
    st = run["structured"]
    c = st["params"] / st["shrunk_params"]  # parameters, masked model / shrunk model
    rows.append(dict(experiment="structured", method="masked", compression=c, accuracy=100 * st["accuracy"],
                     ms=st["masked_ms"]))
    rows.append(dict(experiment="structured", method="after surgery", compression=c,
                     accuracy=100 * st["shrunk_accuracy"], ms=st["shrunk_ms"], speedup=st["speedup"],
                     flops_ratio=st["flops_ratio"], max_output_difference=st["max_output_difference"]))
    return rows


# ----- the claims: pure functions of the rows -----------------------------------------------------
def _at(rows, experiment, method, compression=None) -> dict:
    for r in rows:
        if r["experiment"] == experiment and r["method"] == method and \
                (compression is None or r["compression"] == compression):
            return r
    raise KeyError(f"no row ({experiment!r}, {method!r}, {compression!r})")


def _finite(*values) -> bool:
    return all(isinstance(v, (int, float, np.number)) and np.isfinite(v) for v in values)


def claims(rows: list[dict], cfg: Config) -> list[Claim]:
    """Every claim of this reproduction, decided on the rows of one seed."""
    return [global_beats_random(rows, cfg), finetuning_recovers(rows, cfg),
            gradual_beats_one_shot(rows, cfg), sparse_within_dense(rows, cfg),
            large_sparse_beats_small_dense(rows, cfg), surgery_is_faster(rows, cfg)]


def global_beats_random(rows, cfg) -> Claim:
    pairs = [(_at(rows, "one-shot", "global", float(c)), _at(rows, "one-shot", "random", float(c)))
             for c in cfg.compressions]
    ok = [_finite(g[k], r[k]) and g[k] >= r[k] for g, r in pairs for k in ("accuracy", "finetuned")]
    worst = min(((g[k] - r[k], c) for (g, r), c in zip(pairs, cfg.compressions)
                 for k in ("accuracy", "finetuned")), key=lambda t: t[0] if np.isfinite(t[0]) else -np.inf)
    return Claim("magnitude.lenet.global_beats_random",
                 "global magnitude pruning is at least as accurate as random pruning at every "
                 "compression, before and after fine-tuning", False, all(ok),
                 f"{sum(ok)} of {len(ok)} comparisons; smallest margin {worst[0]:+.2f} points at {worst[1]}x",
                 "Blalock et al. 2020: magnitude is a strong baseline, random the floor")


def finetuning_recovers(rows, cfg) -> Claim:
    hi = max(cfg.compressions)
    r = _at(rows, "one-shot", "global", float(hi))
    return Claim("magnitude.lenet.finetuning_recovers",
                 f"fine-tuning recovers accuracy after one-shot global pruning at {hi}x", False,
                 _finite(r["accuracy"], r["finetuned"]) and r["finetuned"] > r["accuracy"],
                 f"{r['accuracy']:.2f}% -> {r['finetuned']:.2f}%",
                 "Han et al. 2015: retraining after pruning is what keeps the accuracy")


def gradual_beats_one_shot(rows, cfg) -> Claim:
    sparse = f"{cfg.target_sparsity:.0%} sparse"
    g, o = (_at(rows, sparse, SPARSE[k])["accuracy"] for k in ("gradual", "one_shot"))
    return Claim("magnitude.lenet.gradual_beats_one_shot",
                 f"gradual (cubic) pruning to {cfg.target_sparsity:.0%} is at least as accurate as "
                 f"one-shot pruning + fine-tuning with the same training budget", True,
                 _finite(g, o) and g >= o, f"gradual {g:.2f}%, one-shot {o:.2f}% ({g - o:+.2f} points)",
                 "Zhu & Gupta 2017, Sec. 3: gradual pruning with continued training")


def sparse_within_dense(rows, cfg, points: float = 0.5) -> Claim:
    sparse = f"{cfg.target_sparsity:.0%} sparse"
    d, g = (_at(rows, sparse, SPARSE[k])["accuracy"] for k in ("dense_longer", "gradual"))
    return Claim("magnitude.lenet.sparse_within_dense",
                 f"{cfg.target_sparsity:.0%} sparse (gradual) within {points} points of the dense model "
                 f"trained as long", True, _finite(d, g) and d - g <= points,
                 f"dense {d:.2f}%, gradual {g:.2f}% (dense - gradual {d - g:+.2f} points)",
                 "Han et al. 2015, Table 1: LeNet-300-100 pruned 12x, error 1.64% -> 1.59%")


def large_sparse_beats_small_dense(rows, cfg) -> Claim:
    sparse = f"{cfg.target_sparsity:.0%} sparse"
    g, s = _at(rows, sparse, SPARSE["gradual"]), _at(rows, sparse, SPARSE["small_dense"])
    return Claim("magnitude.lenet.large_sparse_beats_small_dense",
                 "the large sparse model is at least as accurate as a small dense model with as many "
                 "weights, trained as long", True,
                 _finite(g["accuracy"], s["accuracy"]) and g["accuracy"] >= s["accuracy"],
                 f"sparse {g['accuracy']:.2f}% ({g.get('weights', '?')} nonzero weights), small dense "
                 f"{s.get('hidden', '')} {s['accuracy']:.2f}% ({s.get('weights', '?')} weights)",
                 "Zhu & Gupta 2017, Sec. 4: large-sparse beats small-dense at equal nonzeros")


def surgery_is_faster(rows, cfg) -> Claim:
    r = _at(rows, "structured", "after surgery")
    speed, diff = r["speedup"], r["max_output_difference"]
    return Claim("magnitude.lenet.surgery_is_faster",
                 "after surgery the structured-pruned model keeps its outputs (max difference < 1e-4) "
                 "and runs faster than the masked model", False,
                 _finite(speed, diff) and speed > 1 and diff < 1e-4,
                 f"measured {speed:.2f}x faster (FLOPs ratio {r['flops_ratio']:.2f}x, batch "
                 f"{cfg.latency_batch}); max |difference| {diff:.1e}",
                 "a mask alone saves no time (Blalock et al. 2020: report measured speedups)")


def _figure(run: dict, cfg: Config, path: Path) -> Path:
    from matplotlib.figure import Figure
    fig = Figure(figsize=(10, 4), layout="constrained")
    ax, ax2 = fig.subplots(1, 2)
    cs = np.array(cfg.compressions, float)
    for method, colour in zip(METHODS, ("C0", "C1", "C2")):
        for i, (style, label) in enumerate((("--", "one-shot"), ("-", "+ fine-tuning"))):
            acc = [100 * run["sweep"][method, c][i] for c in cfg.compressions]
            ax.plot(cs, acc, style + "o", color=colour, label=f"{method} {label}", markersize=4)
    ax.axhline(100 * run["dense"], color="k", lw=0.8, label="dense")
    ax.set(xscale="log", xlabel="compression ratio (weights / nonzero weights)",
           ylabel="test accuracy (%)", title="LeNet-300-100, magnitude vs random")
    ax.minorticks_off()
    ax.set_xticks(cs, [f"{c:g}x" for c in cs])
    ax.legend(fontsize=7)
    steps, sparsity = zip(*run["curve"])
    ax2.step(steps, 100 * np.array(sparsity), where="post",
             label=f"masks (updated every {cfg.schedule_frequency} steps)")
    t = np.arange(steps[-1] + 1)
    ax2.plot(t, [100 * run["schedule"].sparsity(k) for k in t], "--", label="s(t), Eq. 1")
    ax2.legend(fontsize=7)
    ax2.set(xlabel="training step after dense phase", ylabel="sparsity (%)",
            title="Zhu & Gupta cubic schedule (realized)")
    return save_figure(fig, path)


if __name__ == "__main__":
    command_line(reproduce, __doc__)
