"""Optimal Brain Surgeon: OBD's sequel keeps the Hessian's cross terms and moves the other weights.

B. Hassibi, D. G. Stork, "Second order derivatives for network pruning: Optimal Brain
Surgeon", NIPS 5 (1992), 1993; the method is in :mod:`minicompress.papers.hassibi1993_obs`.

Reproduced here:

(a) The paper's toy demonstrations. XOR: 2-2-1 sigmoid nets trained on Σ(t − o)² until every
    output is within ``xor_margin`` of its target; OBS (outer-product H⁻¹ by the paper's
    recursion, H₀ = αI), OBD (½ h_kk w², h_kk from Becker & LeCun's recursion) and magnitude
    each choose one weight to delete; a weight is *needed* if the net, with it frozen at zero,
    neither solves XOR as it stands (OBS: after its own update) nor after retraining. MONK's
    problems 1–3, generated from their rules (all 432 patterns are the test set; 124, 169 and
    122 training patterns drawn at random; MONK-3 with 5% of its training labels flipped;
    one-hot inputs, 17), nets trained by backpropagation with weight decay (BPWD), then pruned
    one weight at a time until the training accuracy would drop: the fraction removed.
(b) OBD's networks (14×14 digits, centered, tanh outputs, ±1 targets, squared error, trained
    near a minimum): OBS, OBD and magnitude one-shot at 10–90% deleted: training objective,
    test accuracy, predicted (Σ saliencies) vs actual increase. OBS uses one Gauss–Newton H
    from all ``obd_n_train`` training digits, λ = ``damping`` × mean diag H, and downdates.
(c) Layer-wise OBS (OBC) on LeNet-300-100 and LeNet-5: every layer's rows pruned to 50–95% on
    the dense network's inputs to that layer (H = 2XᵀX + λI, λ = ``layer_damping`` × mean
    diag), no retraining, against layer-wise magnitude pruning.

Paper's numbers. The abstract reports 90%, 76% and 62% fewer weights than BPWD on "three
MONK's problems" without naming them; the paper's Table 1, as we read it (not re-checked
against the PDF here), pairs them as MONK-1 58 → 14 weights (76%, a 17-3-1 net), MONK-2
39 → 15 (62%, 17-2-1) and MONK-3 39 → 4 (90%, 17-2-1), the sizes used here.

Deviations. Our own BPWD nets (full-batch, weight decay per problem: MONK-3's is larger so
the net does not learn the flipped labels); the paper's MONK training sets are fixed files, ours
are drawn at random; pruning stops at the first deletion that lowers the training accuracy, with
no retraining. For (b) and (c) the data are digits instead of the paper's (NETtalk is not
reproduced), and (b) trains on ``obd_n_train`` digits only, since H is formed from all of them:
with H from a quarter of the training set (1,000 of 4,000, MLP 196-20-10, seed 0) OBS moved
along directions that sample calls free and was worse than OBD at every level from 20% up. The
quick run shrinks the networks (MLP 196-10-10 on 1,000 digits, LeNet 784-100-50-10, no CNN and
no LeNet-5) so that the dense inverse Hessian stays cheap.

What held and what did not, with evidence (quick runs, seeds 0–9, synthetic digits | real
digits ``mnist_test_split``; every run's claims give its own numbers):

======================================================  =======  =======
headline claim                                          synth    real
======================================================  =======  =======
XOR: only OBS never deletes a needed weight             8/10     8/10
MONK: OBS removes more than OBD and magnitude           6/10     6/10
MONK-1 / 2 / 3: paper's fraction − 10 points            3/10/1   3/10/1
OBD MLP: OBS's objective below OBD's, 30–90%            2/10     0/10
OBD MLP: predicted/actual within 0.7–1.3 up to 30%      5/10     1/10
layer-wise OBS beats magnitude (LeNet, 50–95%)          7/10     10/10
======================================================  =======  =======

- XOR: OBS never deleted a needed weight (0 of 97 trained nets over the ten seeds) and OBD did
  in 94; magnitude's first choice was removable in 86 of the 97 nets, and in 2 seeds it made
  no mistake at all, so "only OBS" fails there.
- MONK: OBS removes 50–71% (MONK-1), 54% (MONK-2: a 17-2-1 net needs about 17 of its 39 weights
  for the rule) and 38–90% (MONK-3) at unchanged training accuracy, never fewer than OBD; OBD
  or magnitude ties or beats it on MONK-1 or MONK-3 in 4 seeds. The paper's 76/62/90% are
  reached only for MONK-2 (within 10 points) and once for MONK-3.
- OBD's MLP, quick (196-10-10 on 1,000 digits): OBS is below OBD from 30% (real digits: 40%) to
  70% deleted in every seed, but behind it at 90% in 8 synthetic seeds and all real ones: its
  compensating moves leave the quadratic region, where OBD's plain zeroing is safer. Predicted/
  actual at 10–30%: median 0.91 (0.64–1.74) on synthetic digits against OBD's 0.42
  (0.31–0.60); on real digits the actual increases at 10–20% are tiny or negative (OBD first
  deletes weights of blank border pixels) and the ratios scatter (0.72–12.8). At full size the
  headline holds: MNIST (training images reconstructed), seed 0, MLP 196-40-10 on 2,000 digits
  (objective 0.0047, gradient norm 6e-5): OBS below OBD at all seven levels 30–90% (60%
  deleted: 0.0048, OBD 0.0090, magnitude 0.028), predicted/actual 0.2–0.5 (OBD 0.02); CNN:
  below at all levels, 1.2–1.5 (OBD 0.09–0.32). A net further from a minimum shows why the
  prediction falls short (196-10-10, 2,000 digits, 500 full-batch steps, λ = 1e-4 × mean diag
  H, seed 0): at 30% deleted, actual increase 6.1e-4, OBS's Gauss–Newton quadratic 1.6e-4, the
  same δw under the exact Hessian 4.1e-4, first-order term 1.4e-4: the outer-product form drops
  the residual curvature, which is not small away from a minimum.
- Layer-wise: at 90–95% OBS is ahead of magnitude by 7–38 points in every quick seed; at 50% the
  weakly trained quick LeNet (dense 76–83% on synthetic digits) is sometimes *improved* by
  magnitude pruning (up to 2.5 points above OBS, which reproduces the dense outputs), 3 seeds.
  Full run, seed 0: LeNet-300-100 93.1 vs 79.4% at 90% and 87.5 vs 67.8% at 95%; LeNet-5 96.8
  vs 94.8% at 90% but 83.0 vs 87.1% at 95%: every row keeps the same fraction, which leaves
  one weight per 5×5 filter of conv1 (OBC's allocation of the sparsity across rows is not
  implemented).

Run: ``minicompress reproduce obs [--quick] [--data mnist_test_split --data-dir DIR]``.
"""
from __future__ import annotations

