"""Observers: choose (S, Z) for a tensor from calibration data (PyTorch's ``torch.ao`` observers).

An observer sees batches (:meth:`Observer.observe`) and turns what it saw into a range [lo, hi],
then into (S, Z) by :func:`~minicompress.quant.affine.choose_qparams`. Four rules:

``MinMaxObserver``               lo, hi = the smallest and largest value seen.
``MovingAverageMinMaxObserver``  exponential moving averages of each batch's min and max,
                                 lo ← lo + c·(min_batch − lo) (the first batch sets them): Jacob
                                 et al.'s activation ranges in training (§3), c = 0.01 as PyTorch.
``PercentileObserver``           lo, hi = the (100 − p)-th and p-th percentiles of everything seen
                                 (symmetric: the p-th percentile of |x|): outliers are clipped.
``MSEObserver``                  the range α·[lo, hi] of the min–max range, α on a grid of
                                 ``steps`` values in (0, 1], that minimizes Σ (x − x̂)² over
                                 everything seen: the clipping error traded against the rounding
                                 error.

Per channel (``axis=k``): one range per index along axis k, the others reduced. The last two
keep the values they saw (calibration sets are small). NaN in a batch is an error.
"""
from __future__ import annotations

import numpy as np

from minicompress.nn.checks import NonFiniteError
from minicompress.quant.affine import check_bits, choose_qparams, fake_quantize


class Observer:
    """Base: ``observe(x)`` batches, then ``qparams()`` → (scale, zero_point).

    Parameters
    ----------
    bits : int in [2, 16];  signed : bool;  symmetric : bool (Z = 0, narrow codes)
    axis : int or None
        None: one range for the tensor; k: one per index along axis k (per channel).
    """

    def __init__(self, *, bits: int = 8, signed: bool = True, symmetric: bool = False, axis=None):
        self.bits, self.signed, self.symmetric = check_bits(bits, type(self).__name__), signed, symmetric
        if symmetric and not signed:
            raise ValueError(f"{type(self).__name__}: symmetric quantization needs signed codes")
        self.axis = axis
        self.reset()

    def reset(self) -> None:
        self.lo = self.hi = None
        self.batches = 0

    def _prepare(self, x) -> np.ndarray:
        """x as float64, channels first and flattened: (channels, values) or (1, values)."""
        x = np.asarray(x, dtype=np.float64)
        if x.size == 0:
            raise ValueError(f"{type(self).__name__}: observed an empty batch")
        if not np.isfinite(x).all():
            raise NonFiniteError(f"{type(self).__name__}: calibration data contains NaN or inf "
                                 f"(first at flat index {int(np.flatnonzero(~np.isfinite(x.ravel()))[0])})")
        if self.axis is None:
            return x.reshape(1, -1)
        if not -x.ndim <= self.axis < x.ndim:
            raise ValueError(f"{type(self).__name__}: axis {self.axis} is out of range for a batch "
                             f"of shape {x.shape}")
        return np.moveaxis(x, self.axis, 0).reshape(x.shape[self.axis], -1)

    def observe(self, x) -> np.ndarray:
        """Record a batch (any shape); returns it unchanged."""
        v = self._prepare(x)
        self._update(v)
        self.batches += 1
        return x

    def _update(self, v: np.ndarray) -> None:
        lo, hi = v.min(axis=1), v.max(axis=1)
        self.lo = lo if self.lo is None else np.minimum(self.lo, lo)
        self.hi = hi if self.hi is None else np.maximum(self.hi, hi)

    def range(self) -> tuple[np.ndarray, np.ndarray]:
        if self.lo is None:
            raise RuntimeError(f"{type(self).__name__}: qparams() before any observe()")
        return self.lo, self.hi

    def qparams(self):
        """(scale, zero_point): floats and ints, scalars per tensor, (channels,) per channel."""
        lo, hi = self.range()
        scale, zero_point = choose_qparams(lo, hi, bits=self.bits, signed=self.signed,
                                           symmetric=self.symmetric)
        return (scale[0], zero_point[0]) if self.axis is None else (scale, zero_point)

    def __repr__(self) -> str:
        kind = "symmetric" if self.symmetric else "affine"
        where = "per tensor" if self.axis is None else f"per channel (axis {self.axis})"
        return f"{type(self).__name__}({self.bits} bits, {kind}, {where})"


