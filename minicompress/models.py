"""The networks that several papers and tutorials share, defined once.

``mlp``            any fully connected ReLU network on flattened images, e.g. 784-500-10
``lenet_300_100``  LeCun et al. (1998): 784-300-100-10, ReLU (magnitude pruning, Karnin, the demo)
``lenet5``         LeNet-5 as Caffe ships it for MNIST (Srinivas & Babu 2015, Wen et al. 2016)
``small_lenet``    a narrow LeNet-style CNN (Gupta et al. 2015's MNIST ConvNet at reduced width)
``sigmoid_mlp``    the small sigmoid nets of the 1988–1990 papers: 4-2-1, 2-4-1, 6-8-1, ...
``obd_mlp``        Optimal Brain Damage's regime: 14×14 digits, 196-40-10 tanh (tanh outputs)
``obd_cnn``        the same regime with a 5×5 shared-weight convolution: conv 8@5×5 - tanh -
                   avg-pool 2 - fc 200→10 (tanh outputs)
``equal_count_width``, ``small_dense_hidden``  the hidden sizes of a dense MLP baseline with a
                   given parameter budget (Denil et al. 2013; Zhu & Gupta 2017)

LeNet-5, for a (n, 1, 28, 28) input:

    conv 20@5×5 → ReLU → max-pool 2 → conv 50@5×5 → ReLU → max-pool 2 → fc 800→500 → ReLU → fc 500→10

shapes (n, 20, 24, 24) → (n, 20, 12, 12) → (n, 50, 8, 8) → (n, 50, 4, 4) → (n, 800) → (n, 500) →
(n, 10); 431,080 parameters, 2.29 M multiply-accumulates per image, 82% of them in the
convolutions and 93% of the parameters in the first fc layer. Deviation: a ReLU follows each
convolution (Caffe's ``lenet_train_test.prototxt`` has none there; a modern default, and the one
``minicompress bench`` times).

Every builder takes ``rng`` (a Generator, an int seed or None) and ``dtype``; the weights are
drawn layer by layer in order, so the same seed gives the same network.
"""
from __future__ import annotations

import numpy as np

from minicompress import nn
from minicompress.rng import as_rng

# indices of LeNet-5's layers with parameters, in ``lenet5()``'s Sequential
CONV1, CONV2, FC1, FC2 = 0, 3, 7, 9


def mlp(sizes, *, rng=None, dtype=np.float32, activation=nn.ReLU, first_layer=None) -> nn.Sequential:
    """Flatten → Linear(sizes[0], sizes[1]) → activation → … → Linear(sizes[-2], sizes[-1]).

    Takes images (n, 1, 28, 28) or vectors (n, sizes[0]); no activation after the last layer
    (its outputs are logits). ``first_layer``: a module of sizes[0] → sizes[1] features to use
    in place of the first Linear (e.g. a FactorizedLinear); the others are drawn as usual.
    """
    rng, layers = as_rng(rng), [nn.Flatten()]
    if first_layer is not None and (getattr(first_layer, "in_features", None),
                                    getattr(first_layer, "out_features", None)) != tuple(sizes[:2]):
        raise ValueError(f"mlp: first_layer must map {sizes[0]} -> {sizes[1]} features, got "
                         f"{first_layer!r}")
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(first_layer if i == 0 and first_layer is not None
                      else nn.Linear(a, b, rng=rng, dtype=dtype))
        if i < len(sizes) - 2:
            layers.append(activation())
    return nn.Sequential(*layers)


def lenet_300_100(rng=None, dtype=np.float32, *, hidden=(300, 100)) -> nn.Sequential:
    """LeNet-300-100 (LeCun et al. 1998): 784-300-100-10 with ReLU, 266,610 parameters;
    ``hidden`` gives other widths (the small dense baselines of equal size)."""
    return mlp((784, *hidden, 10), rng=rng, dtype=dtype)


def lenet5(rng=None, dtype=np.float32) -> nn.Sequential:
    """LeNet-5 (Caffe's MNIST variant, with ReLUs after the convolutions), taking (n, 1, 28, 28)."""
    rng = as_rng(rng)
    return nn.Sequential(
        nn.Conv2d(1, 20, 5, rng=rng, dtype=dtype), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(20, 50, 5, rng=rng, dtype=dtype), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(800, 500, rng=rng, dtype=dtype), nn.ReLU(),
        nn.Linear(500, 10, rng=rng, dtype=dtype))


