"""What the reproductions share: the command line, data, progress, statistics, the training
recipes that several papers use, and figures.

Running     :func:`command_line` (every ``python -m minicompress.reproductions.<file>``),
            :func:`load_data` (the one loader: every dataset name the CLI documents), :func:`say`.
Rows        :func:`row`, :func:`value_of` and :func:`field` (a number of the rows, NaN if absent).
Statistics  mean, std, median, iqr, pct, spearman, :func:`finite` (claims), :func:`paired_interval`
            (Student's t interval of paired differences); they return NaN where there is nothing
            to report (no values, fewer than two for a spread, a constant ranking).
Recipes     :func:`train_lenet` (Caffe's LeNet solver), :func:`train_to_criterion` (the small
            sigmoid nets of 1988–1990, full-batch to a margin), :func:`deletion_accuracy`,
            :func:`obd_regime` and :func:`train_near_minimum` (Optimal Brain Damage's regime,
            shared by the OBD and OBS reproductions).
Figures     :func:`figure` (matplotlib imported only when drawing), :func:`save_figure`.
"""
from __future__ import annotations

import argparse
import copy
import sys
from pathlib import Path

import numpy as np

from minicompress import nn, pruning
from minicompress.files import atomic_write
from minicompress.pruning.gates import trainable
from minicompress.report import Report
from minicompress.train import fit

DATASETS = ("synth_digits", "mnist", "fashion_mnist", "mnist_test_split")


# ----- running ------------------------------------------------------------------------------------
def command_line(reproduce, doc: str, argv=None) -> Report:
    """``python -m minicompress.reproductions.<file>``: the options every reproduction shares,
    then its ``reproduce``. ``doc`` is the module docstring (its first paragraph describes it)."""
    parser = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="the small, fast setting")
    parser.add_argument("--seed", type=int, default=0, help="first seed (default 0)")
    parser.add_argument("--data", default=None, help=", ".join(DATASETS) + " (default synth_digits)")
    parser.add_argument("--data-dir", default=None, help="folder with the dataset's files")
    parser.add_argument("--no-verify", action="store_true",
                        help="read local files whatever their checksum (known provenance only)")
    parser.add_argument("--out", default=None, help="folder for the figures")
    args = parser.parse_args(argv)
    return reproduce(quick=args.quick, seed=args.seed, data=args.data, out_dir=args.out,
                     data_dir=args.data_dir, verify=not args.no_verify)


def say(tag: str, verbose: bool, text: str) -> None:
    """Progress of a long reproduction on stderr, as ``[tag] text`` (nothing if not verbose)."""
    if verbose:
        print(f"[{tag}] {text}", file=sys.stderr, flush=True)


def load_data(tag: str, cfg, data, out_dir, data_dir, verify: bool) -> tuple:
    """(data name, output folder, train set, test set): ``data`` ("synth_digits" by default, or
    any name :func:`minicompress.datasets.load_train_test` knows) with cfg.n_train and cfg.n_test
    examples; the folder (default out/<tag>) is created. The real digits offline
    ("mnist_test_split") hold 8,000 training and 2,000 test images: a config that asks for more
    gets all of them."""
    from minicompress.datasets import MNIST_TEST_SPLIT, load_train_test  # here: no work at import
    data = data or "synth_digits"
    out_dir = Path(out_dir or Path("out") / tag)
    out_dir.mkdir(parents=True, exist_ok=True)
    n_train, n_test = cfg.n_train, cfg.n_test
    if data == MNIST_TEST_SPLIT:
        n_train = None if n_train is None else min(n_train, SPLIT_SIZES[0])
        n_test = None if n_test is None else min(n_test, SPLIT_SIZES[1])
    return (data, out_dir, *load_train_test(data, n_train=n_train, n_test=n_test,
                                            data_dir=data_dir, verify=verify))


SPLIT_SIZES = (8_000, 2_000)  # the real MNIST test set split by datasets.load_train_test


# ----- statistics ---------------------------------------------------------------------------------
def flat(arrays) -> np.ndarray:
    """The arrays of a list (one per parameter or gate) raveled and concatenated, in order."""
    return np.concatenate([np.asarray(a).ravel() for a in arrays])


def row(experiment: str, method: str, measure: str, value, spread=np.nan, n=None) -> dict:
    """One number of the report (the experiments measure different things: one row each)."""
    return dict(experiment=experiment, method=method, measure=measure, value=float(value),
                spread=float(spread), n="" if n is None else int(n))