import copy
import itertools
import time
from dataclasses import dataclass

import numpy as np

from minicompress import nn, pruning
from minicompress.models import lenet5, lenet_300_100, obd_cnn, obd_mlp, sigmoid_mlp
from minicompress.nn import curvature
from minicompress.nn.im2col import im2col
from minicompress.nn.per_example import gauss_newton
from minicompress.papers import hassibi1993_obs as obs
from minicompress.report import Claim, Report
from minicompress.reproductions.experiment import (command_line, figure, load_data, obd_regime, save_figure,
                                                   say, train_lenet, train_near_minimum, train_to_criterion)
from minicompress.train import evaluate, fit

MONK_SIZES = (3, 3, 2, 3, 4, 2)      # values of the six attributes: 432 patterns, 17 one-hot inputs
MONK_TRAIN = {1: 124, 2: 169, 3: 122}
PAPER_MONK = {1: 76, 2: 62, 3: 90}   # % of the BPWD net's weights OBS removed (Table 1, see above)
METHODS = ("OBS", "OBD", "magnitude")


@dataclass(frozen=True)
class Config:
    """The settings; the paper gives those of the toy problems only in part (see Deviations)."""

    alpha: float = 1e-4               # H₀ = αI of the outer-product recursion (toy nets)
    xor_nets: int = 20
    xor_margin: float = 0.3           # train until every output is within this of its target
    xor_retrain_epochs: int = 1000
    monk_hidden: tuple = (3, 2, 2)
    monk_decay: tuple = (0.01, 0.01, 0.1)
    monk_epochs: int = 2000           # full-batch SGD, lr 0.05, momentum 0.9, on Σ(t − o)²
    n_train: int = 9_000
    n_test: int = 2_000
    hidden: int = 40                  # OBD's MLP 196-40-10 ...
    channels: int = 8                 # ... and CNN (conv 8@5×5, avg-pool 2, fc 200→10); 0: no CNN
    epochs: int = 40
    polish_steps: int = 1000
    obd_n_train: int = 2_000          # their training digits, all of which make the Gauss–Newton H
    damping: float = 1e-2             # λ / mean diag H
    fractions: tuple = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)
    lenet_hidden: tuple = (300, 100)
    lenet5: bool = True
    lenet_epochs: int = 10            # SGD, momentum 0.9, lr 0.05, batch 64 (Caffe's solver)
    batch_size: int = 64
    weight_decay: float = 5e-4
    n_calibration: int = 2_000        # training images whose layer inputs give X (more than 784)
    layer_damping: float = 1e-2
    sparsities: tuple = (0.5, 0.75, 0.9, 0.95)

    @classmethod
    def quick(cls) -> "Config":
        return cls(xor_nets=12, monk_epochs=1000, n_train=2_000, n_test=1_000, hidden=10, channels=0,
                   epochs=30, obd_n_train=1_000, lenet_hidden=(100, 50), lenet5=False,
                   n_calibration=1_000)


