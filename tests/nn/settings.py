"""The grid of layer settings every derivative test runs over (BackPACK-style settings lists).

Each setting builds a float64 layer and names the input shape it takes. Sizes are odd and
small on purpose: odd sizes catch off-by-one windows; small sizes keep the finite-difference
loops (two forward passes per entry) fast.
"""
import numpy as np

from minicompress import nn

F64 = dict(dtype=np.float64)

LAYERS = [
    # id, factory(rng) -> layer, input shape
    ("linear", lambda r: nn.Linear(5, 3, rng=r, **F64), (4, 5)),
    ("linear-nobias", lambda r: nn.Linear(5, 3, bias=False, rng=r, **F64), (4, 5)),
    ("linear-1x1-batch1", lambda r: nn.Linear(1, 1, rng=r, **F64), (1, 1)),
    ("conv", lambda r: nn.Conv2d(2, 3, 3, rng=r, **F64), (2, 2, 6, 5)),
    ("conv-stride2", lambda r: nn.Conv2d(2, 3, 3, stride=2, rng=r, **F64), (2, 2, 7, 8)),
    ("conv-pad1", lambda r: nn.Conv2d(2, 2, 3, padding=1, rng=r, **F64), (2, 2, 5, 5)),
    ("conv-rect", lambda r: nn.Conv2d(1, 2, (2, 3), stride=(2, 1), padding=(0, 2), rng=r, **F64),
     (3, 1, 5, 4)),
    ("conv-nobias-odd", lambda r: nn.Conv2d(3, 2, 2, stride=3, padding=1, bias=False, rng=r, **F64),
     (2, 3, 7, 6)),
    ("conv-1x1", lambda r: nn.Conv2d(3, 4, 1, rng=r, **F64), (2, 3, 3, 3)),
    ("conv-full-kernel", lambda r: nn.Conv2d(2, 3, (4, 3), rng=r, **F64), (2, 2, 4, 3)),
    ("conv-groups2", lambda r: nn.Conv2d(4, 6, 3, groups=2, rng=r, **F64), (2, 4, 6, 5)),
    ("conv-depthwise-rect", lambda r: nn.Conv2d(3, 3, (3, 1), stride=(2, 1), padding=(1, 0),
                                                groups=3, rng=r, **F64), (2, 3, 5, 4)),
    ("conv-depthwise-x2-nobias", lambda r: nn.Conv2d(2, 4, 2, padding=1, groups=2, bias=False,
                                                     rng=r, **F64), (3, 2, 4, 3)),
    ("maxpool2", lambda r: nn.MaxPool2d(2), (2, 3, 6, 4)),
    ("maxpool-overlap", lambda r: nn.MaxPool2d(3, stride=2), (2, 2, 7, 7)),
    ("maxpool-rect-odd", lambda r: nn.MaxPool2d((2, 3), stride=(1, 2)), (2, 2, 5, 7)),
    ("avgpool2", lambda r: nn.AvgPool2d(2), (2, 3, 5, 5)),
    ("avgpool-overlap", lambda r: nn.AvgPool2d((3, 2), stride=(2, 1)), (2, 2, 7, 5)),
    ("flatten", lambda r: nn.Flatten(), (3, 2, 3, 2)),
    ("relu", lambda r: nn.ReLU(), (4, 6)),
    ("tanh", lambda r: nn.Tanh(), (4, 6)),
    ("sigmoid", lambda r: nn.Sigmoid(), (4, 6)),
    ("scaled-tanh", lambda r: nn.ScaledTanh(), (3, 2, 3, 3)),
]

ACTIVATIONS = [nn.ReLU, nn.Tanh, nn.Sigmoid, nn.ScaledTanh]


def small_cnn(rng, activation=nn.ReLU, pool=nn.MaxPool2d, dtype=np.float64):
    """conv - act - pool - conv(stride, pad) - act - flatten - linear: every layer type once."""
    return nn.Sequential(
        nn.Conv2d(1, 3, 3, rng=rng, dtype=dtype), activation(), pool(2),
        nn.Conv2d(3, 4, 2, stride=2, padding=1, rng=rng, dtype=dtype), activation(), nn.Flatten(),
        nn.Linear(4 * 2 * 2, 3, rng=rng, dtype=dtype))


def small_mlp(rng, activation=nn.Tanh, sizes=(6, 5, 4, 3), dtype=np.float64):
    layers = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(a, b, rng=rng, dtype=dtype))
        if i < len(sizes) - 2:
            layers.append(activation())
    return nn.Sequential(*layers)