def value_of(rows, experiment: str, method: str, measure: str, key: str = "value"):
    """``key`` of the first of ``rows`` (made by :func:`row`) with this experiment, method and
    measure; NaN if there is none (a claim on it then does not hold)."""
    for r in rows:
        if (r.get("experiment"), r.get("method"), r.get("measure")) == (experiment, method, measure):
            return r.get(key, np.nan)
    return np.nan


def field(rows, key: str, **match) -> float:
    """``key`` of the first of ``rows`` (dicts of any fields) whose fields equal ``match``, as a
    float; NaN if there is no such row or its ``key`` is not a number."""
    for r in rows:
        if all(r.get(name) == wanted for name, wanted in match.items()):
            value = r.get(key)
            return float(value) if isinstance(value, (int, float)) else np.nan
    return np.nan


def pct(flags) -> float:
    """The percentage of true flags, 100·count/n (one rounding)."""
    return float(100 * np.sum(flags) / np.size(flags)) if np.size(flags) else np.nan


def finite(*values) -> bool:
    """Are all ``values`` finite real numbers? (A claim on NaN, inf or a missing value fails.)"""
    return all(isinstance(v, (int, float, np.number)) and np.isfinite(v) for v in values)


def mean(values) -> float:
    return float(np.mean(values)) if len(values) else np.nan


def std(values) -> float:
    """Population std over nets or seeds; NaN for fewer than two (no spread to report)."""
    return float(np.std(values)) if len(values) > 1 else np.nan


def median(values) -> float:
    return float(np.median(values)) if len(values) else np.nan


def iqr(values) -> float:
    return float(np.subtract(*np.percentile(values, [75, 25]))) if len(values) else np.nan


def spearman(a, b) -> float:
    """Spearman's rank correlation; NaN if either side is constant (no ranking to compare)."""
    from scipy.stats import spearmanr  # imported here: scipy.stats takes a while to import
    a, b = np.asarray(a), np.asarray(b)
    if a.size < 2 or np.ptp(a) == 0 or np.ptp(b) == 0:
        return float("nan")
    return float(spearmanr(a, b)[0])


def paired_interval(a, b, confidence: float = 0.95) -> tuple[float, float, float]:
    """(mean, low, high) of the paired differences a − b with Student's t interval at
    ``confidence``: mean ± t_{n−1} · s/√n, s the sample std (n − 1). NaN for fewer than two
    pairs or any non-finite value."""
    from scipy.stats import t  # imported here: scipy.stats takes a while to import
    d = np.asarray(a, np.float64) - np.asarray(b, np.float64)
    if d.ndim != 1 or not 0 < confidence < 1:
        raise ValueError(f"paired_interval: expected two equal-length 1-D sequences and a confidence "
                         f"in (0, 1), got shapes {np.shape(a)}, {np.shape(b)} and {confidence!r}")
    if d.size < 2 or not np.isfinite(d).all():
        return float("nan"), float("nan"), float("nan")
    half = t.ppf((1 + confidence) / 2, d.size - 1) * d.std(ddof=1) / np.sqrt(d.size)
    return float(d.mean()), float(d.mean() - half), float(d.mean() + half)


# ----- recipes ------------------------------------------------------------------------------------
def train_lenet(model, train_set, cfg, rng, *, epochs: int, lr: float, verbose: bool = True,
                wrap=None, decay_last: int = 0) -> nn.Sequential:
    """Caffe's LeNet solver: SGD with momentum 0.9, weight decay cfg.weight_decay, batches of
    cfg.batch_size; the last ``decay_last`` epochs at lr/10; ``wrap`` wraps the optimizer."""
    opt = nn.SGD(model.parameters(), lr=lr, momentum=0.9, weight_decay=cfg.weight_decay)
    decay = lambda record: setattr(opt, "lr", lr / 10) if record["epoch"] == epochs - decay_last else None
    fit(model, nn.SoftmaxCrossEntropy(), wrap(opt) if wrap else opt, *train_set, epochs=epochs,
        batch_size=cfg.batch_size, rng=rng, verbose=verbose, on_epoch=decay if decay_last else None)
    return model


def criterion_met(model, x, target, margin: float) -> bool:
    """Is every output within ``margin`` of its target?"""
    return bool(np.abs(model(x) - target).max() < margin)


