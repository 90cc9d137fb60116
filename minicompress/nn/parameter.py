"""Parameter: a trainable array with its gradient, curvature and pruning mask."""
from __future__ import annotations

import numpy as np

from minicompress.nn.checks import check_mask


class Parameter:
    """A trainable array with its gradient, curvature and pruning mask.

    Attributes
    ----------
    data : ndarray
        The master values. With a mask set, the layer uses ``data * mask`` (see :meth:`value`);
        ``data`` itself keeps the values of pruned entries, as PyTorch's ``weight_orig`` does.
    grad : ndarray
        ∂E/∂data accumulated by backward passes (zero at masked entries).
    hdiag : ndarray or None
        Accumulated diagonal second derivative, written by :mod:`minicompress.nn.curvature`.
    mask : ndarray or None
        None, or a 0/1 array of ``data``'s shape and dtype. Masked entries get zero gradient
        and are never changed by an optimizer.
    name : str
        Dotted name inside its model (``"0.weight"``), set by :class:`Sequential`.
    """

    def __init__(self, data: np.ndarray, name: str = ""):
        data = np.asarray(data)
        if not np.issubdtype(data.dtype, np.floating):
            raise TypeError(f"Parameter {name!r}: data must be a floating-point array, got {data.dtype}")
        self.data = data
        self.grad = np.zeros_like(data)
        self.hdiag = None
        self._mask = None
        self.name = name

    @property
    def shape(self) -> tuple:
        return self.data.shape

    @property
    def mask(self):
        return self._mask

    @mask.setter
    def mask(self, mask):
        self._mask = None if mask is None else check_mask(mask, self.data, self.name)

    def value(self) -> np.ndarray:
        """The array a layer computes with: ``data * mask``, or ``data`` without a mask."""
        return self.data if self._mask is None else self.data * self._mask

    def masked(self, a: np.ndarray) -> np.ndarray:
        """``a`` with masked entries zeroed (a pruned weight has no gradient, no curvature)."""
        return a if self._mask is None else a * self._mask

    def add_grad(self, g: np.ndarray) -> None:
        """Accumulate ``g`` (same shape as ``data``) into ``grad``, zeroing masked entries."""
        self._check_shape(g, "gradient")
        self.grad += self.masked(g)

    def add_hdiag(self, h: np.ndarray) -> None:
        """Accumulate a diagonal second derivative into ``hdiag`` (created on first use)."""
        self._check_shape(h, "second derivative")
        if self.hdiag is None:
            self.hdiag = np.zeros_like(self.data)
        self.hdiag += self.masked(h)

    def _check_shape(self, a: np.ndarray, what: str) -> None:
        if a.shape != self.data.shape:
            raise ValueError(f"Parameter {self.name!r}: {what} of shape {a.shape} does not match "
                             f"data of shape {self.data.shape}")

    def __repr__(self) -> str:
        masked = "" if self._mask is None else f", {int(self._mask.size - self._mask.sum())} masked"
        return f"Parameter({self.name or '?'}, shape={self.data.shape}, dtype={self.data.dtype}{masked})"


def accumulate(store: dict, p: Parameter, value: np.ndarray) -> None:
    """``store[p] += value`` with masked entries zeroed (e.g. Hv of a pruned weight is 0)."""
    store[p] = store[p] + p.masked(value) if p in store else p.masked(value)
