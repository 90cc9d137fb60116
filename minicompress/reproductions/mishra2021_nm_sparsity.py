"""Reproduction: N:M sparsity (Mishra et al. 2021, NVIDIA's 2:4) on LeNet-300-100 and LeNet-5:
train dense, prune 2:4 (and 1:4, 4:8) by magnitude once, retrain; against unstructured
magnitude pruning at the same sparsity, layer by layer; the model's bytes in the 2:4 format.

The method is in :mod:`minicompress.papers.mishra2021_nm_sparsity`, the masks and the format in
:mod:`minicompress.pruning.nm`. For each network and pattern N:M:
  1. the dense network, trained with Caffe's LeNet solver (SGD, momentum 0.9, weight decay);
  2. the dense network trained on for the retraining budget (the fair reference: the paper's
     dense baselines are converged, ours would otherwise gain from the extra epochs alone);
  3. N:M magnitude masks on every eligible weight (reduction dimension a multiple of M), test
     accuracy at once ("one-shot") and after retraining with the mask fixed ("retrained");
  4. the unstructured baseline: each weight pruned by magnitude to exactly the same number of
     zeros as its N:M mask, retrained the same way;
  5. the bytes of the parameters with the eligible weights in the N:M format (values plus
     ⌈log₂ M⌉-bit indices) and everything else dense.

Deviations: synthetic digits by default (offline), not the paper's ImageNet/NLP models (the
paper has no MNIST results; its claim is that retrained 2:4 networks match dense accuracy across
tasks); the quick run retrains for fewer epochs than the dense training (the paper repeats the
whole schedule; ``Config()`` does); LeNet-5 is trained on a subset (``lenet5_images``) to stay
inside the time budget. Layers whose reduction dimension is not a multiple of M stay dense, as in
the paper (its first convolution): LeNet-5's first convolution (1 input channel) always, and for
4:8 also the layers with 300, 100, 20 and 500 inputs; the realized sparsity is in the table. The
speedup is the hardware's and is not measured here; the bytes are counted exactly.

Quick runs (seeds 0–4 synthetic, 0–2 ``mnist_test_split``; ``minicompress results`` on the
sweeps' results.json): the headline "2:4 retrained within 0.5 points of dense" does NOT hold in
every seed: LeNet-300-100 2 of 5 (synthetic) and 2 of 3 (real digits), LeNet-5 3 of 5 and 2 of 3;
the 2:4 networks were 0.0 to 1.2 points below the dense network trained as long (mean −0.64 and
−0.38 for LeNet-300-100, −0.37 and −0.52 for LeNet-5). What we found: on LeNet-5, unstructured
pruning at the same sparsity lands within 0.35 points of 2:4 (5 of 5 synthetic seeds), so the gap
is that of pruning a not yet converged network with a short retraining, not of the pattern; on
LeNet-300-100 the pattern itself costs 0.3–0.85 points against unstructured, and it is the first
layer's: 2:4 on the pixel layer alone lost ~1 point after retraining (seeds 1, 2), on the two
other layers alone nothing — a uniform 2-of-4 keeps as many weights on the empty border pixels
as on the strokes. Tried without success: retraining for the whole dense schedule (LeNet-300-100
8 epochs, seeds 1, 2, 4: −0.75, −0.75, −1.0; LeNet-5 4 epochs, seeds 0, 4: −0.1, −1.25). The
paper's networks are converged and their first layers are left dense; ours are miniatures.

The full configuration (``Config()``: LeNet-5 on 20,000 images for 48 epochs in all) has
not been run yet (well over ten minutes of CPU).

Run: ``minicompress reproduce nm [--quick] [--seeds 0-2] [--data mnist_test_split --data-dir DIR]``
or ``python -m minicompress.reproductions.mishra2021_nm_sparsity --quick``.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass, field

import numpy as np

from minicompress import nn, pruning
from minicompress.models import lenet5, lenet_300_100
from minicompress.papers.mishra2021_nm_sparsity import model_bytes, prune_nm
from minicompress.report import Claim, Report
from minicompress.reproductions.experiment import (command_line, figure, load_data, save_figure,
                                                   say, train_lenet)
from minicompress.train import evaluate

NETS = {"mlp": ("LeNet-300-100", lenet_300_100), "lenet5": ("LeNet-5", lenet5)}


@dataclass(frozen=True)
class Config:
    """Defaults: the paper's recipe (retrain with the dense schedule) on the two LeNets."""

    n_train: int = 20_000
    n_test: int = 10_000
    lenet5_images: int = 20_000  # LeNet-5 trains on the first ones (it is 10x slower)
    epochs: dict = field(default_factory=lambda: {"mlp": 15, "lenet5": 6})
    retrain_epochs: dict = field(default_factory=lambda: {"mlp": 15, "lenet5": 6})  # same schedule
    lr: dict = field(default_factory=lambda: {"mlp": 0.05, "lenet5": 0.05})
    decay_last: int = 2  # last epochs of each schedule at lr/10
    batch_size: int = 64
    weight_decay: float = 5e-4
    patterns: tuple = ((2, 4), (1, 4), (4, 8))
    tolerance: float = 0.5  # points: "matches dense" (see two_four_matches_dense)

    @classmethod
    def quick(cls) -> "Config":
        return cls(n_train=8_000, n_test=2_000, lenet5_images=3_000, epochs={"mlp": 8, "lenet5": 4},
                   retrain_epochs={"mlp": 3, "lenet5": 2}, decay_last=1)


