"""LeNet-5 as Caffe ships it for MNIST, the network that Srinivas & Babu (2015) and Wen et al.
(2016) both compress, and the pieces their two reproductions share (data, training, notes).

    conv 20@5×5 → max-pool 2 → conv 50@5×5 → max-pool 2 → fc 800→500 → ReLU → fc 500→10

Shapes for a (n, 1, 28, 28) input: (n, 20, 24, 24) → (n, 20, 12, 12) → (n, 50, 8, 8) →
(n, 50, 4, 4) → (n, 800) → (n, 500) → (n, 10); 431,080 parameters, 2.29 M multiply-accumulates
per image, 82% of them in the convolutions and 93% of the parameters in the first fc layer.

Deviation: a ReLU follows each convolution (Caffe's ``lenet_train_test.prototxt`` has none there;
a modern default, and the one ``minicompress.bench`` times).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from minicompress import nn
from minicompress.rng import as_rng
from minicompress.train import fit

# indices of the layers with parameters, for the papers' own code
CONV1, CONV2, FC1, FC2 = 0, 3, 7, 9


def lenet5(rng=None, dtype=np.float32) -> nn.Sequential:
    """LeNet-5 (Caffe's MNIST variant, with ReLUs after the convolutions), taking (n, 1, 28, 28)."""
    rng = as_rng(rng)
    return nn.Sequential(
        nn.Conv2d(1, 20, 5, rng=rng, dtype=dtype), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(20, 50, 5, rng=rng, dtype=dtype), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(800, 500, rng=rng, dtype=dtype), nn.ReLU(),
        nn.Linear(500, 10, rng=rng, dtype=dtype))


# ----- shared by the two reproductions ------------------------------------------------------------
def load_data(tag: str, cfg, data, out_dir, data_dir, verify: bool) -> tuple:
    """(data name, output folder, train set, test set): ``data`` ("synth_digits" by default, or
    any name :func:`minicompress.datasets.load_train_test` knows) with cfg.n_train and cfg.n_test
    examples; the folder (default out/<tag>) is created."""
    from minicompress.datasets import load_train_test  # imported here: no work at import time
    data = data or "synth_digits"
    out_dir = Path(out_dir or Path("out") / tag)
    out_dir.mkdir(parents=True, exist_ok=True)
    return (data, out_dir, *load_train_test(data, n_train=cfg.n_train, n_test=cfg.n_test,
                                            data_dir=data_dir, verify=verify))


def train(model, train_set, cfg, rng, *, epochs: int, lr: float, verbose: bool = True,
          wrap=None, decay_last: int = 0) -> nn.Sequential:
    """Caffe's LeNet solver: SGD with momentum 0.9, weight decay cfg.weight_decay, batches of
    cfg.batch_size; the last ``decay_last`` epochs at lr/10; ``wrap`` wraps the optimizer."""
    opt = nn.SGD(model.parameters(), lr=lr, momentum=0.9, weight_decay=cfg.weight_decay)
    decay = lambda record: setattr(opt, "lr", lr / 10) if record["epoch"] == epochs - decay_last else None
    fit(model, nn.SoftmaxCrossEntropy(), wrap(opt) if wrap else opt, *train_set, epochs=epochs,
        batch_size=cfg.batch_size, rng=rng, verbose=verbose, on_epoch=decay if decay_last else None)
    return model


def over_seeds(ok) -> str:
    """A claim checked in every seed: "holds", or in how many seeds it does not."""
    ok = list(ok)
    return "holds" if all(ok) else f"does NOT hold in {len(ok) - sum(ok)} of {len(ok)} seeds"


def pm(values, spec: str = ".2f", scale: float = 1) -> str:
    """"mean ± std" of ``values`` times ``scale`` (a "+" in ``spec`` signs the mean only)."""
    return f"{scale * np.mean(values):{spec}} ± {scale * np.std(values):{spec.lstrip('+')}}"
