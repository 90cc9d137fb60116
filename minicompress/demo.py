"""The main job for now: train LeNet-300-100 on the offline synthetic digits, evaluate, save and
reload the model. ``minicompress demo`` runs it; every number it prints is measured, here.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from minicompress import nn
from minicompress.datasets import load
from minicompress.models import lenet_300_100
from minicompress.train import evaluate, fit


def run(*, epochs: int = 5, n_train: int = 20_000, n_test: int = 5_000, seed: int = 0,
        data_dir=None, out_dir="out/demo", verbose: bool = True) -> dict:
    """Train, evaluate, save, reload; return the measured numbers."""
    x, y = load("synth_digits", "train", n=n_train, seed=seed, data_dir=data_dir)
    x_test, y_test = load("synth_digits", "test", n=n_test, seed=seed, data_dir=data_dir)
    model, loss = lenet_300_100(rng=seed), nn.SoftmaxCrossEntropy()
    optimizer = nn.SGD(model.parameters(), lr=0.05, momentum=0.9)
    history = fit(model, loss, optimizer, x, y, epochs=epochs, batch_size=128, rng=seed,
                  validation=(x_test, y_test), verbose=verbose)
    path = nn.save(model, Path(out_dir) / "lenet300.npz")
    reloaded = evaluate(nn.load(path), loss, x_test, y_test)
    result = dict(test_accuracy=history["val_accuracy"][-1], test_loss=history["val_loss"][-1],
                  reloaded_accuracy=reloaded["accuracy"], model_file=str(path),
                  samples_per_second=float(np.median(history["samples_per_second"])))
    if verbose:
        print(f"LeNet-300-100 on synthetic digits ({n_train:,} train / {n_test:,} test, seed "
              f"{seed}): test accuracy {100 * result['test_accuracy']:.2f}% after {epochs} epochs; "
              f"saved to {path} and reloaded: {100 * result['reloaded_accuracy']:.2f}%")
    return result
