"""Denil et al. 2013, reproduced: an MNIST MLP whose first layer learns a fraction of its weights
and predicts the rest (:mod:`minicompress.papers.denil2013_predicting_parameters`).

What is reproduced: the MLP 784-500-500-10 with its first layer W = U_α W_α, 10 columns of 50
hidden units each with its own random α, for the fractions |α|/784 of the config, with the SE
kernel, the empirical kernel, random U, the identity subset and the learned low rank; the full
network, a dense network of as many learned parameters, and the truncated SVD of the trained first
layer (fine-tuned); then the trained network's first-layer features predicted from 10% and 25% of
their values. Claims: the SE kernel with 25% learned is within 0.5 points of the full network;
it beats random U at 10%; trained features are accurately predicted from 25% of their values.

Deviations: synthetic digits by default (offline); 20,000 training images, 6 epochs of SGD
(momentum 0.9, lr 0.1 decaying linearly) and no autoencoder pretraining, where the authors trained
on 60,000 MNIST images from pretrained weights; α uniform at random per column; fraction 1 is the
dense network (U = I), not a 784-atom dictionary per column (10x the cost). Random U is N(0, 1/i),
atoms of norm ≈ 1 like the identity's (the SE atoms have norm ≈ ℓ√π, see the paper file): the
conditioning of U (its scale, ℓ against λ) sets SGD's effective step, and a throwaway MNIST
prototype found it mattered as much as the dictionary's kind, whence also ℓ = 1 px and λ = 1e-3.
The feature prediction adds the learned change W − W0 (W0 regenerable from the seed) beside W
itself, and uses λ = 0.1 there: a trained W keeps its white-noise initialization, which no
predictor recovers (the values at α alone leave 0.86 of W's norm unexplained at 25%).

Run: ``minicompress reproduce denil [--quick] [--seed 0] [--data mnist_test_split --data-dir DIR]``
(or ``python -m minicompress.reproductions.denil2013_predicting_parameters``).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from minicompress import nn
from minicompress.factorize import pixel_coordinates, random_indices, relative_error, svd_layer, truncated_svd
from minicompress.metrics import count_params
from minicompress.models import mlp
from minicompress.papers.denil2013_predicting_parameters import (
    DICTIONARIES, atoms_for_fraction, check_kind, empirical_kernel, kernel_ridge_dictionary,
    low_rank_for_fraction, predict_features, predicted_layer, se_kernel)
from minicompress.report import Claim, Report
from minicompress.reproductions.experiment import command_line, load_data, save_figure, say
from minicompress.train import evaluate, fit


@dataclass(frozen=True)
class Config:
    """Defaults: Denil et al.'s MNIST MLP 784-500-500-10, first layer factorized, briefly trained."""

    n_train: int = 20_000  # training images (the paper: 60,000 MNIST)
    n_test: int = 10_000
    hidden: tuple = (500, 500)  # the authors' MNIST MLP
    columns: int = 10  # columns of 50 hidden units, each with its own α and U_α
    fractions: tuple = (0.05, 0.1, 0.25, 0.5)  # |α| / 784, the share of first-layer weights learned
    dictionaries: tuple = tuple(DICTIONARIES)
    length_scale: float = 1.0  # ℓ of the SE kernel, in pixels
    ridge: float = 1e-3  # λ of the kernel ridge dictionary (kernels scaled to unit diagonal)
    epochs: int = 6
    lr: float = 0.1  # SGD, momentum 0.9, decaying linearly to 0 (the authors: 0.01, momentum 0.7)
    batch_size: int = 100  # as the authors' code
    finetune_epochs: int = 1  # the truncated SVD, fine-tuned (all layers, both factors)
    finetune_lr: float = 0.01
    prediction_fractions: tuple = (0.1, 0.25)  # of each trained feature's values kept
    prediction_length_scales: tuple = (1.0, 2.0, 3.0)
    prediction_ridge: float = 0.1  # trained features are noisy: λ ≈ 0 would fit the noise

    @classmethod
    def quick(cls) -> "Config":
        return cls(n_train=10_000, n_test=2_000, fractions=(0.1, 0.25), epochs=3)