def reproduce(*, quick: bool = False, seed: int = 0, data: str | None = None, data_dir=None, verify: bool = True,
              out_dir=None, verbose: bool = True, config: Config | None = None) -> Report:
    """(a) XOR and MONK's problems, (b) OBD's networks, (c) layer-wise OBS; the Report."""
    cfg = config or (Config.quick() if quick else Config())
    data, out_dir, train_set, test_set = load_data("obs", cfg, data, out_dir, data_dir, verify)
    rows = []
    for part in (lambda: xor(cfg, seed, verbose), lambda: monk(cfg, seed, verbose),
                 lambda: obd_networks(cfg, train_set, test_set, seed, verbose),
                 lambda: layerwise(cfg, train_set, test_set, seed, verbose)):
        start = time.perf_counter()
        rows += part()
        say("obs", verbose, f"  ({time.perf_counter() - start:.1f} s)")
    report = Report(f"Optimal Brain Surgeon (Hassibi & Stork 1993): {data}, seed {seed}"
                    f"{' (quick)' if quick else ''}", rows=rows, claims=claims(rows), data=data,
                    notes=[f"(b) OBD MLP 196-{cfg.hidden}-10 on {cfg.obd_n_train} training digits, Gauss–"
                           f"Newton H from all of them, λ = {cfg.damping} × mean diag H; (c) calibration on "
                           f"{cfg.n_calibration} training images, λ = {cfg.layer_damping} × mean diag 2XᵀX"])
    report.figures.append(_figure(rows, out_dir / "obs.png"))
    if verbose:
        print(report.table())
    return report


# ----- (a) XOR ------------------------------------------------------------------------------------
XOR_X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], np.float64)
XOR_T = np.array([[0], [1], [1], [0]], np.float64)


