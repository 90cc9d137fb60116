"""Reproduction: magnitude pruning as the libraries ship it (Zhu & Gupta 2017, TF-MOT, PyTorch) on
LeNet-300-100, held against Han et al. 2015, Table 1 (12×, test error 1.64% → 1.59%).

The method is in :mod:`minicompress.papers.zhu2017_magnitude`. LeNet-300-100 (ReLU, softmax
cross-entropy, SGD with momentum 0.9) trains dense for ``dense_epochs``; from that model every
variant trains on for ``prune_epochs`` at the same rate, divided by 10 for the last
``decay_epochs`` (prune while the rate is high, then let it decay: Zhu & Gupta, Sec. 3):
dense (the reference of equal budget); one-shot (pruned at once, then trained on); gradual (Eq. 1
from the phase's first step, n updates Δt apart, ending at ``prune_fraction`` of it), both to Han
et al.'s per-layer rates for 12× (Table 2: 92%, 91%, 74% of fc1, fc2, fc3; 91.8% overall); a
small dense MLP with as many weights as the 12× model, trained for the whole budget. Also a
sweep (layer-wise, global, random; one shot from the final dense model at 2…32×, before and
after ``finetune_epochs`` at lr/10) and a structured run (75% of the hidden units by L2 norm,
fine-tuned, then surgery; both models timed on one batch in one run;
:mod:`.zhu2017_magnitude_structured`).

Quick dense baseline (seeds 0–9): 93.75–94.45% on synthetic digits, 95.55–96.1% on
mnist_test_split (10,000 and 8,000 training images).

Deviations: synthetic digits by default (offline); compression counts weights (biases are never
pruned); TF-MOT keeps ties with its threshold and recomputes its masks from every weight's
magnitude, ours delete exact counts and only gain zeros (see the method file); no dropout, no
weight decay; Han et al. prune by a per-layer threshold (quality × the layer's std) and retrain
iteratively, here their per-layer rates are reached by Eq. 1 or in one shot.

Quick-run exception: "12× within 0.3 points of dense" held in 2 of 10 seeds on synthetic digits
and 1 of 10 on mnist_test_split (dense − 12× from +0.05 to +1.30 points, mean 0.57 and 0.64). The
threshold is below a quick run's resolution (two nets on the same 2,000 test images differ by a
standard error of about 0.47 points), and eight epochs after pruning leave the 12× net about half
a point short; six left it a point short. The paper's threshold is kept; the full run (MNIST,
10,000 test images) decides. The other headline claims held in 10 of 10 seeds on both.

Run: ``minicompress reproduce magnitude [--quick] [--seeds 0-2] [--data mnist_test_split
--data-dir DIR]``. Numbers: the Report of a run; the full run in ``minicompress/results/mnist.json``.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from minicompress import metrics, nn, pruning
from minicompress.models import lenet_300_100, small_dense_hidden
from minicompress.papers.zhu2017_magnitude import METHODS, GradualPruning, prune_weights
from minicompress.report import Claim, Report
from minicompress.reproductions.experiment import command_line, figure, finite, load_data, save_figure, say
from minicompress.reproductions.zhu2017_magnitude_structured import structured, surgery_is_faster
from minicompress.train import evaluate, fit

HAN_RATES = (0.92, 0.91, 0.74)  # Han et al. 2015, Table 2: fc1, fc2, fc3 of LeNet-300-100 (12×)


@dataclass(frozen=True)
class Config:
    """Defaults: LeNet-300-100 on MNIST-size data (Han et al. 2015's network and ratio)."""

    n_train: int = 60_000
    n_test: int = 10_000
    hidden: tuple = (300, 100)
    batch_size: int = 128
    lr: float = 0.05  # SGD, momentum 0.9
    dense_epochs: int = 10  # before pruning
    prune_epochs: int = 10  # every variant, after the dense phase
    decay_epochs: int = 3  # the last ones of the phase at lr/10
    prune_fraction: float = 0.5  # gradual pruning ends at this fraction of the phase
    frequency: int = 100  # Δt, steps between mask updates (TF-MOT's default)
    rates: tuple = HAN_RATES
    compressions: tuple = (2, 4, 8, 16, 32)  # the sweep: weights / nonzero weights
    finetune_epochs: int = 2  # the sweep and the structured model, at lr/10
    structured_fraction: float = 0.75  # of each hidden layer's units
    latency_batch: int = 1000
    latency_repeats: int = 30

    @classmethod
    def quick(cls) -> "Config":
        return cls(n_train=10_000, n_test=2_000, dense_epochs=4, prune_epochs=8, decay_epochs=2,
                   frequency=25, compressions=(2, 8, 32), finetune_epochs=1, latency_repeats=10)


def reproduce(*, quick: bool = False, seed: int = 0, data: str | None = None, out_dir=None,
              data_dir=None, verify: bool = True, config: Config | None = None,
              verbose: bool = True) -> Report:
    """The experiments for one seed; the table, the figure and the claims. ``data``: any name
    :func:`~minicompress.reproductions.experiment.load_data` knows (``verify=False`` for local
    copies whose checksum differs, such as MNIST with reconstructed training images)."""
    cfg = config or (Config.quick() if quick else Config())
    data, out_dir, train_set, test_set = load_data("magnitude", cfg, data, out_dir, data_dir, verify)
    rows, schedule = _experiments(cfg, seed, train_set, test_set, verbose)
    notes = [f"{data}: {len(train_set[1])} training and {len(test_set[1])} test images; seed {seed}; "
             f"{cfg.dense_epochs} dense epochs, then {cfg.prune_epochs} for every variant (the last "
             f"{cfg.decay_epochs} at lr/10); mask updates every {cfg.frequency} steps"]
    if not verify:
        notes.append(f"{data} files were read without checksum verification (e.g. MNIST with "
                     f"reconstructed training images)")
    report = Report(f"Magnitude pruning, LeNet-300-100 on {data} (seed {seed}; test accuracy %)",
                    rows, notes=notes, claims=claims(rows, cfg), data=data)
    report.figures.append(_figure(rows, schedule, cfg, out_dir / "magnitude_accuracy_vs_compression.png"))
    if verbose:
        print(report.table())
    return report


def _experiments(cfg: Config, seed: int, train_set, test_set, verbose: bool) -> tuple[list, GradualPruning]:
    """The rows of the table, and the 12x gradual schedule (for the figure)."""
    rng, loss = np.random.default_rng(seed), nn.SoftmaxCrossEntropy()
    test = lambda m: 100 * evaluate(m, loss, *test_set)["accuracy"]
    steps = cfg.prune_epochs * -(-len(train_set[1]) // cfg.batch_size)

    def train(model, epochs, lr, decay=0, on_step=None):
        opt = nn.SGD(model.parameters(), lr=lr, momentum=0.9)
        on_epoch = (lambda r: setattr(opt, "lr", lr / 10) if r["epoch"] == epochs - decay else None)
        fit(model, loss, opt, *train_set, epochs=epochs, batch_size=cfg.batch_size, rng=rng,
            verbose=verbose, on_step=on_step, on_epoch=on_epoch if decay else None)
        return model

    def copy_of(model):
        new = lenet_300_100(rng=0, hidden=cfg.hidden)
        new.load_state_dict(model.state_dict())
        return new

    def phase(model, on_step=None):  # every variant after the dense phase: same budget and rates
        return test(train(model, cfg.prune_epochs, cfg.lr, cfg.decay_epochs, on_step))

    say("magnitude", verbose, f"dense training, {cfg.dense_epochs} epochs, then trained on (the reference)")
    start = train(lenet_300_100(rng=rng, hidden=cfg.hidden), cfg.dense_epochs, cfg.lr)
    dense = copy_of(start)
    rows = [dict(experiment="schedule", method="dense", compression=1.0, accuracy=phase(dense))]
    say("magnitude", verbose, "12x: one-shot, then gradual pruning (Eq. 1)")
    one_shot, gradual = copy_of(start), copy_of(start)
    prune_weights(one_shot, "layer", cfg.rates)
    schedule = GradualPruning(gradual, cfg.rates, begin_step=0, frequency=cfg.frequency,
                              n_updates=max(int(cfg.prune_fraction * steps) // cfg.frequency, 1))
    accuracy = dict(one_shot=phase(one_shot), gradual=phase(gradual, schedule))
    nonzero = metrics.count_nonzero(pruning.weights(gradual))
    rows += [dict(experiment="schedule", method=m, compression=1 / (1 - schedule.sparsity()), accuracy=a,
                  weights=nonzero) for m, a in accuracy.items()]
    hidden = small_dense_hidden(nonzero)
    say("magnitude", verbose, f"small dense {hidden}, trained for the whole budget")
    small = train(lenet_300_100(rng=rng, hidden=hidden), cfg.dense_epochs + cfg.prune_epochs, cfg.lr,
                  cfg.decay_epochs)
    rows.append(dict(experiment="schedule", method="small dense", compression=rows[2]["compression"],
                     accuracy=test(small), weights=metrics.count_params(pruning.weights(small)),
                     hidden=str(hidden)))
    for method in METHODS:
        for c in cfg.compressions:
            say("magnitude", verbose, f"sweep: one-shot {method} at {c}x, then fine-tuning at lr/10")
            model = copy_of(dense)
            prune_weights(model, method, 1 - 1 / c, rng=rng)
            before = test(model)
            rows.append(dict(experiment="sweep", method=method, compression=float(c), accuracy=before,
                             finetuned=test(train(model, cfg.finetune_epochs, cfg.lr / 10))))
    return rows + structured(cfg, copy_of(dense), train, test, test_set[0], verbose), schedule


# ----- the claims: pure functions of the rows -----------------------------------------------------
def _at(rows, experiment: str, method: str, compression=None) -> dict:
    return next(r for r in rows if r["experiment"] == experiment and r["method"] == method
                and compression in (None, r["compression"]))


def claims(rows: list[dict], cfg: Config) -> list[Claim]:
    """Every claim of this reproduction, decided on the rows of one seed."""
    return [gradual_beats_one_shot(rows), sparse_within_dense(rows), large_sparse_beats_small_dense(rows),
            global_beats_random(rows, cfg), finetuning_recovers(rows, cfg), surgery_is_faster(rows, cfg)]


def gradual_beats_one_shot(rows) -> Claim:
    g, o = (_at(rows, "schedule", m)["accuracy"] for m in ("gradual", "one_shot"))
    return Claim("magnitude.lenet.gradual_beats_one_shot",
                 "gradual pruning (Eq. 1) to 12x is at least as accurate as one-shot pruning to 12x with "
                 "the same training budget", True, finite(g, o) and g >= o,
                 f"gradual {g:.2f}%, one-shot {o:.2f}% ({g - o:+.2f} points)",
                 "Zhu & Gupta 2017, Sec. 3: prune gradually while training goes on")


def sparse_within_dense(rows, points: float = 0.3) -> Claim:
    d, g = _at(rows, "schedule", "dense")["accuracy"], _at(rows, "schedule", "gradual")
    gap = d - g["accuracy"]
    return Claim("magnitude.lenet.12x_within_dense",
                 f"LeNet-300-100 pruned 12x (Han et al.'s per-layer rates, gradual) ends within {points} "
                 f"points of the dense model's test error, same budget", True, finite(gap) and gap <= points,
                 f"dense {d:.2f}%, 12x {g['accuracy']:.2f}% ({g['compression']:.1f}x): {gap:+.2f} points",
                 "Han et al. 2015, Table 1: 12x, error 1.64% -> 1.59%")


def large_sparse_beats_small_dense(rows) -> Claim:
    g, s = _at(rows, "schedule", "gradual"), _at(rows, "schedule", "small dense")
    return Claim("magnitude.lenet.large_sparse_beats_small_dense",
                 "the 12x sparse model is at least as accurate as a small dense model with as many "
                 "weights, trained for the same budget", True,
                 finite(g["accuracy"], s["accuracy"]) and g["accuracy"] >= s["accuracy"],
                 f"sparse {g['accuracy']:.2f}% ({g['weights']} nonzero weights), small dense {s['hidden']} "
                 f"{s['accuracy']:.2f}% ({s['weights']} weights)",
                 "Zhu & Gupta 2017, Sec. 4: large-sparse beats small-dense at equal nonzeros")


def global_beats_random(rows, cfg) -> Claim:
    gaps = [(_at(rows, "sweep", "global", float(c))[k] - _at(rows, "sweep", "random", float(c))[k], c)
            for c in cfg.compressions for k in ("accuracy", "finetuned")]
    ok = [finite(g) and g >= 0 for g, _ in gaps]
    worst = min(gaps, key=lambda t: t[0] if finite(t[0]) else -np.inf)
    return Claim("magnitude.lenet.global_beats_random",
                 "global magnitude pruning is at least as accurate as random pruning at every "
                 "compression, before and after fine-tuning", False, all(ok),
                 f"{sum(ok)} of {len(ok)} comparisons; smallest margin {worst[0]:+.2f} points at {worst[1]}x",
                 "Blalock et al. 2020: magnitude is a strong baseline, random the floor")


def finetuning_recovers(rows, cfg) -> Claim:
    hi = max(cfg.compressions)
    r = _at(rows, "sweep", "global", float(hi))
    return Claim("magnitude.lenet.finetuning_recovers",
                 f"fine-tuning recovers accuracy after one-shot global pruning at {hi}x", False,
                 finite(r["accuracy"], r["finetuned"]) and r["finetuned"] > r["accuracy"],
                 f"{r['accuracy']:.2f}% -> {r['finetuned']:.2f}%",
                 "Han et al. 2015: retraining after pruning is what keeps the accuracy")


def _figure(rows: list[dict], schedule: GradualPruning, cfg: Config, path: Path) -> Path:
    fig = figure(10, 4)
    ax, ax2 = fig.subplots(1, 2)
    cs = np.array(cfg.compressions, float)
    for method, colour in zip(METHODS, ("C0", "C1", "C2")):
        sweep = [_at(rows, "sweep", method, c) for c in cs]
        for key, style, label in (("accuracy", "--o", "one-shot"), ("finetuned", "-o", "+ fine-tuning")):
            ax.plot(cs, [r[key] for r in sweep], style, color=colour, label=f"{method} {label}", markersize=4)
    ax.axhline(_at(rows, "schedule", "dense")["accuracy"], color="k", lw=0.8, label="dense")
    ax.set(xscale="log", xlabel="compression ratio (weights / nonzero weights)",
           ylabel="test accuracy (%)", title="LeNet-300-100, magnitude vs random")
    ax.minorticks_off()
    ax.set_xticks(cs, [f"{c:g}x" for c in cs])
    ax.legend(fontsize=7)
    steps = [0] + [r["step"] for r in schedule.history]
    ax2.step(steps, [0] + [100 * r["sparsity"] for r in schedule.history], where="post",
             label=f"masks (updated every {cfg.frequency} steps)")
    t = np.arange(steps[-1] + cfg.frequency + 1)
    ax2.plot(t, [100 * schedule.target(k) for k in t], "--", label="s(t), Eq. 1")
    ax2.legend(fontsize=7)
    ax2.set(xlabel="training step after the dense phase", ylabel="sparsity (%)",
            title="Zhu & Gupta's cubic schedule, 12x (Han et al.'s rates)")
    return save_figure(fig, path)


if __name__ == "__main__":
    command_line(reproduce, __doc__)
