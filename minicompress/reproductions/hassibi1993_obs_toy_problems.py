"""Optimal Brain Surgeon's toy problems, part (a) of :mod:`minicompress.reproductions.hassibi1993_obs`
(that module's docstring says what is reproduced, the deviations and what held; ``minicompress
reproduce obs`` runs this part with the others).

XOR: trained 2-2-1 sigmoid nets; OBS, OBD and magnitude each delete one weight, *needed* if the
net then solves XOR neither as it stands (OBS: after its update) nor after retraining. MONK's
problems 1–3: nets trained by backpropagation with weight decay (BPWD), pruned one weight at a
time while the training accuracy holds.
"""
from __future__ import annotations

import numpy as np

from minicompress import nn
from minicompress.datasets.toy import monk
from minicompress.models import sigmoid_mlp
from minicompress.papers import hassibi1993_obs as obs
from minicompress.papers.lecun1989_obd import saliencies
from minicompress.pruning.masks import flat_parameters as flat, with_parameters as with_weights
from minicompress.report import Claim
from minicompress.reproductions.experiment import finite, flat as concatenated, say, train_to_criterion
from minicompress.train import fit

PAPER_MONK = {1: 76, 2: 62, 3: 90}   # % of the BPWD net's weights OBS removed (Table 1, as read)
METHODS = ("OBS", "OBD", "magnitude")


def obd_saliency(model, loss, x, t) -> np.ndarray:
    """OBD's ½ h_kk w_k² (Becker & LeCun's h_kk, Levenberg–Marquardt form), flat (P,)."""
    return concatenated(saliencies(model, loss, x, t))


# ----- (a) XOR and MONK's problems -----------------------------------------------------------------
XOR_X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], np.float64)
XOR_T = np.array([[0], [1], [1], [0]], np.float64)


def xor(cfg, seed: int, verbose: bool) -> list[dict]:
    """Which weight each method deletes first from trained XOR nets, and whether it was needed."""
    say("obs", verbose, f"XOR: {cfg.xor_nets} nets 2-2-1")
    loss, needed, nets, solved = nn.MSELoss(reduction="sum"), dict.fromkeys(METHODS, 0), 0, 0
    train = lambda m, epochs: train_to_criterion(m, XOR_X, XOR_T, lr=0.5, momentum=0.9,  # noqa: E731
                                                 margin=cfg.xor_margin, max_epochs=epochs)[1]
    for k in range(cfg.xor_nets):
        model = sigmoid_mlp((2, 2, 1), init_scale=1.0, rng=np.random.default_rng([seed, k]), dtype=np.float64)
        if not train(model, 3000):
            continue
        nets += 1
        w = flat(model)
        h_inv = obs.inverse_hessian(model, loss, XOR_X, XOR_T, damping=cfg.alpha)
        choice = {"OBS": int(np.argmin(obs.saliency(w, h_inv))),
                  "OBD": int(np.argmin(obd_saliency(model, loss, XOR_X, XOR_T))),
                  "magnitude": int(np.argmin(np.abs(w)))}
        removable = {}
        moved = with_weights(model, obs.delete(w, h_inv, choice["OBS"])[0], choice["OBS"])
        if np.all((moved(XOR_X) > 0.5) == (XOR_T > 0.5)):  # solves XOR after OBS's update
            removable[choice["OBS"]], solved = True, solved + 1
        for method, q in choice.items():
            if q not in removable:  # retrain with the weight frozen at zero
                removable[q] = train(with_weights(model, w, q), cfg.xor_retrain_epochs)
            needed[method] += not removable[q]
    return [dict(experiment="xor", method=m, nets=nets, needed_deleted=needed[m],
                 **({"solves_without_retraining": solved} if m == "OBS" else {})) for m in METHODS]


def monk_pruning(cfg, seed: int, verbose: bool) -> list[dict]:
    """BPWD nets on MONK-1, 2, 3, pruned by each method while the training accuracy holds."""
    rows, loss = [], nn.MSELoss(reduction="sum")
    accuracy = lambda m, xs, ys: float(np.mean((m(xs)[:, 0] > 0.5) == ys))  # noqa: E731
    for problem in (1, 2, 3):
        rng = np.random.default_rng([seed, problem])
        x, y, x_test, y_test = monk(problem, rng)
        target, hidden = y[:, None].astype(np.float64), cfg.monk_hidden[problem - 1]
        model = sigmoid_mlp((17, hidden, 1), rng=rng, dtype=np.float64)
        say("obs", verbose, f"MONK-{problem}: 17-{hidden}-1 on {len(x)} patterns")
        sgd = nn.SGD(model.parameters(), lr=0.05, momentum=0.9, weight_decay=cfg.monk_decay[problem - 1])
        fit(model, loss, sgd, x, target, epochs=cfg.monk_epochs, batch_size=len(x), shuffle=False, verbose=False)
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


# ----- claims: small pure functions of the rows ----------------------------------------------------
def xor_claim(rows) -> Claim:
    by = {r["method"]: r for r in rows if r["experiment"] == "xor"}
    nets = by.get("OBS", {}).get("nets", 0)
    wrong = {m: by.get(m, {}).get("needed_deleted", np.nan) for m in METHODS}
    holds = finite(nets, *wrong.values()) and nets > 0 and wrong["OBS"] == 0 \
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
    more = all(finite(removed[p, "OBS"], removed[p, "OBD"], removed[p, "magnitude"])
               and removed[p, "OBS"] > max(removed[p, "OBD"], removed[p, "magnitude"]) for p in (1, 2, 3))
    return [Claim("obs.monk.more_than_obd_and_magnitude",
                  "MONK-1, 2, 3: at unchanged training accuracy OBS removes more weights than OBD and than "
                  "magnitude pruning, on each problem", True, more,
                  "; ".join(f"MONK-{p}: OBS {removed[p, 'OBS']:.0f}%, OBD {removed[p, 'OBD']:.0f}%, magnitude "
                            f"{removed[p, 'magnitude']:.0f}%" for p in (1, 2, 3)),
                  "abstract: OBS permits the pruning of more weights than other methods for the same error "
                  "on the training set")] + [
        Claim(f"obs.monk{p}.fraction_removed", f"MONK-{p}: OBS removes at least the paper's fraction of the "
              f"BPWD net's weights minus 10 points, at unchanged training accuracy", True,
              finite(removed[p, "OBS"]) and removed[p, "OBS"] >= PAPER_MONK[p] - 10,
              f"{removed[p, 'OBS']:.0f}% of the weights removed",
              f"{PAPER_MONK[p]}% (Table 1 as read; the abstract: 90/76/62% on three MONK's problems)")
        for p in (1, 2, 3)]


def monk_panel(ax, rows, colors) -> None:
    """Bars: the % of weights each method removed on MONK-1, 2, 3, and the paper's (OBS)."""
    for j, m in enumerate(METHODS):
        pts = [r for r in rows if r["experiment"].startswith("MONK") and r["method"] == m]
        ax.bar(np.arange(len(pts)) + 0.2 * j, [r["removed_pct"] for r in pts], 0.2, color=colors[m], label=m)
    ax.bar(np.arange(3) + 0.6, [PAPER_MONK[p] for p in (1, 2, 3)], 0.2, color="k", label="paper (OBS)")