def xor(cfg: Config, seed: int, verbose: bool) -> list[dict]:
    """Which weight each method deletes first from trained XOR nets, and whether it was needed."""
    say("obs", verbose, f"XOR: {cfg.xor_nets} nets 2-2-1")
    loss, needed, nets, solved = nn.MSELoss(reduction="sum"), dict.fromkeys(METHODS, 0), 0, 0
    for k in range(cfg.xor_nets):
        model = sigmoid_mlp((2, 2, 1), init_scale=1.0, rng=np.random.default_rng([seed, k]), dtype=np.float64)
        if not train_to_criterion(model, XOR_X, XOR_T, lr=0.5, momentum=0.9, margin=cfg.xor_margin,
                                  max_epochs=3000)[1]:
            continue
        nets += 1
        w = flat(model)
        h_inv = obs.inverse_hessian(model, loss, XOR_X, XOR_T, damping=cfg.alpha)
        choice = {"OBS": int(np.argmin(obs.saliency(w, h_inv))),
                  "OBD": int(np.argmin(obd_saliency(model, loss, XOR_X, XOR_T))),
                  "magnitude": int(np.argmin(np.abs(w)))}
        moved = obs.delete(w, h_inv, choice["OBS"])[0]
        removable = {}
        if solves_xor(with_weights(model, moved, choice["OBS"])):
            removable[choice["OBS"]], solved = True, solved + 1
        for method, q in choice.items():
            if q not in removable:  # retrain with the weight frozen at zero
                retrained = with_weights(model, w, q)
                removable[q] = train_to_criterion(retrained, XOR_X, XOR_T, lr=0.5, momentum=0.9,
                                                  margin=cfg.xor_margin, max_epochs=cfg.xor_retrain_epochs)[1]
            needed[method] += not removable[q]
    return [dict(experiment="xor", method=m, nets=nets, needed_deleted=needed[m],
                 **({"solves_without_retraining": solved} if m == "OBS" else {})) for m in METHODS]


def solves_xor(model) -> bool:
    return bool(np.all((model(XOR_X) > 0.5) == (XOR_T > 0.5)))


# ----- (a) MONK's problems ------------------------------------------------------------------------
def monk_data(problem: int, rng):
    """(x_train, y_train, x_test, y_test): one-hot (n, 17) inputs, 0/1 labels (all 432 patterns
    are the test set); MONK-3's training labels have 5% flipped."""
    a = np.array(list(itertools.product(*[range(1, s + 1) for s in MONK_SIZES])))
    a1, a2, a3, a4, a5, a6 = a.T
    rule = {1: (a1 == a2) | (a5 == 1), 2: (a == 1).sum(axis=1) == 2,
            3: ((a5 == 3) & (a4 == 1)) | ((a5 != 4) & (a2 != 3))}[problem]
    x = np.concatenate([np.eye(s)[a[:, i] - 1] for i, s in enumerate(MONK_SIZES)], axis=1)
    train = rng.choice(len(x), MONK_TRAIN[problem], replace=False)
    y = rule[train].astype(np.int64)
    if problem == 3:
        flip = rng.choice(len(train), round(0.05 * len(train)), replace=False)
        y[flip] = 1 - y[flip]
    return x[train], y, x, rule.astype(np.int64)


def monk(cfg: Config, seed: int, verbose: bool) -> list[dict]:
    """BPWD nets on MONK-1, 2, 3, pruned by each method while the training accuracy holds."""
    rows, loss = [], nn.MSELoss(reduction="sum")
    for problem in (1, 2, 3):
        rng = np.random.default_rng([seed, problem])
        x, y, x_test, y_test = monk_data(problem, rng)
        target, hidden = y[:, None].astype(np.float64), cfg.monk_hidden[problem - 1]
        model = sigmoid_mlp((17, hidden, 1), rng=rng, dtype=np.float64)
        say("obs", verbose, f"MONK-{problem}: 17-{hidden}-1 on {len(x)} patterns")
        sgd = nn.SGD(model.parameters(), lr=0.05, momentum=0.9, weight_decay=cfg.monk_decay[problem - 1])
        fit(model, loss, sgd, x, target, epochs=cfg.monk_epochs, batch_size=len(x), shuffle=False, verbose=False)
        accuracy = lambda m, xs, ys: float(np.mean((m(xs)[:, 0] > 0.5) == ys))  # noqa: E731
        base, w = accuracy(model, x, y), flat(model)
        h_inv = obs.inverse_hessian(model, loss, x, target, damping=cfg.alpha)
        scores = {"OBD": obd_saliency(model, loss, x, target), "magnitude": np.abs(w)}
        for method in METHODS:
            current, inverse, kept, removed = w, h_inv, np.ones(w.size, bool), 0
            order = np.argsort(scores[method], kind="stable") if method != "OBS" else None
            while removed < w.size - 1:
                q = int(np.argmin(obs.saliency(current, inverse))) if method == "OBS" else int(order[removed])
                trial, trial_inverse = obs.delete(current, inverse, q) if method == "OBS" else (current, None)
                trial_kept = kept.copy()
                trial_kept[q] = False
                if accuracy(with_weights(model, trial, ~trial_kept), x, y) < base:
                    break
                current, inverse, kept, removed = trial, trial_inverse, trial_kept, removed + 1
            pruned = with_weights(model, current, ~kept)
            rows.append(dict(experiment=f"MONK-{problem}", method=method, weights=w.size,
                             removed_pct=100 * removed / w.size, train_accuracy=accuracy(pruned, x, y),
                             test_accuracy=accuracy(pruned, x_test, y_test),
                             dense_accuracy=accuracy(model, x_test, y_test), paper_pct=PAPER_MONK[problem]))
    return rows