def reproduce(*, quick: bool = False, seed: int = 0, data: str | None = None, out_dir=None,
              data_dir=None, verify: bool = True, config: Config | None = None,
              verbose: bool = True) -> Report:
    """Dense, N:M and unstructured LeNet-300-100 and LeNet-5 for one seed; table, figure, claims."""
    cfg = config or (Config.quick() if quick else Config())
    data, out_dir, train_set, test_set = load_data("nm", cfg, data, out_dir, data_dir, verify)
    say("nm", verbose, f"seed {seed}, {data}: {len(train_set[1])} training, {len(test_set[1])} test images")
    rng = np.random.default_rng(seed)
    rows = []
    for net in NETS:
        rows += _one_net(net, cfg, rng, train_set, test_set, verbose)
    notes = [f"{data}: {len(train_set[1])} training images ({min(cfg.lenet5_images, len(train_set[1]))} "
             f"for LeNet-5) and {len(test_set[1])} test images; seed {seed}; dense epochs {cfg.epochs}, "
             f"retraining epochs {cfg.retrain_epochs}"]
    if not verify:
        notes.append(f"{data} files were read without checksum verification (verify=False)")
    report = Report(f"N:M sparsity on {data} (seed {seed}; test accuracy %)", rows, notes=notes,
                    claims=claims(rows, cfg), data=data)
    report.figures.append(_figure(rows, cfg, out_dir / "nm_accuracy.png"))
    if verbose:
        print(report.table())
    return report


def _one_net(net: str, cfg: Config, rng, train_set, test_set, verbose: bool) -> list[dict]:
    name, build = NETS[net]
    if net == "lenet5":
        train_set = tuple(a[:cfg.lenet5_images] for a in train_set)
    loss = nn.SoftmaxCrossEntropy()
    test = lambda m: 100 * evaluate(m, loss, *test_set)["accuracy"]
    train = lambda m, epochs: train_lenet(m, train_set, cfg, rng, epochs=epochs, lr=cfg.lr[net],
                                          verbose=verbose, decay_last=min(cfg.decay_last, epochs))
    say("nm", verbose, f"{name}: dense training, {cfg.epochs[net]} epochs")
    dense = train(build(rng=rng), cfg.epochs[net])
    rows = [dict(net=name, method="dense", pattern="", sparsity=0.0, one_shot=test(dense),
                 retrained=np.nan, bytes=sum(p.data.nbytes for p in dense.parameters()),
                 weight_bytes_ratio=1.0)]
    say("nm", verbose, f"{name}: the dense network trained on as long as the pruned ones retrain")
    rows.append(dict(rows[0], method="dense, trained as long",
                     one_shot=test(train(copy.deepcopy(dense), cfg.retrain_epochs[net]))))
    for n, m in cfg.patterns:
        say("nm", verbose, f"{name}: {n}:{m}, then unstructured at the same sparsity; retraining each")
        structured = copy.deepcopy(dense)
        left_dense = prune_nm(structured, n, m)
        unstructured = copy.deepcopy(dense)
        for p, q in zip(pruning.weights(unstructured), pruning.weights(structured)):
            if q.mask is not None:
                pruning.prune(p, pruning.n_masked(q))  # the same count of zeros, any positions
        for method, model in ((f"{n}:{m}", structured), ("unstructured", unstructured)):
            before = test(model)
            after = test(train(model, cfg.retrain_epochs[net]))
            b = model_bytes(structured, n, m)
            rows.append(dict(net=name, method=method, pattern=f"{n}:{m}",
                             sparsity=pruning.masked_fraction(pruning.weights(model)), one_shot=before,
                             retrained=after, bytes=b["nm"] if method != "unstructured" else np.nan,
                             weight_bytes_ratio=b["nm_weights"] / b["dense_weights"]
                             if method != "unstructured" else np.nan,
                             left_dense=", ".join(left_dense)))
    return rows


# ----- the claims: pure functions of the rows -----------------------------------------------------
def _at(rows, net: str, method: str) -> dict:
    for r in rows:
        if r.get("net") == net and r.get("method") == method:
            return r
    return {}


def _finite(*values) -> bool:
    return all(isinstance(v, (int, float, np.number)) and np.isfinite(v) for v in values)


