"""Quantizer: a number format, a rounding mode and a random stream, as one callable that also
counts what rounding did to the values it saw.

QPyTorch separates the *number* (a format) from the *quantizer* (format + rounding); so do we.
A quantized training run holds several of them: one for the weights, one for the activations,
one for the back-propagated errors, each with its own format and rounding (Gupta et al. round
everything to ⟨IL, FL⟩; the TPU recipe rounds matrix-product inputs to bfloat16).

>>> q = Quantizer(FixedPoint(16, 14), "stochastic", rng=0)
>>> q(np.array([0.1, 3.0]))   # doctest: +SKIP
array([0.09997559, 1.99993896])
>>> q.counts                  # doctest: +SKIP
{'values': 2, 'nonzero': 2, 'zeroed': 0, 'saturated': 1}
"""
from __future__ import annotations

import numpy as np

from minicompress.quant.fixed_point import FixedPoint
from minicompress.quant.floats import FloatFormat
from minicompress.quant.rounding import rounding_function
from minicompress.rng import as_rng

COUNTS = ("values", "nonzero", "zeroed", "saturated")


class Quantizer:
    """Round arrays to ``fmt`` with ``rounding``, drawing from ``rng``; keep counts.

    Parameters
    ----------
    fmt : FixedPoint or FloatFormat
    rounding : str
        One of ``fmt.ROUNDINGS``: "nearest", "stochastic", "down" for fixed point;
        "nearest_even", "toward_zero", "stochastic" for floats.
    rng : np.random.Generator, int or None
        Stochastic rounding's draws. Pass one Generator to every quantizer of a run: the run
        then depends on one seed only.
    count : bool
        Keep ``counts`` (a few passes over each array; switch off on hot paths that need no
        statistics).

    Attributes
    ----------
    counts : dict
        Running totals since construction or :meth:`reset`: ``values`` seen, ``nonzero``
        inputs, ``zeroed`` (nonzero inputs that rounded to 0: underflow, or below half a step
        under nearest rounding), ``saturated`` (inputs outside the representable range: clipped
        to its ends for fixed point, beyond the largest finite number for floats).
    """

    def __init__(self, fmt, rounding: str, rng=None, *, count: bool = True):
        if not isinstance(fmt, (FixedPoint, FloatFormat)):
            raise TypeError(f"Quantizer: fmt must be a FixedPoint or a FloatFormat, got "
                            f"{type(fmt).__name__}")
        rounding_function(rounding, fmt.ROUNDINGS, f"Quantizer for {type(fmt).__name__}")
        if not isinstance(count, (bool, np.bool_)):
            raise TypeError(f"Quantizer: count must be True or False, got {count!r}")
        self.fmt, self.rounding, self.rng, self.count = fmt, rounding, as_rng(rng), count
        self.buffers = {}  # scratch arrays reused between calls, by shape
        self.reset()

    def __call__(self, x: np.ndarray) -> np.ndarray:
        """The rounded copy of ``x``, counted."""
        q = self.quantize(x)
        if self.count:
            nonzero = np.count_nonzero(x)
            self.counts["values"] += np.size(x)
            self.counts["nonzero"] += nonzero
            self.counts["zeroed"] += nonzero - np.count_nonzero(q)  # rounding never makes 0 nonzero
            outside = self.outside(x)
            self.counts["saturated"] += 0 if outside is None else np.count_nonzero(outside)
        return q

    def quantize(self, x: np.ndarray) -> np.ndarray:
        """The rounded copy of ``x``, not counted (evaluation passes)."""
        return self.fmt.quantize(x, self.rounding, self.rng, self.buffers)

    def outside(self, x: np.ndarray) -> np.ndarray | None:
        """True where ``x`` lies outside the format's range (where saturation acts, and NaN);
        None when every value is inside, found by two reductions (the common case)."""
        low, high = (self.fmt.min, self.fmt.max) if isinstance(self.fmt, FixedPoint) else \
            (-self.fmt.max, self.fmt.max)
        if np.size(x) == 0 or (x.min() >= low and x.max() <= high):
            return None
        mask = x < low
        mask |= x > high
        mask |= np.isnan(x)
        return mask

    def reset(self) -> None:
        """Zero the counts."""
        self.counts = dict.fromkeys(COUNTS, 0)

    def fraction(self, what: str) -> float:
        """``zeroed`` as a fraction of the nonzero inputs, ``saturated`` of all inputs (NaN
        before any input)."""
        if what not in ("zeroed", "saturated"):
            raise ValueError(f"fraction: expected 'zeroed' or 'saturated', got {what!r}")
        total = self.counts["nonzero" if what == "zeroed" else "values"]
        return self.counts[what] / total if total else float("nan")

    def __repr__(self) -> str:
        return f"Quantizer({self.fmt!r}, {self.rounding!r})"