# ----- (b) OBD's networks -------------------------------------------------------------------------
def obd_networks(cfg: Config, train_set, test_set, seed: int, verbose: bool) -> list[dict]:
    """OBS vs OBD vs magnitude, one-shot, on OBD's MLP (and CNN)."""
    (x, y) = train_set[0][:cfg.obd_n_train], train_set[1][:cfg.obd_n_train]
    (x, t, _), (x_test, t_test, _) = obd_regime((x, y), test_set)
    loss, rows = nn.MSELoss(), []
    for kind in ("mlp", "cnn") if cfg.channels else ("mlp",):
        rng = np.random.default_rng([seed, 7])
        model = obd_mlp(rng, hidden=cfg.hidden) if kind == "mlp" else obd_cnn(rng, channels=cfg.channels)
        norm = train_near_minimum(model, loss, x, t, epochs=cfg.epochs, polish_steps=cfg.polish_steps,
                                  seed=seed)
        G = gauss_newton(model, loss, x, t)  # float32 products (BLAS speed), summed in float64
        model = model.astype(np.float64)
        x64, t64, xt64, tt64 = (a.astype(np.float64) for a in (x, t, x_test, t_test))
        base, w = loss(model(x64), t64), flat(model)
        say("obs", verbose, f"OBD {kind}: {w.size} parameters, objective {base:.4f}, gradient {norm:.1e}")
        h_inv = obs.inverse(G, cfg.damping * float(np.mean(np.diagonal(G))))
        del G
        saliency = obd_saliency(model, loss, x64, t64)
        current, predicted, done = w, 0.0, 0
        for fraction in cfg.fractions:
            k = round(fraction * w.size)
            current, h_inv, increase = obs.prune(current, h_inv, k - done)
            predicted, done = predicted + increase, k
            for method in METHODS:
                if method == "OBS":
                    weights, guess = current, predicted
                else:
                    order = np.argsort(saliency if method == "OBD" else np.abs(w), kind="stable")[:k]
                    weights = np.where(np.isin(np.arange(w.size), order), 0.0, w)
                    guess = float(saliency[order].sum())
                pruned = with_weights(model, weights, weights == 0)
                value = loss(pruned(x64), t64)
                rows.append(dict(experiment=f"OBD {kind}", method=method, deleted=fraction, objective=value,
                                 test_accuracy=evaluate(pruned, loss, xt64, tt64)["accuracy"],
                                 predicted=guess if method != "magnitude" else np.nan, actual=value - base))
    return rows