def mlp_count(h1: int, n_inputs: int = 784, hidden2: int = 500, n_classes: int = 10) -> int:
    """Parameters (weights and biases) of the dense MLP n_inputs-h1-hidden2-n_classes."""
    return (n_inputs + 1) * h1 + (h1 + 1) * hidden2 + (hidden2 + 1) * n_classes


def equal_count_width(budget: int, n_inputs: int = 784, hidden2: int = 500, n_classes: int = 10) -> int:
    """The widest first hidden layer h1 whose dense MLP has at most ``budget`` parameters."""
    h1 = (budget - mlp_count(0, n_inputs, hidden2, n_classes)) // (n_inputs + 1 + hidden2)
    if h1 < 1:
        raise ValueError(f"equal_count_width: a budget of {budget} parameters is below the "
                         f"smallest MLP ({mlp_count(1, n_inputs, hidden2, n_classes)})")
    return int(h1)


# ----- the reproduction -------------------------------------------------------------------------
def reproduce(*, quick: bool = False, seed: int = 0, data: str | None = None, data_dir=None,
              verify: bool = True, out_dir=None, verbose: bool = True,
              config: Config | None = None) -> Report:
    """Train every (dictionary, fraction) pair and the baselines for one seed, predict the full
    network's features, write the two figures; the Report's claims say what held."""
    cfg = config or (Config.quick() if quick else Config())
    for kind in cfg.dictionaries:  # fail before any training, not an hour into it
        check_kind(kind)
    for f in (*cfg.fractions, *cfg.prediction_fractions):
        atoms_for_fraction(f, 1)
    data, out_dir, train_set, test_set = load_data("denil", cfg, data, out_dir, data_dir, verify)
    if train_set[0].shape[1] != 1:
        raise ValueError(f"reproduce: the SE kernel lives on a grey image's pixel grid; {data!r} "
                         f"has images of shape {train_set[0].shape[1:]}, expected (1, h, w)")
    grid = pixel_coordinates(train_set[0].shape[2:])
    kernels = {"se_kernel": se_kernel(grid, grid, cfg.length_scale),
               "empirical": empirical_kernel(train_set[0])}
    run = _one_seed(cfg, seed, train_set, test_set, kernels, verbose)
    h1, h2 = cfg.hidden
    rows = _rows(run, cfg)
    report = Report(f"Denil et al. 2013, MLP 784-{h1}-{h2}-10 on {data}, first layer factorized "
                    f"(seed {seed}; error = test error %; fraction = share of first-layer weights "
                    f"learned or kept; params = learned parameters of the whole network; "
                    f"rel_error = ‖M − M̂‖/‖M‖)", rows, claims=claims(rows), data=data,
                    notes=[f"{len(train_set[1]):,} training and {len(test_set[1]):,} test images",
                           f"optimizer: SGD, momentum 0.9, batch {cfg.batch_size}, lr {cfg.lr:g} "
                           f"decaying linearly to 0 over {cfg.epochs} epoch(s); SVD fine-tuning: "
                           f"lr {cfg.finetune_lr:g}, {cfg.finetune_epochs} epoch(s)",
                           f"SE kernel ℓ = {cfg.length_scale:g} px, λ = {cfg.ridge:g}; feature "
                           f"prediction λ = {cfg.prediction_ridge:g}"])
    report.figures += [_error_figure(rows, cfg, out_dir / "denil_error_vs_fraction.png"),
                       _prediction_figure(run, cfg, out_dir / "denil_reconstructions.png")]
    if verbose:
        print(report.table())
    return report


