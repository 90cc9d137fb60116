"""Skeletonization: trim the units whose removal would change the error least.

M. C. Mozer, P. Smolensky, "Skeletonization: a technique for trimming the fat from a network via
relevance assessment", Advances in Neural Information Processing Systems 1 (NIPS 1988),
pp. 107-115, Morgan Kaufmann, 1989.

The idea: give every input and hidden unit i a gate α_i (α = 1 is the trained network, α_i = 0
removes unit i) and call the error the network would lose without the unit its relevance.
The relevance is estimated from one backward pass as −∂E/∂α_i at α = 1, measured with the
*linear* error and smoothed over training sweeps. Train to criterion, delete the least relevant
unit, retrain, repeat: a large network trimmed down learns more reliably than the small one
trained from the start, and what is left is easier to read.

Equations. The paper's equations are unnumbered and could not be checked against the PDF here;
the tags name the step of the method as the secondary sources describe it (Reed & Marks,
"Neural Smithing", ch. 13; the SNNS manual and its PRUNE_Skeletonization code):
  gated unit       x_j = f(Σ_i w_ji α_i x_i)                                   [M&S: gates]
  relevance        ρ_i = E(α_i = 0) − E(α_i = 1)                               [M&S: relevance]
  estimate         ρ̂_i = −∂E/∂α_i |α=1 = −Σ_p x_i^p Σ_j w_ji ∂E/∂a_j^p          [M&S: approximation]
  linear error     E^l = Σ_p Σ_j |t_pj − o_pj|,  ∂E^l/∂o = sign(o − t)          [M&S: linear error]
  smoothing        ρ̂_i ← 0.8 ρ̂_i + 0.2 · (−∂E^l/∂α_i), once per sweep          [M&S: averaging]
(sign convention: ρ̂ > 0 for a unit whose removal raises the error). Why the linear error: the
quadratic error's derivative 2(o − t) vanishes as the outputs reach their targets, so at
convergence every unit looks irrelevant; the linear error's derivative sign(o − t) keeps its
size. Measured below: at convergence |ρ̂| with the quadratic error is about 1/20 of |ρ̂| with
the linear error, while after the first sweep the two are about equal.

Deviations. The paper's learning rate, momentum, initial weights and criterion are not known:
full-batch gradient descent on E = Σ(t − o)² (no ½; our lr 0.5 is lr 1.0 on the ½Σ(t − o)² of
the PDP books), weights and biases from U(−0.5, 0.5), criterion "every output within 0.1 of its
target". "Rule" and "exception" hidden units are recognized by their activations thresholded at
0.5 (a unit whose minority value occurs on exactly the 4 patterns A = B = 1, or on exactly
0000), a rule of ours. Only the first hidden layer is trimmed, by physical surgery
(:func:`remove_unit`); input units are scored but not removed. The digits experiment (input
relevance of a 784-100-10 ReLU net trained with cross-entropy, the linear error measured on its
softmax outputs, averaged every 10 minibatch steps on a fixed subset) is ours, in the spirit
of the paper's input-unit demonstrations.

Results (full run, seed 0; tables and notes of ``reproduce``): rule-plus-exception, 75 of 100
nets reach criterion, all split into a rule and an exception unit; ρ̂ (linear) ranks the rule
unit first in 95% (true ρ 93%, quadratic ρ̂ 53%); the multiplexer, 50 nets per route, failures
of 4 hidden units from scratch vs 8 trimmed to 4 by relevance: 11 vs 1 (lr 0.5, no momentum),
7 vs 0 (lr 0.25, momentum 0.5), 9 vs 6 (lr 0.125, momentum 0.9): the advantage shrinks with
heavy momentum, as the prototype found; trimming a random unit fails most (23, 7, 16), trimming
by outgoing |w| as rarely as by relevance (0, 0, 2). Digits (784-100-10, 92.0% test accuracy):
gating off the most relevant half of the pixels leaves 38.7%, a random half 69.8%; Spearman of
ρ̂ with the true input relevance 0.84 at the final weights, 0.56 for the running average (it
lags behind weights that still move). Full run: about 150 s of CPU.

Run: ``python -m minicompress.papers.mozer1988_skeletonization [--quick] [--seed 0]`` (or
``minicompress reproduce skeletonization``). Quick run, seed 0 (about 15 s of one core): rule
unit first in 95% of 20 nets (quadratic error: 45%); |ρ̂ quadratic|/|ρ̂ linear| 1.00 after the
first sweep, 0.059 at convergence; multiplexer failures of 20: 6 from scratch, 1 by relevance,
1 by |w|, 14 random; digits: gating off the most relevant half of the pixels leaves 23.5% test
accuracy, a random half 63.1% (no retraining).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from minicompress import nn
from minicompress.papers.gated import Gate, gate, gates, trainable, ungate
from minicompress.pruning import remove_units
from minicompress.report import Report, command_line, save_figure, say, verdict
from minicompress.rng import as_rng
from minicompress.train import evaluate, fit

ERRORS = ("linear", "quadratic")


@dataclass(frozen=True)
class Config:
    """Settings of the three experiments (the paper gives few: see Deviations)."""

    init_scale: float = 0.5  # weights and biases drawn from U(−0.5, 0.5)
    margin: float = 0.1  # criterion: every output within 0.1 of its 0/1 target
    decay: float = 0.8  # relevance average: ρ̂ ← 0.8 ρ̂ + 0.2 (−∂E^l/∂α)   [M&S: averaging]
    # rule-plus-exception, 4-2-1 sigmoid network
    rpe_seeds: int = 100
    rpe_lr: float = 0.25  # on Σ(t − o)²: 0.5 on the ½Σ(t − o)² of the PDP books
    rpe_momentum: float = 0.9
    rpe_max_epochs: int = 3000
    # 4-bit multiplexer: 4 hidden from scratch vs 8 trimmed to 4
    mux_seeds: int = 50
    # (lr on Σ(t − o)², momentum): plain gradient descent, then more and more momentum
    mux_settings: tuple = ((0.5, 0.0), (0.25, 0.5), (0.125, 0.9))
    mux_max_epochs: int = 5000  # per training stage (initial training, each retraining)
    mux_hidden: int = 8
    mux_target: int = 4
    # input relevance on synthetic digits, 784-hidden-10 ReLU
    digits_n_train: int = 10_000
    digits_n_test: int = 2_000
    digits_hidden: int = 100
    digits_epochs: int = 10
    digits_batch_size: int = 64
    digits_lr: float = 0.05  # SGD, momentum 0.9, softmax cross-entropy
    digits_relevance_subset: int = 500  # training images the relevance is measured on ...
    digits_relevance_every: int = 10  # ... every 10 steps (each costs a pass over them)
    digits_removed: tuple = (0.5, 0.75, 0.9)  # fractions of input pixels gated off

    @classmethod
    def quick(cls) -> "Config":
        return cls(rpe_seeds=30, rpe_max_epochs=1000, mux_seeds=20, mux_settings=((0.5, 0.0),),
                   mux_max_epochs=2000, digits_n_train=3_000, digits_n_test=1_000, digits_epochs=4,
                   digits_relevance_subset=200)


# ----- the error used for relevance, and the two relevances ------------------------------------
class LinearError:
    """E^l = Σ |t − o| over every entry; ``backward()`` = ∂E^l/∂o = sign(o − t) (0 where o = t).

    The error Mozer & Smolensky use for relevance (not for training). Same protocol as the
    engine's losses: ``forward(output, target) -> float``, then ``backward()``.

    With ``softmax=True`` the outputs are logits z of a network trained with
    ``SoftmaxCrossEntropy`` and the error is measured on the probabilities o = softmax(z), so
    ∂E^l/∂z = o ⊙ (s − Σ_c o_c s_c) with s = sign(o − t) (the softmax Jacobian applied to s).
    Targets are then one-hot rows (``nn.one_hot``).
    """

    reduction = "sum"

    def __init__(self, softmax: bool = False):
        self.softmax = softmax
        self.cache = {}

    def __call__(self, output: np.ndarray, target: np.ndarray) -> float:
        return self.forward(output, target)

    def forward(self, output: np.ndarray, target: np.ndarray) -> float:
        if not isinstance(target, np.ndarray) or target.shape != output.shape:
            raise ValueError(f"LinearError: target must be an array of the output's shape "
                             f"{output.shape}, got {getattr(target, 'shape', type(target).__name__)}")
        if self.softmax:
            z = np.exp(output - output.max(axis=1, keepdims=True))  # shift: no overflow
            output = z / z.sum(axis=1, keepdims=True)
        diff = output - target.astype(output.dtype, copy=False)
        self.cache.update(diff=diff, output=output)
        return float(np.abs(diff).sum(dtype=np.float64))

    def backward(self) -> np.ndarray:
        if "diff" not in self.cache:
            raise RuntimeError("LinearError: backward called before forward")
        s = np.sign(self.cache["diff"])
        if not self.softmax:
            return s
        o = self.cache["output"]
        return o * (s - (o * s).sum(axis=1, keepdims=True))


def error_function(error):
    """The error relevance is measured with: "linear" (Σ|t − o|), "quadratic" (Σ(t − o)²), or
    an error object with ``forward(output, target)`` and ``backward()`` (e.g.
    ``LinearError(softmax=True)``), returned as it is."""
    if error == "linear":
        return LinearError()
    if error == "quadratic":
        return nn.MSELoss(reduction="sum")
    if callable(getattr(error, "forward", None)) and callable(getattr(error, "backward", None)):
        return error
    raise ValueError(f"error: expected one of {ERRORS} or an object with forward and backward, "
                     f"got {error!r}")


def relevance_estimate(model: nn.Sequential, x: np.ndarray, target: np.ndarray,
                       error="linear") -> list[np.ndarray]:
    """ρ̂_i = −∂E/∂α_i at the current gates, one backward pass, for every gate of ``model``.

    Parameters
    ----------
    model : Sequential
        A gated model (see :func:`minicompress.papers.gated.gate`).
    x : (n, ...) inputs;  target : (n, k) targets of the same shape as the outputs.
    error : "linear", "quadratic" or an error object (see :func:`error_function`)

    Returns
    -------
    list of float64 arrays, one per Gate (input gate first), shape (units,).
    The parameters' ``grad`` are left as they were.
    """
    layers = _check_gated(model, "relevance_estimate")
    return _gate_gradients(model, layers, model.parameters(), error_function(error), x, target)


def _gate_gradients(model, layers, params, loss, x, target) -> list[np.ndarray]:
    """−∂E/∂α for each gate in ``layers``; every ``grad`` of ``params`` restored afterwards."""
    saved = [p.grad.copy() for p in params]
    for g in layers:
        g.alpha.grad.fill(0)
    loss(model(x), target)
    model.grad_params(loss.backward())
    relevance = [-g.alpha.grad.astype(np.float64) for g in layers]
    for p, g in zip(params, saved):
        p.grad = g
    return relevance


def true_relevance(model: nn.Sequential, x: np.ndarray, target: np.ndarray,
                   error="linear") -> list[np.ndarray]:
    """ρ_i = E(α_i = 0) − E(α_i = 1) by brute force: one forward pass per unit.

    Same arguments and layout as :func:`relevance_estimate`; every α is restored.
    """
    layers, loss = _check_gated(model, "true_relevance"), error_function(error)
    base = loss(model(x), target)
    out = []
    for g in layers:
        rho = np.zeros(g.units)
        for i in range(g.units):
            saved, g.alpha.data[i] = g.alpha.data[i], 0
            rho[i] = loss(model(x), target) - base
            g.alpha.data[i] = saved
        out.append(rho)
    return out


def ema(average: np.ndarray, new: np.ndarray, decay: float = 0.8) -> np.ndarray:
    """The exponentially decaying average decay·average + (1 − decay)·new   [M&S: averaging]."""
    if not 0.0 <= decay < 1.0:
        raise ValueError(f"ema: decay must be in [0, 1), got {decay!r}")
    return decay * average + (1.0 - decay) * new


# ----- the method ----------------------------------------------------------------------------
def gated_mlp(sizes, *, init_scale: float = 0.5, rng=None, dtype=np.float32) -> nn.Sequential:
    """A gated sigmoid MLP, e.g. sizes (4, 2, 1): Gate(4), Linear(4, 2), Sigmoid, Gate(2),
    Linear(2, 1), Sigmoid; weights and biases from U(−init_scale, init_scale)."""
    rng, layers = as_rng(rng), []
    if len(sizes) < 2:
        raise ValueError(f"gated_mlp: sizes needs an input and an output size, got {sizes!r}")
    for a, b in zip(sizes[:-1], sizes[1:]):
        linear = nn.Linear(a, b, rng=rng, dtype=dtype)
        for p in linear.parameters():
            p.data = rng.uniform(-init_scale, init_scale, p.shape).astype(dtype)
        layers += [linear, nn.Sigmoid()]
    return gate(nn.Sequential(*layers))


class RelevanceTracker:
    """ρ̂ kept during training: call it after every optimizer step (``fit(..., on_step=tracker)``).

    Starts from the estimate at the current weights, then ρ̂ ← decay·ρ̂ + (1 − decay)·(−∂E/∂α)
    with E measured on the fixed (x, target), at every ``every``-th step (1: every step, which
    is every sweep in full-batch training, as in the paper). ``relevance`` is a list aligned
    with the gates.
    """

    def __init__(self, model, x, target, error="linear", decay: float = 0.8, every: int = 1):
        ema(0.0, 0.0, decay)  # checks decay
        if isinstance(every, bool) or not isinstance(every, (int, np.integer)) or every < 1:
            raise ValueError(f"RelevanceTracker: every must be a positive int, got {every!r}")
        self.decay, self.every, self.x, self.target, self.model = decay, int(every), x, target, model
        # looked up once: the tracker runs after every step
        self._layers, self._params = _check_gated(model, "RelevanceTracker"), model.parameters()
        self._loss = error_function(error)
        self.relevance = self.estimate()

    def estimate(self) -> list[np.ndarray]:
        """−∂E/∂α at the current weights (what :func:`relevance_estimate` returns)."""
        return _gate_gradients(self.model, self._layers, self._params, self._loss, self.x, self.target)

    def __call__(self, step: int = 0) -> None:
        if step % self.every == 0:
            self.relevance = [ema(r, n, self.decay) for r, n in zip(self.relevance, self.estimate())]


def criterion_met(model, x, target, margin: float) -> bool:
    """Is every output within ``margin`` of its target?"""
    return bool(np.abs(model(x) - target).max() < margin)


def train_to_criterion(model, x, target, *, lr: float, momentum: float, margin: float,
                       max_epochs: int, on_step=None) -> tuple[int, bool]:
    """Full-batch gradient descent on Σ(t − o)² until the criterion or ``max_epochs``.

    Returns (epochs run, criterion met). Zero epochs if the criterion already holds.
    """
    if criterion_met(model, x, target, margin):
        return 0, True
    optimizer = nn.SGD(trainable(model), lr=lr, momentum=momentum)
    history = fit(model, nn.MSELoss(reduction="sum"), optimizer, x, target, epochs=max_epochs,
                  batch_size=len(x), shuffle=False, verbose=False, on_step=on_step,
                  on_epoch=lambda record: criterion_met(model, x, target, margin))
    return len(history), criterion_met(model, x, target, margin)


def remove_unit(model: nn.Sequential, gate_index: int, unit: int) -> nn.Sequential:
    """A smaller gated copy of ``model`` without ``unit`` of the hidden layer behind gate
    ``gate_index`` (≥ 1; gate 0 gates the inputs): the unit's row, bias and outgoing column
    are deleted by :func:`minicompress.pruning.remove_units`."""
    layers = _check_gated(model, "remove_unit")
    if not 1 <= gate_index < len(layers):
        raise ValueError(f"remove_unit: gate_index must name a hidden layer's gate, in [1, "
                         f"{len(layers) - 1}], got {gate_index}")
    units = layers[gate_index].units
    if not 0 <= unit < units or units == 1:
        raise ValueError(f"remove_unit: unit must be in [0, {units - 1}] and the layer must keep "
                         f"one unit; got unit {unit} of {units}")
    plain = ungate(model)
    producer = [i for i, l in enumerate(plain.layers) if isinstance(l, nn.Linear)][gate_index - 1]
    return gate(remove_units(plain, producer, np.delete(np.arange(units), unit)))


def skeletonize(model, x, target, n_units: int, *, lr: float, momentum: float, margin: float,
                max_epochs: int, choose: str = "relevance", decay: float = 0.8, rng=None):
    """Mozer & Smolensky's loop on the first hidden layer: train to criterion, delete one unit,
    retrain, until ``n_units`` are left.

    ``choose``: "relevance" (least ρ̂, linear error, smoothed during the last training),
    "magnitude" (least Σ_j |w_ji| outgoing) or "random" (the baselines).

    Returns (model, total epochs, criterion met at the end); stops early if a stage fails.
    """
    if choose not in ("relevance", "magnitude", "random"):
        raise ValueError(f"skeletonize: choose must be relevance, magnitude or random, got {choose!r}")
    if len(_check_gated(model, "skeletonize")) < 2:
        raise ValueError("skeletonize: the model has no hidden layer to trim")
    if isinstance(n_units, bool) or not isinstance(n_units, (int, np.integer)) or n_units < 1:
        raise ValueError(f"skeletonize: n_units must be a positive int, got {n_units!r}")
    rng, total = as_rng(rng), 0
    while True:
        tracker = RelevanceTracker(model, x, target, decay=decay) if choose == "relevance" else None
        epochs, ok = train_to_criterion(model, x, target, lr=lr, momentum=momentum, margin=margin,
                                        max_epochs=max_epochs, on_step=tracker)
        total += epochs
        hidden = gates(model)[1]
        if not ok or hidden.units <= n_units:
            return model, total, ok
        if choose == "relevance":
            unit = int(np.argmin(tracker.relevance[1]))
        elif choose == "magnitude":
            consumer = model.layers[model.layers.index(hidden) + 1]
            unit = int(np.argmin(np.abs(consumer.weight.value()).sum(axis=0)))
        else:
            unit = int(rng.integers(hidden.units))
        model = remove_unit(model, 1, unit)


def _check_gated(model, who: str) -> list[Gate]:
    layers = gates(model)
    if not layers:
        raise ValueError(f"{who}: the model has no Gate layers; wrap it with "
                         f"minicompress.papers.gated.gate(model) first")
    return layers


# ----- the reproduction ------------------------------------------------------------------------
def reproduce(*, quick: bool = False, seed: int = 0, data: str | None = None, out_dir=None,
              data_dir=None, verify: bool = True, config: Config | None = None,
              verbose: bool = True) -> Report:
    """Rule-plus-exception, the multiplexer and input relevance on digits; table and figures.

    ``data``: the image set of the digits experiment, "synth_digits" (default) or another name
    :func:`minicompress.datasets.load_train_test` knows ("mnist_test_split" with ``data_dir``).
    """
    cfg = config or (Config.quick() if quick else Config())
    out_dir = Path(out_dir or Path("out") / "skeletonization")
    out_dir.mkdir(parents=True, exist_ok=True)
    rpe = _rule_plus_exception(cfg, seed, verbose)
    mux = _multiplexer(cfg, seed, verbose)
    digits = _digits(cfg, seed, data or "synth_digits", dict(data_dir=data_dir, verify=verify), verbose)
    rows = rpe["rows"] + mux["rows"] + digits["rows"]
    report = Report(f"Skeletonization (Mozer & Smolensky 1988), seed {seed}"
                    f"{' (quick)' if quick else ''}", rows,
                    notes=rpe["notes"] + mux["notes"] + digits["notes"])
    report.figures += [_figure_rpe(rpe, out_dir / "skeletonization_rule_plus_exception.png"),
                       _figure_mux(mux, cfg, out_dir / "skeletonization_multiplexer.png"),
                       _figure_digits(digits, out_dir / "skeletonization_digits_input_relevance.png")]
    print(report.table())
    return report


def _rule_plus_exception(cfg: Config, seed: int, verbose: bool) -> dict:
    """Many 4-2-1 nets trained to criterion; relevance of the rule and the exception unit."""
    from scipy.stats import spearmanr
    from minicompress.datasets import load
    x, y = load("rule_plus_exception")
    target = y[:, None].astype(np.float32)
    roles = {frozenset(np.flatnonzero(x[:, 0] * x[:, 1])): "rule", frozenset([0]): "exception"}
    say("skeletonization", verbose, f"rule-plus-exception: {cfg.rpe_seeds} nets 4-2-1, each trained to criterion")
    nets = []
    for k in range(cfg.rpe_seeds):
        model = gated_mlp((4, 2, 1), init_scale=cfg.init_scale, rng=np.random.default_rng([seed, k]))
        linear = RelevanceTracker(model, x, target, "linear", cfg.decay)
        quadratic = RelevanceTracker(model, x, target, "quadratic", cfg.decay)
        path = []  # hidden units' (linear ρ̂, quadratic ρ̂) after every sweep

        def after_sweep(step, linear=linear, quadratic=quadratic, path=path):
            linear(), quadratic()
            path.append((linear.relevance[1], quadratic.relevance[1]))
        epochs, ok = train_to_criterion(model, x, target, lr=cfg.rpe_lr, momentum=cfg.rpe_momentum,
                                        margin=cfg.margin, max_epochs=cfg.rpe_max_epochs,
                                        on_step=after_sweep)
        if not ok:
            continue
        model(x)
        active = model.layers[2].cache["y"] > 0.5  # (16 patterns, 2 units)
        # a unit's role: the patterns on which it takes its minority value
        role = [roles.get(frozenset(np.flatnonzero(a != (a.sum() > 8)))) for a in active.T]
        rho = true_relevance(model, x, target)
        nets.append(dict(seed=k, epochs=epochs, role=role, path=np.array(path),
                         linear=linear.relevance[1], quadratic=quadratic.relevance[1], true=rho[1],
                         spearman=spearmanr(np.concatenate(linear.relevance), np.concatenate(rho))[0],
                         scatter=(np.concatenate(linear.relevance), np.concatenate(rho))))
    split = [n for n in nets if sorted(map(str, n["role"])) == ["exception", "rule"]]
    rows = []
    for key, method in (("linear", "ρ̂, linear error"), ("true", "ρ, true (linear error)"),
                        ("quadratic", "ρ̂, quadratic error")):
        rule = np.array([n[key][n["role"].index("rule")] for n in split])
        exception = np.array([n[key][n["role"].index("exception")] for n in split])
        ratio = rule / np.abs(exception)
        rows += [_row("rule+exception", method, "% of nets: rule unit above exception unit",
                      _pct(rule > exception), n=len(split)),
                 _row("rule+exception", method, "ρ(rule) / |ρ(exception)|, median (IQR)",
                      _median(ratio), _iqr(ratio), len(split)),
                 _row("rule+exception", method, "mean |ρ| of the 2 hidden units at convergence",
                      _mean(np.abs(np.r_[rule, exception])), n=len(split))]
    # quadratic / linear size of ρ̂ after the first sweep and at convergence: the fading
    fade = np.array([[np.abs(n["path"][i, 1]).mean() / np.abs(n["path"][i, 0]).mean() for i in (0, -1)]
                     for n in split]).reshape(-1, 2)
    spearman = np.array([n["spearman"] for n in nets])
    rows += [_row("rule+exception", "ρ̂ quadratic / ρ̂ linear", "mean |ρ̂| ratio after sweep 1",
                  _mean(fade[:, 0]), _std(fade[:, 0]), len(split)),
             _row("rule+exception", "ρ̂ quadratic / ρ̂ linear", "mean |ρ̂| ratio at convergence",
                  _mean(fade[:, 1]), _std(fade[:, 1]), len(split)),
             _row("rule+exception", "ρ̂ linear vs ρ", "Spearman over each net's 6 gates",
                  _mean(spearman), _std(spearman), len(nets))]
    first = rows[0]["value"]
    notes = [f"rule-plus-exception: {len(nets)} of {cfg.rpe_seeds} nets reached the criterion (lr "
             f"{cfg.rpe_lr} on Σ(t − o)², momentum {cfg.rpe_momentum}, at most {cfg.rpe_max_epochs} "
             f"sweeps); {len(split)} have a rule and an exception unit; spread = IQR or std over nets",
             "claim 'the rule unit is more relevant than the exception unit' (ρ̂, linear error, in "
             "at least 90% of the nets): " + verdict(first >= 90) + f" ({first:.0f}% of nets; true "
             f"ρ: {rows[3]['value']:.0f}%, ρ̂ with the quadratic error: {rows[6]['value']:.0f}%)",
             "claim 'quadratic-error relevance fades at convergence, linear-error relevance does "
             "not': " + verdict(_mean(fade[:, 1]) < 0.25 * _mean(fade[:, 0]))
             + f" (|ρ̂ quadratic| / |ρ̂ linear| = {_mean(fade[:, 0]):.2f} after the first sweep, "
             f"{_mean(fade[:, 1]):.3f} at convergence)"]
    return dict(rows=rows, notes=notes, nets=nets, split=split)


def _multiplexer(cfg: Config, seed: int, verbose: bool) -> dict:
    """4 hidden units from scratch vs 8 trimmed to 4 (by ρ̂, |w_out|, at random); per setting."""
    from minicompress.datasets import load
    x, y = load("multiplexer")
    target = y[:, None].astype(np.float32)
    rows, notes, counts = [], [], {}
    for lr, momentum in cfg.mux_settings:
        common = dict(lr=lr, momentum=momentum, margin=cfg.margin, max_epochs=cfg.mux_max_epochs)
        for route in ("scratch", "relevance", "magnitude", "random"):
            say("skeletonization", verbose, f"multiplexer lr {lr} momentum {momentum}: {route}, {cfg.mux_seeds} nets")
            epochs, failed = [], 0
            for k in range(cfg.mux_seeds):
                rng = np.random.default_rng([seed, k])
                hidden = cfg.mux_target if route == "scratch" else cfg.mux_hidden
                model = gated_mlp((6, hidden, 1), init_scale=cfg.init_scale, rng=rng)
                if route == "scratch":
                    n_epochs, ok = train_to_criterion(model, x, target, **common)
                else:
                    _, n_epochs, ok = skeletonize(model, x, target, cfg.mux_target, choose=route,
                                                  decay=cfg.decay, rng=rng, **common)
                failed += not ok
                epochs += [n_epochs] if ok else []
            counts[lr, momentum, route] = failed
            method = {"scratch": f"{cfg.mux_target} hidden from scratch"}.get(
                route, f"{cfg.mux_hidden} -> {cfg.mux_target} by {route}")
            experiment = f"multiplexer lr {lr} mom {momentum}"
            rows += [_row(experiment, method, "failures (nets)", failed, n=cfg.mux_seeds),
                     _row(experiment, method, "epochs to criterion, median (IQR)", _median(epochs),
                          _iqr(epochs), len(epochs))]
        notes.append(f"multiplexer, lr {lr} on Σ(t − o)², momentum {momentum}: claim 'trimming 8 "
                     f"to 4 by relevance fails less often than 4 from scratch': "
                     + verdict(counts[lr, momentum, "relevance"] < counts[lr, momentum, "scratch"])
                     + f" ({counts[lr, momentum, 'relevance']} vs {counts[lr, momentum, 'scratch']} "
                     f"failures of {cfg.mux_seeds}; random trimming {counts[lr, momentum, 'random']}, "
                     f"outgoing |w| {counts[lr, momentum, 'magnitude']})")
    notes.append(f"multiplexer: a failure is a net (or any of its retraining stages) not reaching the "
                 f"criterion in {cfg.mux_max_epochs} sweeps; epochs count every stage of successful runs")
    return dict(rows=rows, notes=notes, counts=counts)


def _digits(cfg: Config, seed: int, data: str, where: dict, verbose: bool) -> dict:
    """Input-pixel relevance of a gated 784-hidden-10 ReLU net trained with cross-entropy."""
    from scipy.stats import spearmanr
    from minicompress.datasets import load_train_test
    (x, y), (x_test, y_test) = load_train_test(data, n_train=cfg.digits_n_train,
                                               n_test=cfg.digits_n_test, seed=seed, **where)
    rng = np.random.default_rng(seed)
    model = gate(nn.Sequential(nn.Flatten(), nn.Linear(784, cfg.digits_hidden, rng=rng), nn.ReLU(),
                               nn.Linear(cfg.digits_hidden, 10, rng=rng)))
    subset = slice(0, cfg.digits_relevance_subset)
    error = LinearError(softmax=True)  # linear error of the softmax outputs
    xs, ts = x[subset], nn.one_hot(y[subset], 10)
    tracker = RelevanceTracker(model, xs, ts, error, cfg.decay, every=cfg.digits_relevance_every)
    loss = nn.SoftmaxCrossEntropy()
    say("skeletonization", verbose, f"{data}: training a 784-{cfg.digits_hidden}-10 net, tracking input relevance")
    fit(model, loss, nn.SGD(trainable(model), lr=cfg.digits_lr, momentum=0.9), x, y,
        epochs=cfg.digits_epochs, batch_size=cfg.digits_batch_size, rng=rng, verbose=verbose,
        on_step=tracker)
    smoothed = tracker.relevance[0]
    final = relevance_estimate(model, xs, ts, error)[0]
    say("skeletonization", verbose, "true input relevance: one forward pass per pixel")
    true = true_relevance(model, xs, ts, error)[0]
    accuracy = lambda: evaluate(model, loss, x_test, y_test)["accuracy"]  # noqa: E731
    dense, alpha = accuracy(), gates(model)[0].alpha
    orders = {"least ρ̂ first": np.argsort(smoothed, kind="stable"),
              "least |ρ̂| first": np.argsort(np.abs(smoothed), kind="stable"),
              "most ρ̂ first": np.argsort(-smoothed, kind="stable"),
              "random": rng.permutation(784)}
    experiment = f"{data} input relevance"
    rows = [_row(experiment, "no pixel removed", "test accuracy %", 100 * dense)]
    for method, order in orders.items():
        for fraction in cfg.digits_removed:
            alpha.data[:] = 1
            alpha.data[order[:round(fraction * 784)]] = 0  # gate the pixels off, no retraining
            rows.append(_row(experiment, method, f"test accuracy %, {100 * fraction:.0f}% of pixels "
                             f"gated off", 100 * accuracy()))
    alpha.data[:] = 1
    spearman = (spearmanr(smoothed, true)[0], spearmanr(final, true)[0])
    half = 100 * cfg.digits_removed[0]
    by = {r["method"]: r["value"] for r in rows if r["measure"].endswith(f" {half:.0f}% of pixels gated off")}
    rows += [_row(experiment, "ρ̂ averaged vs ρ", "Spearman over the 784 pixels", spearman[0]),
             _row(experiment, "ρ̂ final vs ρ", "Spearman over the 784 pixels", spearman[1])]
    notes = [f"{data}: {cfg.digits_n_train} training images, {cfg.digits_epochs} epochs, test "
             f"accuracy {100 * dense:.1f}%; relevance on {cfg.digits_relevance_subset} training images "
             f"with the linear error of the softmax outputs, averaged 0.8/0.2 every "
             f"{cfg.digits_relevance_every} SGD steps. "
             f"Spearman with the true relevance: {spearman[0]:.2f} (averaged ρ̂), {spearman[1]:.2f} "
             f"(ρ̂ at the final weights)",
             f"claim 'relevance finds the critical inputs' (gating off the most relevant {half:.0f}% "
             f"hurts more than a random {half:.0f}%): "
             + verdict(by["most ρ̂ first"] < by["random"])
             + f" ({by['most ρ̂ first']:.1f}% vs {by['random']:.1f}%). Deleting the least relevant "
             f"first by the signed ρ̂ ({by['least ρ̂ first']:.1f}%) is "
             + ("worse" if by["least ρ̂ first"] < by["random"] else "no worse")
             + f" than random: it deletes first the pixels with ρ̂ < 0 (the estimate says the "
             f"error falls without them, one at a time), which together carry information; by "
             f"|ρ̂| it keeps {by['least |ρ̂| first']:.1f}%. Deleting half the inputs at once without "
             f"retraining is not the paper's one-unit-at-a-time procedure"]
    return dict(rows=rows, notes=notes, smoothed=smoothed, true=true, data=data,
                mean_image=x[subset].reshape(-1, 784).mean(axis=0))


def _figure_rpe(rpe: dict, path: Path) -> Path:
    from matplotlib.figure import Figure
    fig = Figure(figsize=(10, 4), layout="constrained")
    ax, ax2 = fig.subplots(1, 2)
    if rpe["split"]:
        net = rpe["split"][0]
        for column, style, error in ((0, "-", "linear"), (1, "--", "quadratic")):
            for unit, role in enumerate(net["role"]):
                ax.plot(net["path"][:, column, unit], style, color="C0" if role == "rule" else "C1",
                        label=f"{role} unit, {error} error")
        ax.set(xlabel="sweep", ylabel="ρ̂ (0.8/0.2 average)",
               title=f"rule+exception net {net['seed']}: relevance while training")
        ax.legend(fontsize=7)
    est = np.concatenate([n["scatter"][0] for n in rpe["nets"]] or [np.zeros(0)])
    true = np.concatenate([n["scatter"][1] for n in rpe["nets"]] or [np.zeros(0)])
    ax2.scatter(true, est, s=8, alpha=0.5)
    ax2.set(xlabel="true relevance ρ = E^l(α=0) − E^l(α=1)", ylabel="estimate ρ̂ (linear error)",
            title=f"all gates of {len(rpe['nets'])} converged nets")
    return save_figure(fig, path)


def _figure_mux(mux: dict, cfg: Config, path: Path) -> Path:
    from matplotlib.figure import Figure
    fig = Figure(figsize=(7, 4), layout="constrained")
    ax = fig.subplots()
    routes = ("scratch", "relevance", "magnitude", "random")
    width = 0.8 / len(routes)
    for j, route in enumerate(routes):
        rates = [100 * mux["counts"][lr, m, route] / cfg.mux_seeds for lr, m in cfg.mux_settings]
        ax.bar(np.arange(len(cfg.mux_settings)) + j * width, rates, width, label=route)
    ax.set_xticks(np.arange(len(cfg.mux_settings)) + 0.4 - width / 2,
                  [f"lr {lr}, momentum {m}" for lr, m in cfg.mux_settings])
    ax.set(ylabel=f"failures (% of {cfg.mux_seeds} nets)",
           title=f"4-bit multiplexer: {cfg.mux_target} hidden from scratch vs {cfg.mux_hidden} trimmed")
    ax.legend(fontsize=8)
    return save_figure(fig, path)


def _figure_digits(digits: dict, path: Path) -> Path:
    from matplotlib.figure import Figure
    fig = Figure(figsize=(10, 3.6), layout="constrained")
    panels = ((digits["smoothed"], "ρ̂, 0.8/0.2 average"), (digits["true"], "true ρ"),
              (digits["mean_image"], "mean input"))
    for ax, (image, title) in zip(fig.subplots(1, 3), panels):
        limit = np.abs(image).max() or 1.0
        shown = ax.imshow(image.reshape(28, 28), cmap="RdBu_r" if image.min() < 0 else "gray_r",
                          vmin=-limit if image.min() < 0 else 0, vmax=limit)
        ax.set(title=f"{digits['data']}: {title}", xticks=[], yticks=[])
        fig.colorbar(shown, ax=ax, shrink=0.8)
    return save_figure(fig, path)


def _row(experiment: str, method: str, measure: str, value, spread=np.nan, n=None) -> dict:
    """One number of the report (the experiments measure different things: one row each)."""
    return dict(experiment=experiment, method=method, measure=measure, value=float(value),
                spread=float(spread), n="" if n is None else int(n))


def _pct(flags, n=None) -> float:
    flags = np.asarray(flags)
    n = flags.size if n is None else n
    return float(100 * flags.sum() / n) if n else np.nan


def _mean(values) -> float:
    return float(np.mean(values)) if len(values) else np.nan


def _std(values) -> float:
    """Population std over nets; NaN for fewer than two (no spread to report)."""
    return float(np.std(values)) if len(values) > 1 else np.nan


def _iqr(values) -> float:
    return float(np.subtract(*np.percentile(values, [75, 25]))) if len(values) else np.nan


def _median(values) -> float:
    return float(np.median(values)) if len(values) else np.nan




if __name__ == "__main__":
    command_line(reproduce, __doc__)