# ----- (c) layer-wise OBS -------------------------------------------------------------------------
def layerwise(cfg: Config, train_set, test_set, seed: int, verbose: bool) -> list[dict]:
    """Every weight layer pruned by layer-wise OBS or by magnitude, no retraining."""
    (x, y), (x_test, y_test) = train_set, test_set
    name = f"LeNet-{'-'.join(map(str, cfg.lenet_hidden))}"
    nets = {name: lambda r: lenet_300_100(r, hidden=cfg.lenet_hidden)}
    if cfg.lenet5:
        nets["LeNet-5"] = lenet5
    rows, loss = [], nn.SoftmaxCrossEntropy()
    for name, build in nets.items():
        rng = np.random.default_rng([seed, 9])
        model = train_lenet(build(rng), (x, y), cfg, rng, epochs=cfg.lenet_epochs, lr=0.05, verbose=False)
        index = [i for i, m in enumerate(model.layers) if isinstance(m, (nn.Linear, nn.Conv2d))]
        paths, h = {}, x[:cfg.n_calibration]
        for i, layer in enumerate(model.layers):  # each weight layer, on its inputs in the dense net
            if i in index:
                X, W = _layer_inputs(layer, h), layer.weight.data.reshape(len(layer.weight.data), -1)
                lam = cfg.layer_damping * 2 * float(np.einsum("nd,nd->", X, X, dtype=np.float64)) / X.shape[1]
                say("obs", verbose, f"{name}: layer-wise OBS on {W.shape[0]} × {W.shape[1]}, X {X.shape}")
                paths[i] = obs.layerwise_path(W, X, cfg.sparsities, damping=lam)
            h = layer(h)
        dense = evaluate(model, loss, x_test, y_test)["accuracy"]
        for j, sparsity in enumerate(cfg.sparsities):
            for method in ("OBS", "magnitude"):
                pruned = copy.deepcopy(model)
                for i in index:
                    weight = pruned.layers[i].weight
                    if method == "magnitude":
                        pruning.prune(weight, sparsity)
                    else:
                        W_new, mask = paths[i][j]
                        weight.data, weight.mask = W_new.reshape(weight.shape), mask.reshape(weight.shape)
                rows.append(dict(experiment=f"layer-wise {name}", method=method, deleted=sparsity,
                                 test_accuracy=evaluate(pruned, loss, x_test, y_test)["accuracy"],
                                 dense_accuracy=dense))
    return rows


def _layer_inputs(layer, h) -> np.ndarray:
    """X (n', d) of a weight layer: the rows its weight rows multiply (conv: im2col windows)."""
    if isinstance(layer, nn.Linear):
        return h.reshape(len(h), -1)
    return im2col(h, layer.kernel_size, layer.stride, layer.padding).T  # (oh·ow·n, c·kh·kw)


# ----- shared ---------------------------------------------------------------------------------------
def flat(model) -> np.ndarray:
    return np.concatenate([p.data.ravel() for p in model.parameters()]).astype(np.float64)


def with_weights(model, w, deleted):
    """A copy of ``model`` with flat weights ``w``; ``deleted`` (a flat bool mask, or one index)
    marks entries masked to zero and frozen."""
    model, start = copy.deepcopy(model), 0
    gone = np.zeros(w.size, bool)
    gone[deleted] = True
    for p in model.parameters():
        size = p.data.size
        p.data = w[start:start + size].reshape(p.shape).astype(p.data.dtype)
        p.mask = (~gone[start:start + size]).reshape(p.shape).astype(p.data.dtype)
        start += size
    return model


def obd_saliency(model, loss, x, t) -> np.ndarray:
    """OBD's ½ h_kk w_k², h_kk from Becker & LeCun's recursion (Levenberg–Marquardt form), flat."""
    h = np.concatenate([a.ravel() for a in curvature.diag_lecun(model, loss, x, t)])
    return 0.5 * h * flat(model) ** 2


# ----- claims: small pure functions of the rows ----------------------------------------------------
def claims(rows: list[dict]) -> list[Claim]:
    out = [xor_claim(rows), *monk_claims(rows), *obd_claims(rows, "OBD mlp", headline=True)]
    if any(r["experiment"] == "OBD cnn" for r in rows):
        out += obd_claims(rows, "OBD cnn", headline=False)
    return out + [layerwise_claim(rows)]


def _finite(*values) -> bool:
    return all(isinstance(v, (int, float, np.floating, np.integer)) and np.isfinite(v) for v in values)


def xor_claim(rows) -> Claim:
    by = {r["method"]: r for r in rows if r["experiment"] == "xor"}
    nets = by.get("OBS", {}).get("nets", 0)
    wrong = {m: by.get(m, {}).get("needed_deleted", np.nan) for m in METHODS}
    holds = _finite(nets, *wrong.values()) and nets > 0 and wrong["OBS"] == 0 \
        and wrong["OBD"] >= 1 and wrong["magnitude"] >= 1
    return Claim("obs.xor.only_obs_deletes_a_removable_weight",
                 "XOR 2-2-1: OBS's first deletion is never a needed weight, while OBD and magnitude each "
                 "delete a needed one in at least one trained net", True, holds,
                 f"needed weight deleted in {wrong['OBS']}/{nets} nets by OBS, {wrong['OBD']} by OBD, "
                 f"{wrong['magnitude']} by magnitude",
                 "abstract: only OBS deletes the correct weights from a trained XOR network in every case")