def claims(rows: list[dict], cfg: Config) -> list[Claim]:
    """Every claim, for both networks, decided on the rows of one seed."""
    out = []
    for key, (name, _) in NETS.items():
        out += [two_four_matches_dense(rows, name, key, cfg.tolerance),
                retraining_recovers(rows, name, key), close_to_unstructured(rows, name, key, cfg.tolerance),
                two_four_bytes(rows, name, key)]
    return out


def two_four_matches_dense(rows, name: str, key: str, points: float = 0.5) -> Claim:
    d = _at(rows, name, "dense, trained as long").get("one_shot", np.nan)
    s = _at(rows, name, "2:4").get("retrained", np.nan)
    return Claim(f"nm.{key}.two_four_matches_dense",
                 f"{name} pruned 2:4 and retrained is at most {points} points below the dense network "
                 f"trained on for the same budget", True, _finite(d, s) and d - s <= points,
                 f"dense {d:.2f}%, 2:4 retrained {s:.2f}% ({s - d:+.2f} points)",
                 "Mishra et al. 2021, Table 1: retrained 2:4 networks match dense accuracy (differences "
                 "of a few tenths of a point either way, [R]) across vision and language models")


def retraining_recovers(rows, name: str, key: str) -> Claim:
    r = _at(rows, name, "2:4")
    a, b = r.get("one_shot", np.nan), r.get("retrained", np.nan)
    return Claim(f"nm.{key}.retraining_recovers",
                 f"{name}: retraining with the 2:4 mask fixed does not lose accuracy over the one-shot "
                 f"2:4 network", False, _finite(a, b) and b >= a,
                 f"one-shot {a:.2f}% -> retrained {b:.2f}%",
                 "Mishra et al. 2021, Sec. 4: prune once, then retrain (the recipe's third step)")


def close_to_unstructured(rows, name: str, key: str, points: float = 0.5) -> Claim:
    s, u = _at(rows, name, "2:4").get("retrained", np.nan), np.nan
    for r in rows:
        if r.get("net") == name and r.get("method") == "unstructured" and r.get("pattern") == "2:4":
            u = r.get("retrained", np.nan)
    return Claim(f"nm.{key}.close_to_unstructured",
                 f"{name}: the 2:4 constraint costs at most {points} points against unstructured "
                 f"magnitude pruning at the same sparsity per layer, both retrained", False,
                 _finite(s, u) and u - s <= points,
                 f"2:4 {s:.2f}%, unstructured {u:.2f}% ({s - u:+.2f} points)",
                 "Mishra et al. 2021: the fixed pattern is constrained, yet retraining recovers dense accuracy")


def two_four_bytes(rows, name: str, key: str) -> Claim:
    r = _at(rows, name, "2:4")
    ratio, total, dense = (r.get("weight_bytes_ratio", np.nan), r.get("bytes", np.nan),
                           _at(rows, name, "dense").get("bytes", np.nan))
    return Claim(f"nm.{key}.two_four_bytes",
                 f"{name}: in the 2:4 format the pruned float32 weights take exactly 17/32 of their dense "
                 f"bytes (2 values + 2 two-bit indices per 4 weights)", False,
                 _finite(ratio) and abs(ratio - 17 / 32) < 1e-12,
                 f"{ratio:.5f} of the weights' bytes; whole model {total:,.0f} of {dense:,.0f} bytes"
                 if _finite(ratio, total, dense) else f"ratio {ratio}",
                 "Mishra et al. 2021, Sec. 2: 2 values plus 2-bit metadata per group of 4")


def _figure(rows, cfg: Config, path):
    fig = figure(10, 4)
    axes = fig.subplots(1, len(NETS))
    for ax, (name, _) in zip(axes, NETS.values()):
        labels = [f"{n}:{m}" for n, m in cfg.patterns]
        x = np.arange(len(labels))
        for i, (method, field_, label) in enumerate((("nm", "one_shot", "N:M one-shot"),
                                                     ("nm", "retrained", "N:M retrained"),
                                                     ("unstructured", "retrained", "unstructured retrained"))):
            values = [(_at(rows, name, p) if method == "nm" else next(
                (r for r in rows if r["net"] == name and r["method"] == "unstructured" and r["pattern"] == p),
                {})).get(field_, np.nan) for p in labels]
            ax.bar(x + (i - 1) * 0.27, values, 0.27, label=label)
        ax.axhline(_at(rows, name, "dense").get("one_shot", np.nan), color="k", lw=0.8, label="dense")
        ax.set_xticks(x, labels)
        ax.set(ylim=(50, 100), ylabel="test accuracy (%)", title=name)
        ax.legend(fontsize=7, loc="lower left")
    return save_figure(fig, path)


if __name__ == "__main__":
    command_line(reproduce, __doc__)
