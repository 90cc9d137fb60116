"""The 4-bit multiplexer, part (2) of :mod:`minicompress.reproductions.mozer1988_skeletonization`
(that module's docstring says what is reproduced, the deviations and what held; ``minicompress
reproduce skeletonization`` runs this part with the others).

Per training setting (full-batch gradient descent on Σ(t − o)², lr and momentum): 4 hidden units
trained from scratch against 8 trimmed one at a time to 4, retrained to criterion after each
removal, by relevance (skeletonization), by outgoing |w| or at random; a failure is a net, or
any of its retraining stages, that does not reach the criterion. The claims on the failure
counts and the figure of them.
"""
from __future__ import annotations

from functools import partial
from pathlib import Path

import numpy as np

from minicompress.datasets import load
from minicompress.models import sigmoid_mlp
from minicompress.papers.mozer1988_skeletonization import skeletonize
from minicompress.pruning.gates import gate, gates
from minicompress.report import Claim
from minicompress.reproductions.experiment import (figure, iqr, median, row, save_figure, say, train_to_criterion,
                                                   value_of)

ROUTES = ("scratch", "relevance", "magnitude", "random")  # of the multiplexer experiment


def multiplexer(cfg, seed: int, verbose: bool) -> dict:
    """4 hidden units from scratch vs 8 trimmed to 4 (by ρ̂, |w_out|, at random); per setting."""
    x, y = load("multiplexer")
    target, rows, counts = y[:, None].astype(np.float32), [], {}
    for lr, momentum in cfg.mux_settings:
        train = partial(train_to_criterion, x=x, target=target, lr=lr, momentum=momentum, margin=cfg.margin,
                        max_epochs=cfg.mux_max_epochs)
        for route in cfg.mux_routes:
            say("skeletonization", verbose, f"multiplexer lr {lr} momentum {momentum}: {route}, {cfg.mux_seeds} nets")
            epochs = []  # of the nets that reached the criterion
            for k in range(cfg.mux_seeds):
                rng = np.random.default_rng([seed, k])
                hidden = cfg.mux_target if route == "scratch" else cfg.mux_hidden
                model = gate(sigmoid_mlp((6, hidden, 1), init_scale=cfg.init_scale, rng=rng))
                if route == "scratch":
                    n_epochs, ok = train(model)
                else:
                    _, n_epochs, ok = skeletonize(model, x, target, cfg.mux_target, lambda m, step: train(m, on_step=step),
                                                  choose=baseline(route, rng), decay=cfg.decay)
                epochs += [n_epochs] if ok else []
            failed = counts[(lr, momentum), route] = cfg.mux_seeds - len(epochs)
            add = partial(row, f"multiplexer lr {lr} mom {momentum}", f"{cfg.mux_target} hidden from scratch"
                          if route == "scratch" else f"{cfg.mux_hidden} -> {cfg.mux_target} by {route}")
            rows += [add("failures (nets)", failed, n=cfg.mux_seeds),
                     add("epochs to criterion, median (IQR)", median(epochs), iqr(epochs), len(epochs))]
    notes = [f"multiplexer: {cfg.mux_seeds} nets per route and setting (lr on Σ(t − o)², momentum); a failure is a "
             f"net (or any of its retraining stages) not reaching the criterion in {cfg.mux_max_epochs} sweeps; "
             f"epochs count every stage of successful runs"]
    return dict(rows=rows, notes=notes, counts=counts)


def baseline(route: str, rng):
    """The unit-choosing rule of a trimming route (None: least relevant, the method itself)."""
    def magnitude(model):  # least Σ_j |w_ji| outgoing
        consumer = model.layers[model.layers.index(gates(model)[1]) + 1]
        return int(np.argmin(np.abs(consumer.weight.value()).sum(axis=0)))
    return dict(relevance=None, magnitude=magnitude, random=lambda model: int(rng.integers(gates(model)[1].units)))[route]


def multiplexer_claims(rows: list[dict], mux_settings, routes=ROUTES) -> list[Claim]:
    """Per setting (the first one the headline's): trimmed by relevance fails less often than from
    scratch; at random fails more often than by relevance (if the random route ran)."""
    out, none = [], "no number given"
    for k, (lr, momentum) in enumerate(mux_settings):
        mux = partial(value_of, rows, f"multiplexer lr {lr} mom {momentum}", measure="failures (nets)")
        scratch, relevance, magnitude, random = (mux(m) for m in ("4 hidden from scratch", *(
            f"8 -> 4 by {route}" for route in ROUTES[1:])))
        setting, suffix = f"full-batch GD, lr {lr} on Σ(t − o)², momentum {momentum}", f".lr{lr}_mom{momentum}" * (k > 0)
        out += [Claim(f"skeletonization.mux.fewer_failures{suffix}", "8 hidden trimmed to 4 by relevance fail "
                      f"less often than 4 hidden from scratch ({setting})", k == 0, 0 <= relevance < scratch,
                      f"{relevance:.0f} vs {scratch:.0f} failures of {mux('4 hidden from scratch', key='n')} nets"
                      + "".join(f"; {name} {n:.0f}" for route, name, n in (("magnitude", "by outgoing |w|", magnitude),
                                                                        ("random", "at random", random)) if route in routes),
                      f"8 → 4 skeletonized nets reach criterion more reliably than 4 from scratch; {none}"),
                Claim(f"skeletonization.mux.random_fails_more{suffix}", "trimming a random unit fails more often "
                      f"than trimming by relevance ({setting})", False, random > relevance,
                      f"{random:.0f} vs {relevance:.0f} failures")][:2 if "random" in routes else 1]
    return out


def multiplexer_figure(mux: dict, cfg, out_dir: Path) -> Path:
    """Failures (% of the nets) per setting and route."""
    fig = figure(7, 4)
    ax, width, where = fig.subplots(), 0.8 / len(cfg.mux_routes), np.arange(len(cfg.mux_settings))
    for j, route in enumerate(cfg.mux_routes):
        ax.bar(where + j * width, [100 * mux["counts"][s, route] / cfg.mux_seeds for s in cfg.mux_settings],
               width, label=route)
    ax.set_xticks(where + 0.4 - width / 2, [f"lr {lr}, momentum {m}" for lr, m in cfg.mux_settings])
    ax.set(ylabel=f"failures (% of {cfg.mux_seeds} nets)", title="4-bit multiplexer: 4 from scratch vs 8 trimmed")
    ax.legend(fontsize=8)
    return save_figure(fig, out_dir / "skeletonization_multiplexer.png")