def monk_claims(rows) -> list[Claim]:
    get = {(r["experiment"], r["method"]): r for r in rows if r["experiment"].startswith("MONK")}
    removed = {(p, m): get.get((f"MONK-{p}", m), {}).get("removed_pct", np.nan)
               for p in (1, 2, 3) for m in METHODS}
    more = all(_finite(removed[p, "OBS"], removed[p, "OBD"], removed[p, "magnitude"])
               and removed[p, "OBS"] > max(removed[p, "OBD"], removed[p, "magnitude"]) for p in (1, 2, 3))
    out = [Claim("obs.monk.more_than_obd_and_magnitude",
                 "MONK-1, 2, 3: at unchanged training accuracy OBS removes more weights than OBD and than "
                 "magnitude pruning, on each problem", True, more,
                 "; ".join(f"MONK-{p}: OBS {removed[p, 'OBS']:.0f}%, OBD {removed[p, 'OBD']:.0f}%, magnitude "
                           f"{removed[p, 'magnitude']:.0f}%" for p in (1, 2, 3)),
                 "abstract: OBS permits the pruning of more weights than other methods for the same error "
                 "on the training set")]
    for p in (1, 2, 3):
        ours = removed[p, "OBS"]
        out.append(Claim(f"obs.monk{p}.fraction_removed",
                         f"MONK-{p}: OBS removes at least the paper's fraction of the BPWD net's weights minus "
                         f"10 points, at unchanged training accuracy", True,
                         _finite(ours) and ours >= PAPER_MONK[p] - 10, f"{ours:.0f}% of the weights removed",
                         f"{PAPER_MONK[p]}% (Table 1 as read; the abstract: 90/76/62% on three MONK's problems)"))
    return out


def obd_claims(rows, experiment: str, headline: bool) -> list[Claim]:
    get = {(r["method"], r["deleted"]): r for r in rows if r["experiment"] == experiment}
    levels = sorted({d for _, d in get})
    high, low = [d for d in levels if d >= 0.3 - 1e-9], [d for d in levels if d <= 0.3 + 1e-9]
    objective = lambda m, d: get.get((m, d), {}).get("objective", np.nan)  # noqa: E731
    below = [d for d in high if _finite(objective("OBS", d), objective("OBD", d))
             and objective("OBS", d) < objective("OBD", d)]

    def ratio(m, d):
        r = get.get((m, d), {})
        p, a = r.get("predicted", np.nan), r.get("actual", np.nan)
        return p / a if _finite(p, a) and a > 0 else np.nan
    ratios = {m: [ratio(m, d) for d in low] for m in ("OBS", "OBD")}
    within = bool(low) and all(_finite(q) and 0.7 <= q <= 1.3 for q in ratios["OBS"])
    better = bool(low) and all(_finite(a, b) and a > 0 and b > 0 and abs(np.log(a)) < abs(np.log(b))
                               for a, b in zip(ratios["OBS"], ratios["OBD"]))
    net = experiment.split()[-1]
    text = lambda qs: ", ".join("nan" if not _finite(q) else f"{q:.2f}" for q in qs)  # noqa: E731
    return [Claim(f"obs.{net}.below_obd", f"OBD's {net}: OBS's training objective is below OBD's at every "
                  f"deletion level from 30% to {100 * max(levels, default=0):.0f}% (one-shot, no retraining)",
                  headline, bool(high) and len(below) == len(high),
                  f"below at {len(below)} of {len(high)} levels: " + ", ".join(f"{d:.0%}" for d in below),
                  "the issue's target (OBS keeps the cross terms OBD drops)"),
            Claim(f"obs.{net}.prediction", f"OBD's {net}: OBS's predicted increase Σ L_q over the actual increase "
                  f"of the objective is within 0.7–1.3 at every level up to 30% deleted", headline, within,
                  "predicted/actual at " + ", ".join(f"{d:.0%}" for d in low) + ": " + text(ratios["OBS"])
                  + " (OBD's ½Σh w²: " + text(ratios["OBD"]) + ")",
                  "the issue's target; OBD reports agreement up to ≈30% deleted (its Fig. 1b)"),
            Claim(f"obs.{net}.predicts_better_than_obd", f"OBD's {net}: OBS's predicted/actual is closer to 1 "
                  f"than OBD's at every level up to 30%", False, better, text(ratios["OBS"]) + " vs " + text(ratios["OBD"]),
                  "the issue: OBS should predict far better than OBD")]