def small_lenet(rng=None, dtype=np.float32, *, channels=(8, 16, 100)) -> nn.Sequential:
    """LeNet-style, ``channels`` = (c1, c2, h): conv c1@5×5 → ReLU → max-pool 2 → conv c2@5×5 →
    ReLU → max-pool 2 → fc 16·c2 → h → ReLU → fc h → 10, on (n, 1, 28, 28) images."""
    rng, (c1, c2, h) = as_rng(rng), channels
    return nn.Sequential(
        nn.Conv2d(1, c1, 5, rng=rng, dtype=dtype), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(c1, c2, 5, rng=rng, dtype=dtype), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
        nn.Linear(16 * c2, h, rng=rng, dtype=dtype), nn.ReLU(), nn.Linear(h, 10, rng=rng, dtype=dtype))


def sigmoid_mlp(sizes, *, init_scale: float | None = None, rng=None, dtype=np.float32) -> nn.Sequential:
    """Linear + Sigmoid layers of the given sizes, e.g. (4, 2, 1); weights and biases from
    U(−init_scale, init_scale), or the engine's default U(±1/√fan_in) if None."""
    rng, layers = as_rng(rng), []
    for a, b in zip(sizes[:-1], sizes[1:]):
        linear = nn.Linear(a, b, rng=rng, dtype=dtype)
        for p in linear.parameters() if init_scale is not None else ():
            p.data = rng.uniform(-init_scale, init_scale, p.shape).astype(dtype)
        layers += [linear, nn.Sigmoid()]
    return nn.Sequential(*layers)


def obd_mlp(rng=None, dtype=np.float32, *, hidden: int = 40, tanh_outputs: bool = True,
            activation=nn.Tanh) -> nn.Sequential:
    """196-hidden-10 with tanh units on 14×14 images (n, 1, 14, 14); tanh outputs (for ±1 targets
    and squared error, as LeCun et al. 1989) unless ``tanh_outputs=False`` (logits).
    ``activation``: the unit's class, e.g. ``nn.ScaledTanh`` (LeCun's 1.7159·tanh(2a/3))."""
    rng = as_rng(rng)
    layers = [nn.Flatten(), nn.Linear(196, hidden, rng=rng, dtype=dtype), activation(),
              nn.Linear(hidden, 10, rng=rng, dtype=dtype)]
    return nn.Sequential(*layers, *([activation()] if tanh_outputs else []))


def obd_cnn(rng=None, dtype=np.float32, *, channels: int = 8, tanh_outputs: bool = True,
            activation=nn.Tanh) -> nn.Sequential:
    """conv ``channels``@5×5 → tanh → avg-pool 2 → fc (channels·25 → 10) on 14×14 images:
    (n, 1, 14, 14) → (n, c, 10, 10) → (n, c, 5, 5) → (n, 10); tanh outputs unless
    ``tanh_outputs=False``; ``activation`` as for :func:`obd_mlp`."""
    rng = as_rng(rng)
    layers = [nn.Conv2d(1, channels, 5, rng=rng, dtype=dtype), activation(), nn.AvgPool2d(2), nn.Flatten(),
              nn.Linear(channels * 25, 10, rng=rng, dtype=dtype)]
    return nn.Sequential(*layers, *([activation()] if tanh_outputs else []))


def equal_count_width(budget: int, n_inputs: int = 784, hidden2: int = 500, n_classes: int = 10) -> int:
    """The widest h1 whose dense MLP n_inputs-h1-hidden2-n_classes has ≤ ``budget`` parameters:
    (n_inputs + 1)·h1 + (h1 + 1)·hidden2 + (hidden2 + 1)·n_classes (a dense baseline of equal
    parameter count, as Denil et al. 2013 compare with)."""
    h1 = (budget - hidden2 - (hidden2 + 1) * n_classes) // (n_inputs + 1 + hidden2)
    if h1 < 1:
        raise ValueError(f"equal_count_width: a budget of {budget} parameters is below the "
                         f"smallest MLP {n_inputs}-1-{hidden2}-{n_classes}")
    return int(h1)


def small_dense_hidden(nonzero_weights: int, ratio: float = 3.0) -> tuple[int, int]:
    """Hidden sizes (h, h/ratio) of an MLP 784-h-h/ratio-10 with about ``nonzero_weights`` weights:
    the largest h with 784·h + h·(h/ratio) + 10·(h/ratio) ≤ nonzero_weights (a small-dense
    baseline of as many weights as a sparse LeNet-300-100, as Zhu & Gupta 2017 compare with)."""
    size = lambda h: 784 * h + h * max(round(h / ratio), 1) + max(round(h / ratio), 1) * 10  # noqa: E731
    h = 1
    while size(h + 1) <= nonzero_weights:
        h += 1
    return h, max(round(h / ratio), 1)
