"""Input relevance on digits, part (3) of :mod:`minicompress.reproductions.mozer1988_skeletonization`
(that module's docstring says what is reproduced, the deviations and what held; ``minicompress
reproduce skeletonization`` runs this part with the others).

Ours, after the paper's input-unit demos: a gated 784-100-10 ReLU net trained with cross-entropy
on digits, its input relevance the linear error of its softmax outputs on a fixed subset; the
most relevant pixels gated off against a random set, no retraining. Deleting by the *signed* ρ̂
first deletes pixels with ρ̂ < 0 (each alone lowers the error), which together carry
information: it keeps less accuracy than deleting by |ρ̂|.
"""
from __future__ import annotations

from functools import partial
from pathlib import Path

import numpy as np

from minicompress import nn
from minicompress.papers.mozer1988_skeletonization import (LinearError, RelevanceTracker, relevance_estimate,
                                                           true_relevance)
from minicompress.pruning.gates import gate, gates, trainable
from minicompress.report import Claim
from minicompress.reproductions.experiment import (deletion_accuracy, figure, row, save_figure, say, spearman,
                                                   value_of)
from minicompress.train import evaluate, fit


def digits_experiment(cfg, seed: int, data: str, train_set, test_set, verbose: bool) -> dict:
    """Input-pixel relevance of a gated 784-hidden-10 ReLU net trained with cross-entropy."""
    (x, y), (x_test, y_test) = train_set, test_set
    rng = np.random.default_rng(seed)
    model = gate(nn.Sequential(nn.Flatten(), nn.Linear(784, cfg.digits_hidden, rng=rng), nn.ReLU(),
                               nn.Linear(cfg.digits_hidden, 10, rng=rng)))
    n = cfg.digits_relevance_subset
    xs, ts, error = x[:n], nn.one_hot(y[:n], 10), LinearError(softmax=True)  # of the softmax outputs
    tracker = RelevanceTracker(model, xs, ts, error, cfg.decay, every=cfg.digits_relevance_every)
    loss = nn.SoftmaxCrossEntropy()
    say("skeletonization", verbose, f"{data}: training a 784-{cfg.digits_hidden}-10 net, tracking input relevance")
    fit(model, loss, nn.SGD(trainable(model), lr=cfg.digits_lr, momentum=0.9), x, y, epochs=cfg.digits_epochs,
        batch_size=cfg.digits_batch_size, rng=rng, verbose=verbose, on_step=tracker)
    smoothed, final = tracker.relevance[0], relevance_estimate(model, xs, ts, error)[0]
    say("skeletonization", verbose, "true input relevance: one forward pass per pixel")
    true = true_relevance(model, xs, ts, error)[0]
    accuracy = lambda m: 100 * evaluate(m, loss, x_test, y_test)["accuracy"]  # noqa: E731
    # pixels gated off lowest score first, no retraining (random: the ranks of a random order)
    scores = {"least ρ̂ first": smoothed, "least |ρ̂| first": np.abs(smoothed), "most ρ̂ first": -smoothed,
              "random": np.argsort(rng.permutation(784))}
    add = partial(row, f"{data} input relevance")
    rows = [add("no pixel removed", "test accuracy %", accuracy(model))]
    rows += [add(method, f"test accuracy %, {100 * f:.0f}% of pixels gated off",
                 deletion_accuracy(model, lambda m: [gates(m)[0].alpha], [score], f, accuracy))
             for method, score in scores.items() for f in cfg.digits_removed]
    rows += [add("ρ̂ averaged vs ρ", "Spearman over the 784 pixels", spearman(smoothed, true)),
             add("ρ̂ final vs ρ", "Spearman over the 784 pixels", spearman(final, true))]
    notes = [f"input relevance on {data}: {len(x)} training images, {cfg.digits_epochs} epochs of SGD (lr "
             f"{cfg.digits_lr}, momentum 0.9, batch {cfg.digits_batch_size}), {len(x_test)} test images; relevance "
             f"on {n} training images with the linear error of the softmax outputs, averaged 0.8/0.2 every "
             f"{cfg.digits_relevance_every} SGD steps"]
    return dict(rows=rows, notes=notes, smoothed=smoothed, true=true, data=data, mean_image=xs.reshape(-1, 784).mean(0))


# ----- claims: pure functions of the rows ----------------------------------------------------------
def digits_claims(rows: list[dict], data: str) -> list[Claim]:
    """The claims of the digits part, checked on the rows of one run (``data``: the digits' name)."""
    digits = partial(value_of, rows, f"{data} input relevance")
    most, random, least = (digits(m, "test accuracy %, 50% of pixels gated off")
                           for m in ("most ρ̂ first", "random", "least |ρ̂| first"))
    return [
        Claim("skeletonization.digits.critical_inputs", "relevance finds the critical inputs: gating off the 50% "
              "most relevant pixels leaves a lower test accuracy than a random 50%", True, most < random,
              f"{most:.1f}% vs {random:.1f}% (dense {digits('no pixel removed', 'test accuracy %'):.1f}%)",
              "relevance identifies the critical (input) units (abstract)"),
        Claim("skeletonization.digits.least_relevant_go_first", "gating off the 50% least relevant pixels (by "
              "|ρ̂|) keeps more test accuracy than a random 50%", False, least > random,
              f"{least:.1f}% vs {random:.1f}%")]


def digits_figure(digits: dict, out_dir: Path) -> Path:
    """The digits' relevance maps: ρ̂ averaged, the true ρ, and the mean input."""
    fig = figure(10, 3.6)
    for ax, (image, title) in zip(fig.subplots(1, 3), ((digits["smoothed"], "ρ̂, 0.8/0.2 average"),
                                                       (digits["true"], "true ρ"), (digits["mean_image"], "mean input"))):
        limit, signed = np.abs(image).max() or 1.0, image.min() < 0
        shown = ax.imshow(image.reshape(28, 28), cmap="RdBu_r" if signed else "gray_r", vmin=-limit * signed, vmax=limit)
        ax.set(title=f"{digits['data']}: {title}", xticks=[], yticks=[])
        fig.colorbar(shown, ax=ax, shrink=0.8)
    return save_figure(fig, out_dir / "skeletonization_digits_input_relevance.png")
