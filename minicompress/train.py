"""Training and evaluation loops: minibatches from an explicit rng, a one-line progress display,
a per-epoch history, and a guard that stops at the first NaN or infinite loss.

Paper files change *how* a step updates (a wrapped optimizer, a mask schedule in ``on_step``),
never this loop.
"""
from __future__ import annotations

import math
import sys
import time
from typing import Callable

import numpy as np

from minicompress.nn.checks import NonFiniteError, check_array, positive_int
from minicompress.nn.module import Module
from minicompress.rng import as_rng


def minibatches(n: int, batch_size: int, rng=None, shuffle: bool = True):
    """Yield indices covering range(n) once: index arrays in a random order drawn from ``rng``,
    or, without shuffling, slices (so ``x[batch]`` is a view, not a copy).

    The last batch is smaller when ``batch_size`` does not divide ``n``.
    """
    order = as_rng(rng).permutation(n) if shuffle else None
    for start in range(0, n, batch_size):
        yield order[start:start + batch_size] if shuffle else slice(start, min(start + batch_size, n))


class History:
    """Per-epoch records: ``history.records[-1]`` is a dict; ``history["loss"]`` a list."""

    def __init__(self):
        self.records: list[dict] = []

    def __getitem__(self, key: str) -> list:
        return [record.get(key) for record in self.records]

    def __len__(self) -> int:
        return len(self.records)

    def __repr__(self) -> str:
        return f"History({len(self)} epochs, last={self.records[-1] if self.records else None})"


class Progress:
    """One status line, rewritten in place on a terminal; one line per epoch elsewhere."""

    def __init__(self, verbose: bool, stream=None, interval: float = 0.25):
        self.stream = stream or sys.stderr
        self.verbose = verbose
        self.live = verbose and getattr(self.stream, "isatty", lambda: False)()
        self.interval, self.last_shown = interval, 0.0

    def due(self) -> bool:
        """Is it time to redraw the live line?"""
        return self.live and time.perf_counter() - self.last_shown >= self.interval

    def show(self, text: str, final: bool = False) -> None:
        """Redraw the line if it is time (always when ``final``, ending it with a newline)."""
        if not self.verbose or not (final or self.due()):
            return
        if self.live:
            self.stream.write("\r" + text + "\033[K" + ("\n" if final else ""))
        else:
            self.stream.write(text + "\n")
        self.stream.flush()
        self.last_shown = time.perf_counter()


def _check_data(x, y, who: str) -> None:
    check_array(x, who, "x")
    if not isinstance(y, np.ndarray):
        raise TypeError(f"{who}: y must be a NumPy array, got {type(y).__name__}")
    if len(x) != len(y) or len(x) == 0:
        raise ValueError(f"{who}: x and y must hold the same, non-zero number of examples; got "
                         f"{len(x)} and {len(y)}")


def _check_loss(loss, who: str) -> None:
    if not all(callable(getattr(loss, name, None)) for name in ("forward", "backward", "count_correct")) \
            or not hasattr(loss, "reduction"):
        raise TypeError(f"{who}: loss must be an engine loss (nn.SoftmaxCrossEntropy(), "
                        f"nn.MSELoss()), got {type(loss).__name__}")


def _check_optimizer(model, optimizer) -> None:
    """The optimizer must step, and every parameter it holds must be one of the model's: an
    optimizer built before the model was copied (``quantize_model``, ``copy.deepcopy``) would
    otherwise train nothing, silently."""
    if not isinstance(model, Module):
        raise TypeError(f"fit: model must be an engine Module, got {type(model).__name__}")
    if not callable(getattr(optimizer, "step", None)):
        raise TypeError(f"fit: optimizer must have a step() method (nn.SGD, nn.Adam, a "
                        f"QuantizedOptimizer), got {type(optimizer).__name__}")
    params = getattr(optimizer, "params", None)
    if params is None:
        return
    own = {id(p) for p in model.parameters()}
    foreign = [p for p in params if id(p) not in own]
    if foreign:
        raise ValueError(f"fit: {len(foreign)} of the optimizer's {len(params)} parameters are "
                         f"not the model's (the first: {foreign[0]!r}); expected parameters of "
                         f"the model being trained: build the optimizer from model.parameters() "
                         f"after copying or quantizing the model")


def _status(record: dict) -> str:
    parts = [f"epoch {record['epoch']}/{record['epochs']}",
             f"step {record['step']}/{record['steps_per_epoch']}", f"loss {record['loss']:.4f}"]
    if not math.isnan(record["accuracy"]):
        parts.append(f"acc {100 * record['accuracy']:.2f}%")
    if "val_loss" in record:
        parts.append(f"val_loss {record['val_loss']:.4f}")
    if not math.isnan(record.get("val_accuracy", math.nan)):
        parts.append(f"val_acc {100 * record['val_accuracy']:.2f}%")
    parts.append(f"{record['samples_per_second']:,.0f} samples/s")
    return "  ".join(parts)