def _one_seed(cfg: Config, seed: int, train_set, test_set, kernels: dict, verbose: bool) -> dict:
    rng, loss = np.random.default_rng(seed), nn.SoftmaxCrossEntropy()
    (h1, h2), n_inputs = cfg.hidden, int(np.prod(train_set[0].shape[1:]))
    error = lambda m: 100 * (1 - evaluate(m, loss, *test_set)["accuracy"])  # noqa: E731 (%)
    net = lambda first, rng: mlp((n_inputs, first.out_features, h2, 10), first_layer=first, rng=rng)  # noqa: E731

    def train(model, epochs, lr):
        """SGD with momentum, the learning rate decaying linearly to ~0 over the run."""
        opt = nn.SGD(model.parameters(), lr=lr, momentum=0.9)
        steps = epochs * -(-len(train_set[1]) // cfg.batch_size)
        fit(model, loss, opt, *train_set, epochs=epochs, batch_size=cfg.batch_size, rng=rng,
            verbose=verbose, on_step=lambda step: setattr(opt, "lr", lr * max(1 - step / steps, 1e-3)))
        return model

    say("denil", verbose, f"full network {n_inputs}-{h1}-{h2}-10")
    dense = net(nn.Linear(n_inputs, h1, rng=rng), rng)
    W0 = dense[1].weight.data.astype(np.float64)  # the initialization, regenerable from the seed
    out = dict(dense=error(train(dense, cfg.epochs, cfg.lr)), dense_params=count_params(dense),
               trained={}, equal={}, svd={})
    for kind in cfg.dictionaries:
        for f in cfg.fractions:
            say("denil", verbose, f"{kind}: {f:.0%} of the first layer's weights learned")
            layer = predicted_layer(kind, f, h1, n_inputs=n_inputs, columns=cfg.columns,
                                    kernel=kernels.get(kind), ridge=cfg.ridge, rng=rng)
            model = train(net(layer, rng), cfg.epochs, cfg.lr)
            out["trained"][kind, f] = (error(model), count_params(model))
    for f in cfg.fractions:
        budget = mlp_count(h1, n_inputs, h2) - (n_inputs - atoms_for_fraction(f, n_inputs)) * h1
        width = equal_count_width(budget, n_inputs, h2)
        say("denil", verbose, f"dense {n_inputs}-{width}-{h2}-10, as many parameters as at {f:.0%}")
        small = train(net(nn.Linear(n_inputs, width, rng=rng), rng), cfg.epochs, cfg.lr)
        out["equal"][f] = (error(small), width, count_params(small))
        rank = low_rank_for_fraction(f, h1, n_inputs)
        say("denil", verbose, f"truncated SVD of the trained first layer, rank {rank}, then fine-tuning")
        model = net(svd_layer(dense[1], rank), 0)
        for i in (3, 5):
            model[i].load_state_dict(dense[i].state_dict())
        out["svd"][f] = (error(model), error(train(model, cfg.finetune_epochs, cfg.finetune_lr)),
                         rank)  # before and after fine-tuning
    out["recon"], out["features"] = _predictions(cfg, dense, W0, train_set[0].shape[2:],
                                                 kernels["empirical"], rng, error)
    return out


def _predictions(cfg: Config, dense, W0: np.ndarray, image_shape, empirical: np.ndarray, rng, error):
    """Predict each first-layer feature of the trained network from its values at a random α
    (one α for all features), and likewise the learned change W − W0: relative errors, and the
    test error with the predicted layer (W0 + the predicted change for the latter)."""
    layer, saved = dense[1], dense[1].weight.data.copy()
    W = saved.astype(np.float64)  # (o, i)
    n_inputs, targets = W.shape[1], {"W": (W, 0), "W - W0": (W - W0, W0)}
    grid = pixel_coordinates(image_shape)
    kernels = {**{f"se_kernel l={l:g}": se_kernel(grid, grid, l)
                  for l in cfg.prediction_length_scales}, "empirical": empirical}
    shown = np.argsort(-np.linalg.norm(W - W0, axis=1))[:6]  # the six features that moved most
    results = {}
    features = {"W": W[shown], "W0": W0[shown], "W - W0": (W - W0)[shown], "shape": image_shape}
    for f in cfg.prediction_fractions:
        alpha = random_indices(n_inputs, atoms_for_fraction(f, n_inputs), rng)
        dictionaries = {name: kernel_ridge_dictionary(K, alpha, cfg.prediction_ridge)
                        for name, K in kernels.items()}
        dictionaries["values at alpha"] = np.eye(n_inputs)[:, alpha]  # zeros elsewhere
        for target, (M, base) in targets.items():
            estimates = {name: predict_features(M, U, alpha) for name, U in dictionaries.items()}
            left, right, _ = truncated_svd(M, low_rank_for_fraction(f, *M.shape))
            estimates["truncated SVD"] = left @ right.T  # same storage, the Eckart–Young optimum
            for name, M_hat in estimates.items():
                layer.weight.data[...] = base + M_hat  # the network with the predicted layer
                results[target, name, f] = (relative_error(M, M_hat), error(dense))
                features[target, name, f] = M_hat[shown]
    layer.weight.data[...] = saved
    return results, features


def _rows(run: dict, cfg: Config) -> list[dict]:
    """One row per trained network or prediction (error: test error %)."""
    h1, h2 = cfg.hidden
    row = lambda experiment, method, fraction, **values: dict(  # noqa: E731
        experiment=experiment, method=method, fraction=fraction, **values)
    rows = [row("full network", f"dense 784-{h1}-{h2}-10", 1.0, params=run["dense_params"],
                error=run["dense"], std=0.0)]
    rows += [row("trained", kind, f, params=params, error=e, std=0.0)
             for (kind, f), (e, params) in run["trained"].items()]
    rows += [row("dense, equal count", f"dense 784-{width}-{h2}-10", f, params=params, error=e,
                 std=0.0) for f, (e, width, params) in run["equal"].items()]
    rows += [row("truncated SVD", f"rank {rank}", f, error=e, std=0.0, finetuned=tuned)
             for f, (e, tuned, rank) in run["svd"].items()]
    rows += [row(f"reconstruct {t}", name, f, error=e, std=0.0, rel_error=rel)
             for (t, name, f), (rel, e) in run["recon"].items()]
    return rows


# ----- claims: small pure functions of the rows ----------------------------------------------------
PAPER = ("Abstract: 'more than 95% of the weights predicted without any drop in accuracy'; the MNIST "
         "MLP's error against the fraction learned stays flat for the SE kernel and rises for random U")


def _value(rows, experiment: str, method: str | None, fraction: float, key: str = "error") -> float:
    """The ``key`` of the row (experiment, method, fraction), NaN if absent or not a number."""
    for r in rows:
        if (r["experiment"] == experiment and method in (None, r["method"])
                and np.isclose(r["fraction"], fraction)):
            value = r.get(key)
            return float(value) if isinstance(value, (int, float)) else np.nan
    return np.nan


def claim_se25_within_full(rows) -> Claim:
    full, se = _value(rows, "full network", None, 1.0), _value(rows, "trained", "se_kernel", 0.25)
    gap = se - full
    return Claim("denil.mlp.se25_within_full", "SE kernel with 25% of the first layer learned within "
                 "0.5 points of the full network (SE error − full error ≤ 0.5)", True,
                 bool(np.isfinite(gap) and gap <= 0.5),
                 f"SE 25% {se:.2f}%, full {full:.2f}% ({gap:+.2f} points)", PAPER)


def claim_se10_beats_random(rows) -> Claim:
    se, random = _value(rows, "trained", "se_kernel", 0.1), _value(rows, "trained", "random_gaussian", 0.1)
    gap = random - se
    return Claim("denil.mlp.se10_beats_random", "SE kernel beats random U with 10% of the first layer "
                 "learned (random-U error − SE error > 0)", True, bool(np.isfinite(gap) and gap > 0),
                 f"random U {random:.2f}%, SE {se:.2f}% ({gap:+.2f} points)", PAPER)


def _best_prediction(rows, target: str, fraction: float):
    """(lowest relative error among the kernel dictionaries, its name) for ``target``."""
    candidates = [(float(r["rel_error"]), r["method"]) for r in rows
                  if r["experiment"] == f"reconstruct {target}" and np.isclose(r["fraction"], fraction)
                  and not r["method"].startswith(("values", "truncated"))
                  and np.isfinite(r.get("rel_error", np.nan))]
    return min(candidates) if candidates else (np.nan, "none")


def claim_features_predicted(rows, target: str = "W") -> Claim:
    rel, name = _best_prediction(rows, target, 0.25)
    what = "trained features W" if target == "W" else "the learned change W − W0"
    kept = _value(rows, f"reconstruct {target}", "values at alpha", 0.25, "rel_error")
    return Claim(f"denil.features.{'trained' if target == 'W' else 'change'}_from_25pct",
                 f"{what} predicted from 25% of their values by a kernel dictionary with relative "
                 f"error ≤ 0.5 (our reading of 'accurately'; the paper's Fig. 1 shows it without a "
                 f"number)", target == "W", bool(np.isfinite(rel) and rel <= 0.5),
                 f"best {name}: {rel:.2f} (the values at α alone: {kept:.2f})",
                 "Abstract: 'given only a few weight values for each feature it is possible to "
                 "accurately predict the remaining values'; Fig. 1 (features of several models)")


def claims(rows) -> list[Claim]:
    """Every claim whose rows were measured (a configuration may leave some out)."""
    out = []
    if np.isfinite(_value(rows, "trained", "se_kernel", 0.25)):
        out.append(claim_se25_within_full(rows))
    if np.isfinite(_value(rows, "trained", "random_gaussian", 0.1)):
        out.append(claim_se10_beats_random(rows))
    if any(r["experiment"] == "reconstruct W" and np.isclose(r["fraction"], 0.25) for r in rows):
        out += [claim_features_predicted(rows, "W"), claim_features_predicted(rows, "W - W0")]
    return out


# ----- figures -----------------------------------------------------------------------------------
def _error_figure(rows, cfg: Config, path: Path) -> Path:
    """Test error against the fraction learned: one curve per dictionary (fraction 1 = the full
    network), the dense net of equal count and the fine-tuned truncated SVD for reference."""
    from matplotlib.figure import Figure
    fig = Figure(figsize=(7, 4.5), layout="constrained")
    ax, fs, full = fig.subplots(), [*cfg.fractions, 1], _value(rows, "full network", None, 1.0)
    curves = {kind: [*(_value(rows, "trained", kind, f) for f in cfg.fractions), full]
              for kind in cfg.dictionaries}  # fraction 1 = the full network
    curves["dense, equal count"] = [_value(rows, "dense, equal count", None, f) for f in cfg.fractions]
    curves["truncated SVD + fine-tuning"] = [_value(rows, "truncated SVD", None, f, "finetuned")
                                             for f in cfg.fractions]
    for i, (name, e) in enumerate(curves.items()):
        ax.plot(fs[:len(e)], e, "-o" if name in DICTIONARIES else ":s", label=name, color=f"C{i}",
                markersize=4)
    ax.axhline(full, color="k", lw=0.8, label="full network")
    ax.set(xscale="log", xlabel="fraction of first-layer weights learned", ylabel="test error (%)",
           title="Denil et al. 2013: predicted parameters")
    ax.set_xticks(fs, [f"{f:g}" for f in fs])
    ax.legend(fontsize=7)
    return save_figure(fig, path)


def _prediction_figure(run: dict, cfg: Config, path: Path) -> Path:
    """Rows: the six features that moved most in training, as 28×28 images; columns: W and its
    best SE-kernel prediction, its initialization W0, the change W − W0, then per fraction the
    change's predictions."""
    from matplotlib.figure import Figure
    features, recon = run["features"], run["recon"]

    def best_se(target, f):  # the length scale that predicted ``target`` best
        return min((n for t, n, g in recon if t == target and g == f and n.startswith("se_kernel")),
                   key=lambda n: recon[target, n, f][0])

    def column(target, name, f):
        title = f"{name.replace('alpha', 'α')}\n{f:.0%}, err {recon[target, name, f][0]:.2f}"
        return title, features[target, name, f]

    last = cfg.prediction_fractions[-1]
    columns = [("trained W", features["W"]), column("W", best_se("W", last), last),
               ("initial W0", features["W0"]), ("change W − W0", features["W - W0"])]
    columns += [column("W - W0", name, f) for f in cfg.prediction_fractions
                for name in ("values at alpha", best_se("W - W0", f), "empirical", "truncated SVD")]
    rows = len(features["W"])
    fig = Figure(figsize=(1.25 * len(columns), 1.3 * rows + 0.7), layout="constrained")
    axes = fig.subplots(rows, len(columns), squeeze=False)
    for j, (title, images) in enumerate(columns):
        axes[0, j].set_title(title, fontsize=7)
        for i, (ax, image) in enumerate(zip(axes[:, j], images)):
            scale = np.abs(features["W" if j < 3 else "W - W0"][i]).max()
            ax.imshow(image.reshape(features["shape"]), cmap="RdBu_r", vmin=-scale, vmax=scale)
            ax.set(xticks=[], yticks=[])
    fig.suptitle("First-layer features (28×28) of the full network, and the learned change "
                 "predicted from a fraction of its values", fontsize=9)
    return save_figure(fig, path)


if __name__ == "__main__":
    command_line(reproduce, __doc__)
