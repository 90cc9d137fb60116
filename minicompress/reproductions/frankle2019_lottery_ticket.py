"""Reproduction: the lottery ticket hypothesis (Frankle & Carbin 2019) on LeNet-300-100, with
rewinding (Frankle et al. 2020) and the random re-initialization control.

The method is in :mod:`minicompress.papers.frankle2019_lottery_ticket`. For one seed:
  1. the dense LeNet-300-100 from θ₀, trained with Adam (lr 1.2·10⁻³, batches of 60), test
     accuracy and validation loss every ``eval_every`` iterations; θ_k is stored at iteration k;
  2. IMP with reset to θ₀: each round prunes 20% of each layer's remaining weights by magnitude
     (the output layer 10%), resets the survivors to θ₀ and retrains: the *tickets*;
  3. rewinding: the ticket's mask with the values of θ_k (the dense run at iteration k);
  4. random re-initialization: the ticket's mask with fresh random values θ₀′;
  5. for every run, the early-stop iteration (minimum validation loss) and the test accuracy
     there, against the fraction of weights left.

A run whose early-stop iteration is its last iteration was still improving (the re-initialized
controls often are): its early stop is a lower bound. The claims are decided over the rounds that leave 10–21% of the weights (``ticket_range``:
the paper's "10–20%", including its 21.1% round): their mean test accuracy at early stop.

Deviations: synthetic digits by default (offline); fewer images and iterations than the paper's
55,000 training images and 50,000 iterations (``Config.quick()``: 5,000 training and 1,000
validation images, 12 epochs = 1,008 iterations, past the dense network's minimum validation loss;
``Config()``: 55,000 + 5,000, 15 epochs), and fewer rounds (8 in the quick run, 15 in
``Config()``; the paper goes on to 1.7%); the early-stop iteration is read on the evaluation grid
(every ``eval_every`` iterations); the controls are trained at ``control_rounds`` only (the quick
run: rounds 4, 7 and 8, to stay in its time budget); rewinding uses the masks that IMP with reset
found, where Frankle et al. 2020 run IMP with rewinding as its own sequence of masks.

Quick runs (seeds 0–4 synthetic, 0–2 ``mnist_test_split``; ``minicompress results`` on the
sweep's results.json): on synthetic digits all four headline claims held in 5 of 5 seeds (tickets
+0.9 to +1.5 points above dense, re-initialized masks 1.6 to 2.9 below). On real digits the
re-initialization and speed claims held in 3 of 3 seeds, but "tickets reach at least the dense
accuracy" in 1 of 3: the tickets were −0.28, −0.17 and +0.12 points from the dense network, less
than the seed-to-seed spread of the dense network itself (94.15–94.70%; the sampling error of
2,000 test images at 94% is ≈ 0.5 points); the paper's own margin on MNIST is a few tenths. Not tried for lack of time: a larger validation set (early
stopping on 1,000 noisy images stops some tickets early) and more training images.

The full configuration (``Config()``: 46 runs of 13,755 iterations, over half an hour of CPU
by the quick run's speed) has not been run yet.

Run: ``minicompress reproduce lottery [--quick] [--seeds 0-2] [--data mnist_test_split
--data-dir DIR]`` or ``python -m minicompress.reproductions.frankle2019_lottery_ticket --quick``.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass

import numpy as np

from minicompress import nn
from minicompress.models import lenet_300_100
from minicompress.papers.frankle2019_lottery_ticket import (prune_round, reinitialize, remaining_fraction,
                                                            rewind, snapshot)
from minicompress.report import Claim, Report
from minicompress.reproductions.experiment import command_line, figure, load_data, save_figure, say
from minicompress.train import evaluate, fit

RESET, REWIND, REINIT, DENSE = "reset to θ₀", "rewind to θ_k", "random reinit", "dense"


@dataclass(frozen=True)
class Config:
    """Defaults: the paper's LeNet-300-100 recipe, trained for fewer iterations."""

    n_train: int = 60_000  # training images; the last n_val of them are the validation set
    n_val: int = 5_000
    n_test: int = 10_000
    epochs: int = 15
    batch_size: int = 60
    lr: float = 1.2e-3  # Adam
    rate: float = 0.2  # of each layer's remaining weights per round
    output_rate: float = 0.1  # the output layer, at half the rate
    rounds: int = 15
    eval_every: int = 100  # iterations
    rewind_iteration: int = 500  # k
    ticket_range: tuple = (0.10, 0.215)  # fractions of the weights left
    control_rounds: tuple | None = None  # rounds with the re-initialized and rewound controls; None: all

    @classmethod
    def quick(cls) -> "Config":
        return cls(n_train=6_000, n_val=1_000, n_test=2_000, epochs=12, rounds=8, eval_every=42,
                   rewind_iteration=42, control_rounds=(4, 7, 8))


