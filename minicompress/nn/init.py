"""Weight initializers. Each draws from an explicit ``rng`` and returns an array of ``dtype``.

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


def he_normal(shape, *, rng=None, dtype=np.float32) -> np.ndarray:
    """N(0, 2/fan_in) (He et al. 2015): keeps the activation variance through ReLU layers."""
    std = np.sqrt(2.0 / fans(shape)[0])
    return (std * as_rng(rng).standard_normal(shape)).astype(dtype)


def lecun_normal(shape, *, rng=None, dtype=np.float32) -> np.ndarray:
    """N(0, 1/fan_in) (LeCun et al. 1998, for tanh-like units)."""
    std = np.sqrt(1.0 / fans(shape)[0])
    return (std * as_rng(rng).standard_normal(shape)).astype(dtype)


def glorot_uniform(shape, *, rng=None, dtype=np.float32) -> np.ndarray:
    """U(−a, a) with a = √(6 / (fan_in + fan_out)) (Glorot & Bengio 2010)."""
    fan_in, fan_out = fans(shape)
    bound = np.sqrt(6.0 / (fan_in + fan_out))
    return as_rng(rng).uniform(-bound, bound, size=shape).astype(dtype)