def layerwise_claim(rows) -> Claim:
    nets = sorted({r["experiment"] for r in rows if r["experiment"].startswith("layer-wise")})
    get = {(r["experiment"], r["method"], r["deleted"]): r["test_accuracy"]
           for r in rows if r["experiment"] in nets}
    pairs = [(n, s, get.get((n, "OBS", s), np.nan), get.get((n, "magnitude", s), np.nan))
             for n in nets for s in sorted({k[2] for k in get if k[0] == n})]
    holds = bool(pairs) and all(_finite(a, b) and (a > b if s >= 0.9 else a >= b - 0.005)
                                for _, s, a, b in pairs)
    return Claim("obs.layerwise.beats_magnitude", "Layer-wise OBS (OBC) without retraining: test accuracy above "
                 "layer-wise magnitude pruning's at 90% and 95% sparsity, and not more than 0.5 points below it "
                 "at 50–75%, on each network", True, holds,
                 "; ".join(f"{n[11:]} {s:.0%}: {100 * a:.1f}% vs {100 * b:.1f}%" for n, s, a, b in pairs),
                 "Dong et al. 2017, Frantar & Alistarh 2022: layer-wise OBS beats magnitude without retraining")


def _figure(rows, path):
    """Objective and predicted vs actual on OBD's MLP; layer-wise accuracy; MONK fractions."""
    fig = figure(16, 4)
    axes = fig.subplots(1, 4)
    colors = dict(zip(METHODS, ("C0", "C1", "C2")))
    mlp = [r for r in rows if r["experiment"] == "OBD mlp"]
    for m in METHODS:
        pts = [r for r in mlp if r["method"] == m]
        axes[0].plot([100 * r["deleted"] for r in pts], [10 * np.log10(r["objective"]) for r in pts], "o-",
                     color=colors[m], label=m)
        if m != "magnitude":
            axes[1].loglog([r["actual"] for r in pts], [r["predicted"] for r in pts], "o", color=colors[m],
                           label=m)
    positive = [r["actual"] for r in mlp if r["actual"] > 0] or [1e-6, 1.0]
    lim = [min(positive), max(positive)]
    axes[1].loglog(lim, lim, "k:", label="predicted = actual")
    axes[0].set(title="OBD's MLP, one-shot", xlabel="% of parameters deleted", ylabel="training objective (dB)")
    axes[1].set(title="increase of the objective", xlabel="actual", ylabel="predicted")
    for name in sorted({r["experiment"] for r in rows if r["experiment"].startswith("layer-wise")}):
        for m, style in (("OBS", "-"), ("magnitude", "--")):
            pts = [r for r in rows if r["experiment"] == name and r["method"] == m]
            axes[2].plot([100 * r["deleted"] for r in pts], [100 * r["test_accuracy"] for r in pts],
                         "o" + style, label=f"{name[11:]}, {m}")
    axes[2].set(title="layer-wise, no retraining", xlabel="sparsity %", ylabel="test accuracy %")
    monk = [r for r in rows if r["experiment"].startswith("MONK")]
    for j, m in enumerate(METHODS):
        pts = [r for r in monk if r["method"] == m]
        axes[3].bar(np.arange(len(pts)) + 0.2 * j, [r["removed_pct"] for r in pts], 0.2, color=colors[m],
                    label=m)
    axes[3].bar(np.arange(3) + 0.6, [PAPER_MONK[p] for p in (1, 2, 3)], 0.2, color="k", label="paper (OBS)")
    axes[3].set(title="MONK's problems", xticks=np.arange(3) + 0.3,
                xticklabels=["MONK-1", "MONK-2", "MONK-3"], ylabel="% of weights removed")
    for ax in axes:
        ax.legend(fontsize=7)
    return save_figure(fig, path)


if __name__ == "__main__":
    command_line(reproduce, __doc__)