def train_to_criterion(model, x, target, *, lr: float, momentum: float, margin: float,
                       max_epochs: int, on_step=None) -> tuple[int, bool]:
    """Full-batch gradient descent on Σ(t − o)² (gates, if any, left alone) until every output is
    within ``margin`` of its target, or ``max_epochs``. Returns (epochs run, criterion met); zero
    epochs if the criterion already holds. (The outputs are checked only once the epoch's
    Σ(t − o)² is below target.size·margin², which the criterion implies: a pass saved per epoch.)"""
    if criterion_met(model, x, target, margin):
        return 0, True
    done = lambda record: record["loss"] < target.size * margin ** 2 and criterion_met(model, x, target, margin)  # noqa: E731
    history = fit(model, nn.MSELoss(reduction="sum"), nn.SGD(trainable(model), lr=lr, momentum=momentum),
                  x, target, epochs=max_epochs, batch_size=len(x), shuffle=False, verbose=False,
                  on_step=on_step, on_epoch=done)
    return len(history), criterion_met(model, x, target, margin)


def deletion_accuracy(model, params_of, scores, amount, accuracy) -> float:
    """``accuracy(copy)`` of a copy of ``model`` whose lowest-scoring entries of
    ``params_of(copy)`` are deleted, one global ranking, no retraining; ``amount`` is a count
    or a fraction (as for :func:`minicompress.pruning.global_prune`), ``scores`` aligned with
    ``params_of(model)``. ``model`` itself is left unchanged."""
    pruned = copy.deepcopy(model)
    if amount:
        pruning.global_prune(params_of(pruned), amount, scores)
    return accuracy(pruned)


def obd_regime(train_set, test_set, *, center: bool = True, unit_variance: bool = False):
    """Optimal Brain Damage's regime (LeCun et al. 1989), shared by OBD and OBS: digits
    average-pooled to 14×14, the training set's mean image subtracted (``center``), both sets
    divided by the centered training pixels' standard deviation (``unit_variance``), and ±1
    targets for tanh outputs and squared error. Returns ((x, t, y), (x_test, t_test, y_test))."""
    pool = nn.AvgPool2d(2)
    (x, y), (x_test, y_test) = train_set, test_set
    x, x_test = pool(x), pool(x_test)  # 28×28 -> 14×14, once
    if center:
        mean = x.mean(axis=0)
        x, x_test = x - mean, x_test - mean
    if unit_variance:
        scale = float(x.std())
        x, x_test = x / scale, x_test / scale
    targets = lambda labels: 2 * nn.one_hot(labels, 10) - 1  # noqa: E731
    return (x, targets(y), y), (x_test, targets(y_test), y_test)


def train_near_minimum(model, loss, x, t, *, epochs: int, polish_steps: int, seed: int,
                       verbose: bool = False, lr: float = 3e-3) -> float:
    """Minibatch Adam (batch 64, ``lr``) for ``epochs``, then ``polish_steps`` (if any) of
    full-batch Adam at lr 1e-3, which settles the weights near a minimum of the training
    objective (the extremal assumption of OBD and OBS: the gradient term of δE vanishes). Masks
    are honoured. Returns the norm of the final gradient."""
    fit(model, loss, nn.Adam(model.parameters(), lr=lr), x, t, epochs=epochs, batch_size=64,
        rng=seed, verbose=verbose)
    if polish_steps:
        fit(model, loss, nn.Adam(model.parameters(), lr=1e-3), x, t, epochs=polish_steps,
            batch_size=len(x), shuffle=False, verbose=False)
    model.zero_grad()
    loss(model(x), t)
    model.grad_params(loss.backward())
    return float(np.sqrt(sum(float((p.grad ** 2).sum()) for p in model.parameters())))


# ----- figures ------------------------------------------------------------------------------------
def figure(width: float, height: float):
    """A matplotlib Figure with constrained layout (matplotlib imported only when drawing)."""
    from matplotlib.figure import Figure
    return Figure(figsize=(width, height), layout="constrained")


def save_figure(fig, path) -> Path:
    """Write a matplotlib ``Figure`` as a PNG (100 dpi), atomically; return the path."""
    path = Path(path)
    with atomic_write(path) as stream:
        fig.savefig(stream, format="png", dpi=100)
    return path