def fit(model, loss, optimizer, x: np.ndarray, y: np.ndarray, *, epochs: int, batch_size: int,
        rng=None, shuffle: bool = True, validation: tuple | None = None, verbose: bool = True,
        on_step: Callable[[int], None] | None = None,
        on_epoch: Callable[[dict], bool | None] | None = None) -> History:
    """Train ``model`` by minibatch gradient descent.

    Parameters
    ----------
    model, loss, optimizer
        A Module, a loss (``SoftmaxCrossEntropy``, ``MSELoss``) and an optimizer over (some of)
        the model's parameters.
    x, y : ndarray
        Inputs (n, ...) and targets (n, ...).
    epochs, batch_size : int
    rng : np.random.Generator, int or None
        Order of the examples in every epoch.
    validation : (x_val, y_val), optional
        Evaluated after every epoch (``val_loss``, ``val_accuracy``).
    verbose : bool
        The progress line on stderr (epoch, step, loss, accuracy, samples/s).
    on_step : callable(step), optional
        Called after every optimizer step with the number of steps so far (mask schedules).
    on_epoch : callable(record), optional
        Called with each epoch's record; returning True stops training.

    Returns
    -------
    History
        One record per epoch: loss (over the epoch's examples, in the loss's reduction) and
        accuracy, both accumulated while the weights changed, val_loss/val_accuracy, seconds,
        samples_per_second, steps.

    Raises
    ------
    NonFiniteError
        As soon as the loss or an activation becomes NaN or infinite, naming the epoch and step.
    """
    _check_data(x, y, "fit")
    _check_optimizer(model, optimizer)
    _check_loss(loss, "fit")
    if not isinstance(shuffle, (bool, np.bool_)):
        raise TypeError(f"fit: shuffle must be True or False, got {shuffle!r}")
    if validation is not None and (not isinstance(validation, (tuple, list)) or len(validation) != 2):
        raise TypeError(f"fit: validation must be a pair (x_val, y_val), got "
                        f"{type(validation).__name__}" + (f" of length {len(validation)}"
                                                          if isinstance(validation, (tuple, list)) else ""))
    for name, callback in (("on_step", on_step), ("on_epoch", on_epoch)):
        if callback is not None and not callable(callback):
            raise TypeError(f"fit: {name} must be callable or None, got {type(callback).__name__}")
    epochs = positive_int(epochs, "fit", "epochs")
    batch_size = positive_int(batch_size, "fit", "batch_size")
    rng, history, progress = as_rng(rng), History(), Progress(verbose)
    steps_per_epoch, steps = math.ceil(len(x) / batch_size), 0
    model.train()
    for epoch in range(1, epochs + 1):
        start, seen, loss_sum, correct = time.perf_counter(), 0, 0.0, 0
        for step, batch in enumerate(minibatches(len(x), batch_size, rng, shuffle), start=1):
            xb, yb = x[batch], y[batch]
            size = len(xb)
            try:
                output = model(xb)
                value = loss(output, yb)
                if not math.isfinite(value):
                    raise NonFiniteError(f"{type(loss).__name__}: the loss is {value}")
            except NonFiniteError as err:
                raise NonFiniteError(f"fit: training diverged at epoch {epoch}, step {step} "
                                     f"({steps + 1} steps in all): {err}. Lower the learning "
                                     f"rate or check the data.") from err
            model.zero_grad()
            model.grad_params(loss.backward())
            optimizer.step()
            steps += 1
            if on_step is not None:
                on_step(steps)
            hits = loss.count_correct(output, yb)
            seen += size
            loss_sum += value * (size if loss.reduction == "mean" else 1)
            correct = None if hits is None or correct is None else correct + hits
            if step == steps_per_epoch or progress.due():
                record = dict(epoch=epoch, epochs=epochs, step=step, steps_per_epoch=steps_per_epoch,
                              loss=loss_sum / seen if loss.reduction == "mean" else loss_sum,
                              accuracy=math.nan if correct is None else correct / seen,
                              samples_per_second=seen / max(time.perf_counter() - start, 1e-9))
                progress.show(_status(record))
        record["seconds"], record["steps"] = time.perf_counter() - start, steps
        if validation is not None:
            scores = evaluate(model, loss, *validation)
            record.update(val_loss=scores["loss"], val_accuracy=scores["accuracy"])
            model.train()
        history.records.append(record)
        progress.show(_status(record), final=True)
        if on_epoch is not None and on_epoch(record):
            break
    return history


def evaluate(model, loss, x: np.ndarray, y: np.ndarray, *, batch_size: int = 1000) -> dict:
    """Loss and accuracy of ``model`` on (x, y), in evaluation mode, batch by batch.

    The loss follows the loss's reduction over the whole set (mean or sum); accuracy is NaN
    where the loss defines none (a single MSE output).
    """
    _check_data(x, y, "evaluate")
    _check_loss(loss, "evaluate")
    batch_size = positive_int(batch_size, "evaluate", "batch_size")
    was_training = model.training
    model.eval()
    try:
        total, correct = 0.0, 0
        for batch in minibatches(len(x), batch_size, shuffle=False):
            output = model(x[batch])
            value = loss(output, y[batch])
            total += value * (len(output) if loss.reduction == "mean" else 1)
            hits = loss.count_correct(output, y[batch])
            correct = None if hits is None or correct is None else correct + hits
    finally:
        model.train(was_training)
    mean = total / len(x) if loss.reduction == "mean" else total
    return dict(loss=mean, accuracy=math.nan if correct is None else correct / len(x))
