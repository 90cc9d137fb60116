"""LeNet-5 as Caffe ships it for MNIST, the network that Srinivas & Babu (2015) and Wen et al.
(2016) both compress.

    conv 20@5×5 → max-pool 2 → conv 50@5×5 → max-pool 2 → fc 800→500 → ReLU → fc 500→10

Shapes for a (n, 1, 28, 28) input: (n, 20, 24, 24) → (n, 20, 12, 12) → (n, 50, 8, 8) →
(n, 50, 4, 4) → (n, 800) → (n, 500) → (n, 10); 431,080 parameters, 2.29 M multiply-accumulates
per image, 82% of them in the convolutions and 93% of the parameters in the first fc layer.

Deviation: a ReLU follows each convolution (Caffe's ``lenet_train_test.prototxt`` has none there;
a modern default, and the one ``minicompress.bench`` times).
"""
from __future__ import annotations

import numpy as np

from minicompress import nn
from minicompress.rng import as_rng

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
