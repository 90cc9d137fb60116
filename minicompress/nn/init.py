"""Weight initialization: PyTorch's default for Linear and Conv2d, from an explicit ``rng``.

Weight shapes follow PyTorch: Linear ``(out, in)``, Conv2d ``(c_out, c_in, kh, kw)``, so
``fan_in = in`` or ``c_in·kh·kw`` and ``fan_out = out`` or ``c_out·kh·kw``.
"""
from __future__ import annotations

import numpy as np

from minicompress.rng import as_rng


def fans(shape: tuple) -> tuple[int, int]:
    """(fan_in, fan_out) of a weight of ``shape`` (out, in, *kernel)."""
    if len(shape) < 2:
        raise ValueError(f"fans: a weight has at least 2 axes (out, in, ...), got shape {shape}")
    receptive = int(np.prod(shape[2:], dtype=np.int64))
    return shape[1] * receptive, shape[0] * receptive


def uniform_fan_in(shape, fan_in: int | None = None, *, rng=None, dtype=np.float32) -> np.ndarray:
    """U(−1/√fan_in, 1/√fan_in): PyTorch's default for Linear and Conv2d weights and biases.

    ``fan_in`` defaults to ``fans(shape)[0]``; pass it for a bias, whose shape has no fan.
    """
    fan_in = fans(shape)[0] if fan_in is None else fan_in
    bound = 1.0 / np.sqrt(fan_in)
    return as_rng(rng).uniform(-bound, bound, size=shape).astype(dtype)