class MinMaxObserver(Observer):
    """The smallest and largest value seen."""


class MovingAverageMinMaxObserver(Observer):
    """Exponential moving averages of the batch min and max (``averaging_constant`` c)."""

    def __init__(self, averaging_constant: float = 0.01, **kwargs):
        if not 0 < averaging_constant <= 1:
            raise ValueError(f"MovingAverageMinMaxObserver: averaging_constant must be in (0, 1], "
                             f"got {averaging_constant!r}")
        self.averaging_constant = float(averaging_constant)
        super().__init__(**kwargs)

    def _update(self, v: np.ndarray) -> None:
        lo, hi, c = v.min(axis=1), v.max(axis=1), self.averaging_constant
        if self.lo is None:
            self.lo, self.hi = lo, hi
        else:
            self.lo, self.hi = self.lo + c * (lo - self.lo), self.hi + c * (hi - self.hi)


class _Collecting(Observer):
    """Keeps every value seen, per channel."""

    def reset(self) -> None:
        super().reset()
        self.values = []

    def _update(self, v: np.ndarray) -> None:
        super()._update(v)
        self.values.append(v)

    def seen(self) -> np.ndarray:
        Observer.range(self)  # raises before any observe()
        return np.concatenate(self.values, axis=1)  # (channels, values)


class PercentileObserver(_Collecting):
    """The (100 − p)-th and p-th percentiles (``percentile`` p in (50, 100])."""

    def __init__(self, percentile: float = 99.99, **kwargs):
        if not 50 < percentile <= 100:
            raise ValueError(f"PercentileObserver: percentile must be in (50, 100], got {percentile!r}")
        self.percentile = float(percentile)
        super().__init__(**kwargs)

    def range(self):
        v, p = self.seen(), self.percentile
        if self.symmetric:
            top = np.percentile(np.abs(v), p, axis=1)
            return -top, top
        return np.percentile(v, 100 - p, axis=1), np.percentile(v, p, axis=1)


class MSEObserver(_Collecting):
    """The shrunk min–max range α·[lo, hi] with the least squared quantization error, measured
    on at most ``max_values`` of the values seen per channel (every j-th, evenly spaced)."""

    def __init__(self, steps: int = 100, max_values: int = 2 ** 16, **kwargs):
        for name, value in (("steps", steps), ("max_values", max_values)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"MSEObserver: {name} must be a positive int, got {value!r}")
        self.steps, self.max_values = steps, max_values
        super().__init__(**kwargs)

    def range(self):
        lo, hi = super().range()
        v = self.seen()
        v = v[:, ::-(-v.shape[1] // self.max_values)]  # every j-th value, j = ⌈n / max_values⌉
        best_lo, best_hi, best = lo.copy(), hi.copy(), np.full(lo.shape, np.inf)
        for alpha in np.linspace(1.0 / self.steps, 1.0, self.steps):
            a, b = alpha * np.minimum(lo, 0), alpha * np.maximum(hi, 0)
            scale, zp = choose_qparams(a, b, bits=self.bits, signed=self.signed, symmetric=self.symmetric)
            x_hat = fake_quantize(v, scale, zp, bits=self.bits, signed=self.signed, axis=0,
                                  narrow=self.symmetric)
            err = ((v - x_hat) ** 2).sum(axis=1)
            better = err < best  # ties keep the smaller α seen first
            best_lo, best_hi, best = np.where(better, a, best_lo), np.where(better, b, best_hi), \
                np.where(better, err, best)
        return best_lo, best_hi


OBSERVERS = {"minmax": MinMaxObserver, "moving_average": MovingAverageMinMaxObserver,
             "percentile": PercentileObserver, "mse": MSEObserver}