def reproduce(*, quick: bool = False, seed: int = 0, data: str | None = None, out_dir=None,
              data_dir=None, verify: bool = True, config: Config | None = None,
              verbose: bool = True) -> Report:
    """Dense, tickets, rewound tickets and re-initialized controls for one seed; table, figure, claims."""
    cfg = config or (Config.quick() if quick else Config())
    data, out_dir, (x, y), test_set = load_data("lottery", cfg, data, out_dir, data_dir, verify)
    n_val = min(cfg.n_val, len(y) // 5)
    train_set, val_set = (x[:-n_val], y[:-n_val]), (x[-n_val:], y[-n_val:])
    say("lottery", verbose, f"seed {seed}, {data}: {len(train_set[1])} training, {n_val} validation, "
                            f"{len(test_set[1])} test images")
    rows = _experiments(cfg, np.random.default_rng(seed), train_set, val_set, test_set, verbose)
    notes = [f"{data}: {len(train_set[1])} training, {n_val} validation and {len(test_set[1])} test images; "
             f"seed {seed}; {cfg.epochs} epochs of batches of {cfg.batch_size} per run; k = {cfg.rewind_iteration}"]
    if not verify:
        notes.append(f"{data} files were read without checksum verification (verify=False)")
    report = Report(f"Lottery tickets, LeNet-300-100 on {data} (seed {seed}; test accuracy % at early stop)",
                    rows, notes=notes, claims=claims(rows, cfg), data=data)
    report.figures.append(_figure(rows, out_dir / "lottery_tickets.png"))
    if verbose:
        print(report.table())
    return report


def _experiments(cfg: Config, rng, train_set, val_set, test_set, verbose: bool) -> list[dict]:
    loss = nn.SoftmaxCrossEntropy()

    test = lambda model: 100 * evaluate(model, loss, *test_set)["accuracy"]

    def train(model, method, round_, keep_at=None):
        kept, best = {}, dict(loss=np.inf)

        def on_step(step):
            if step == keep_at:
                kept["state"] = snapshot(model)
            if step % cfg.eval_every == 0:
                val_loss = evaluate(model, loss, *val_set)["loss"]
                if val_loss < best["loss"]:  # the first minimum of the validation loss
                    best.update(loss=val_loss, step=step, state=snapshot(model))
                model.train()

        fit(model, loss, nn.Adam(model.parameters(), lr=cfg.lr), *train_set, epochs=cfg.epochs,
            batch_size=cfg.batch_size, rng=rng, verbose=False, on_step=on_step)
        final = test(model)
        at_best = test(rewind(copy.deepcopy(model), best["state"])) if "state" in best else np.nan
        row = dict(method=method, round=round_, remaining=100 * remaining_fraction(model),
                   early_stop=best.get("step", np.nan), accuracy=at_best, final=final)
        say("lottery", verbose, f"{method:14} round {round_:2}: {row['remaining']:5.1f}% left, early stop "
                                f"at {row['early_stop']}, test {row['accuracy']:.2f}%")
        return row, kept.get("state")

    ticket = lenet_300_100(rng=rng)
    theta_0 = snapshot(ticket)
    dense_row, theta_k = train(ticket, DENSE, 0, keep_at=cfg.rewind_iteration)
    rows = [dense_row]
    controls = range(1, cfg.rounds + 1) if cfg.control_rounds is None else cfg.control_rounds
    for round_ in range(1, cfg.rounds + 1):
        reinit, rewound = imp_round(ticket, theta_0, theta_k, cfg, rng, round_ in controls)
        rows.append(train(ticket, RESET, round_)[0])
        if round_ in controls:
            rows.append(train(reinit, REINIT, round_)[0])
            rows.append(train(rewound, REWIND, round_)[0])
    return rows


def imp_round(ticket, theta_0, theta_k, cfg: Config, rng, controls: bool = True) -> tuple:
    """Prune ``ticket`` (trained) by magnitude and reset it to θ₀, in place; with ``controls``,
    also return its mask with fresh random values and with θ_k (else None, None)."""
    prune_round(ticket, cfg.rate, cfg.output_rate)
    rewind(ticket, theta_0)
    if not controls:
        return None, None
    return (reinitialize(copy.deepcopy(ticket), lenet_300_100(rng=rng)),
            rewind(copy.deepcopy(ticket), theta_k))


# ----- the claims: pure functions of the rows -----------------------------------------------------
def _finite(*values) -> bool:
    return all(isinstance(v, (int, float, np.number)) and np.isfinite(v) for v in values)


def _dense(rows, key: str) -> float:
    return next((r.get(key, np.nan) for r in rows if r.get("method") == DENSE), np.nan)


def _in_range(rows, method: str, key: str, ticket_range) -> list:
    lo, hi = 100 * ticket_range[0], 100 * ticket_range[1]
    return [r.get(key, np.nan) for r in rows if r.get("method") == method
            and _finite(r.get("remaining", np.nan)) and lo <= r["remaining"] < hi]


def _mean(values) -> float:
    return float(np.mean(values)) if values else np.nan


def claims(rows: list[dict], cfg: Config) -> list[Claim]:
    """Every claim, decided on the rows of one seed."""
    return [tickets_match_dense(rows, cfg), reinit_below_dense(rows, cfg), reinit_below_ticket(rows, cfg),
            tickets_learn_faster(rows, cfg), rewound_match_dense(rows, cfg)]


def _span(cfg) -> str:
    return f"{100 * cfg.ticket_range[0]:.0f}–{100 * cfg.ticket_range[1]:.1f}%"


def tickets_match_dense(rows, cfg) -> Claim:
    d, t = _dense(rows, "accuracy"), _mean(_in_range(rows, RESET, "accuracy", cfg.ticket_range))
    return Claim("lottery.lenet.tickets_match_dense",
                 f"tickets (reset to θ₀) with {_span(cfg)} of the weights left reach at least the dense "
                 f"test accuracy (their mean, at early stop)", True, _finite(d, t) and t >= d,
                 f"dense {d:.2f}%, tickets {t:.2f}% ({t - d:+.2f} points)",
                 "Frankle & Carbin 2019, abstract and Sec. 2 (LeNet-300-100 on MNIST): tickets of 10–20% "
                 "of the size or less reach at least the original test accuracy [R+]")


def reinit_below_dense(rows, cfg) -> Claim:
    d, r = _dense(rows, "accuracy"), _mean(_in_range(rows, REINIT, "accuracy", cfg.ticket_range))
    return Claim("lottery.lenet.reinit_below_dense",
                 f"the same masks with a random re-initialization, {_span(cfg)} of the weights left, "
                 f"fall below the dense test accuracy (their mean)", True, _finite(d, r) and r < d,
                 f"dense {d:.2f}%, re-initialized {r:.2f}% ({r - d:+.2f} points)",
                 "Frankle & Carbin 2019, Fig. 4: randomly reinitialized masks learn slower and reach "
                 "lower accuracy as pruning goes on")


def reinit_below_ticket(rows, cfg) -> Claim:
    t = _mean(_in_range(rows, RESET, "accuracy", cfg.ticket_range))
    r = _mean(_in_range(rows, REINIT, "accuracy", cfg.ticket_range))
    return Claim("lottery.lenet.reinit_below_ticket",
                 f"with {_span(cfg)} of the weights left, the tickets' test accuracy is above that of the "
                 f"same masks randomly re-initialized (means)", True, _finite(t, r) and t > r,
                 f"tickets {t:.2f}%, re-initialized {r:.2f}% ({t - r:+.2f} points)",
                 "Frankle & Carbin 2019, Sec. 2: the initialization is what makes a ticket win")


def tickets_learn_faster(rows, cfg) -> Claim:
    d, t = _dense(rows, "early_stop"), _mean(_in_range(rows, RESET, "early_stop", cfg.ticket_range))
    return Claim("lottery.lenet.tickets_learn_faster",
                 f"tickets with {_span(cfg)} of the weights left stop early no later than the dense "
                 f"network (mean early-stop iteration, minimum validation loss)", True,
                 _finite(d, t) and t <= d, f"dense at iteration {d:.0f}, tickets at {t:.0f} on average",
                 "Frankle & Carbin 2019, Fig. 3: tickets reach minimum validation loss earlier")


def rewound_match_dense(rows, cfg) -> Claim:
    d, t = _dense(rows, "accuracy"), _mean(_in_range(rows, REWIND, "accuracy", cfg.ticket_range))
    return Claim("lottery.lenet.rewound_match_dense",
                 f"tickets rewound to iteration k = {cfg.rewind_iteration} with {_span(cfg)} of the weights "
                 f"left reach at least the dense test accuracy (mean)", False, _finite(d, t) and t >= d,
                 f"dense {d:.2f}%, rewound tickets {t:.2f}% ({t - d:+.2f} points)",
                 "Frankle et al. 2020: rewinding to an early iteration finds tickets where resetting "
                 "to θ₀ fails; for LeNet both work")


def _figure(rows, path):
    fig = figure(10, 4)
    ax, ax2 = fig.subplots(1, 2)
    for method in (RESET, REWIND, REINIT):
        mine = [r for r in rows if r["method"] == method]
        left = [r["remaining"] for r in mine]
        ax.plot(left, [r["accuracy"] for r in mine], "o-", markersize=4, label=method)
        ax2.plot(left, [r["early_stop"] for r in mine], "o-", markersize=4, label=method)
    for a, key in ((ax, "accuracy"), (ax2, "early_stop")):
        a.axhline(_dense(rows, key), color="k", lw=0.8, label="dense")
        a.set(xscale="log", xlabel="weights left (%)")
        a.minorticks_off()
        ticks = [t for t in (100, 50, 20, 10, 5, 2, 1) if t >= min(r["remaining"] for r in rows) * 0.9]
        a.set_xticks(ticks, [f"{t:g}" for t in ticks])
        a.invert_xaxis()
        a.legend(fontsize=7)
    ax.set(ylabel="test accuracy at early stop (%)", title="LeNet-300-100: tickets vs controls")
    ax2.set(ylabel="early-stop iteration (min. validation loss)", title="learning speed")
    return save_figure(fig, path)


if __name__ == "__main__":
    command_line(reproduce, __doc__)
