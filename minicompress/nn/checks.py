"""Input validation shared by the layers: fail early, name the layer, the expected and the actual.

Only metadata is inspected on the hot path (rank, sizes, dtype), plus one cheap finiteness test
of the input of layers with parameters: ``x.sum()`` is finite unless some entry is NaN or inf
(or the sum overflows, which the exact test below then clears).
"""
from __future__ import annotations

import numpy as np


class NonFiniteError(ValueError):
    """A NaN or an infinity where finite numbers are required (an input, a loss)."""


def check_array(x, who: str, what: str = "input") -> None:
    """``x`` must be a real floating-point ndarray."""
    if not isinstance(x, np.ndarray):
        raise TypeError(f"{who}: {what} must be a NumPy array, got {type(x).__name__}")
    if not np.issubdtype(x.dtype, np.floating):
        raise TypeError(f"{who}: {what} dtype must be floating-point (float32 or float64), got "
                        f"{x.dtype}; convert it with .astype(np.float32)")


def check_input(module, x, layout: str, sizes: dict[int, int] | None = None, dtype=None,
                finite: bool = False) -> None:
    """Validate a layer's input.

    Parameters
    ----------
    module : Module
        The layer (for the message).
    x : ndarray
        The input.
    layout : str
        Its expected layout, one letter per axis, e.g. ``"ni"`` or ``"nchw"``.
    sizes : dict, optional
        Required sizes of some axes, e.g. ``{1: in_features}``.
    dtype : np.dtype, optional
        The dtype of the layer's parameters; the input must match it.
    finite : bool
        Also reject NaN and inf.
    """
    who = module.describe()
    check_array(x, who)
    expected = "(" + ", ".join(str((sizes or {}).get(i, c)) for i, c in enumerate(layout)) + ")"
    if x.ndim != len(layout) or any(x.shape[i] != s for i, s in (sizes or {}).items()):
        hint = "; add Flatten() before it" if layout == "ni" and x.ndim > 2 else ""
        raise ValueError(f"{who}: expected input of shape {expected}, got {x.shape}{hint}")
    if x.shape[0] == 0:
        raise ValueError(f"{who}: the input batch is empty (shape {x.shape})")
    if dtype is not None and x.dtype != dtype:
        raise TypeError(f"{who}: input dtype {x.dtype} does not match the layer's {dtype} "
                        f"parameters; convert the input with .astype(np.{dtype}) or the model "
                        f"with model.astype(np.{x.dtype})")
    if finite:
        check_finite(x, who)


def check_finite(x: np.ndarray, who: str, what: str = "input") -> None:
    """Raise NonFiniteError if ``x`` holds a NaN or an infinity."""
    if not np.isfinite(x.sum()) and not np.isfinite(x).all():
        bad = np.flatnonzero(~np.isfinite(x.ravel()))
        raise NonFiniteError(f"{who}: {what} contains {bad.size} NaN/inf value(s), first at flat "
                             f"index {bad[0]} ({x.ravel()[bad[0]]})")


def check_grad_out(module, g_out, shape: tuple) -> None:
    """The gradient arriving in backward must have the shape of the forward output."""
    check_array(g_out, module.describe(), "g_out")
    if g_out.shape != tuple(shape):
        raise ValueError(f"{module.describe()}: backward expected g_out of shape {tuple(shape)} "
                         f"(the forward output), got {g_out.shape}")


def check_mask(mask, data: np.ndarray, name: str) -> np.ndarray:
    """A mask is a 0/1 array of ``data``'s shape; returned in ``data``'s dtype."""
    mask = np.asarray(mask)
    if mask.shape != data.shape:
        raise ValueError(f"Parameter {name!r}: mask of shape {mask.shape} does not match data "
                         f"of shape {data.shape}")
    bad = ~np.isin(mask, (0, 1))
    if bad.any():
        raise ValueError(f"Parameter {name!r}: a mask may only hold 0 and 1, got "
                         f"{mask.ravel()[np.flatnonzero(bad.ravel())[0]].item()!r} "
                         f"({int(bad.sum())} such entries)")
    return mask.astype(data.dtype)


def positive_int(value, who: str, what: str) -> int:
    """``value`` as an int >= 1, or a clear error."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{who}: {what} must be a positive int, got {value!r}")
    return int(value)


def pair(value, who: str, what: str, minimum: int = 1) -> tuple[int, int]:
    """An int or a pair of ints (>= minimum) as a pair: kernel sizes, strides, paddings."""
    items = value if isinstance(value, (tuple, list)) else (value, value)
    ok = len(items) == 2 and all(isinstance(v, (int, np.integer)) and not isinstance(v, bool)
                                 and v >= minimum for v in items)
    if not ok:
        raise ValueError(f"{who}: {what} must be an int >= {minimum} or a pair of them, got {value!r}")
    return int(items[0]), int(items[1])
