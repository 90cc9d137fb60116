"""N:M semi-structured sparsity: in every group of M consecutive weights along the input
(reduction) dimension, at most N are nonzero (NVIDIA's 2:4 on Ampere sparse tensor cores).

Groups, in PyTorch layouts (``axis=1``, the default):

- Linear weight (out, in): groups of M consecutive entries of each row, along ``in``;
- Conv2d weight (out, c_in, kh, kw): groups of M consecutive input channels at each
  (out, kh, kw), along ``c_in``.

:func:`nm_mask` keeps the N largest |w| of each group (ties to the lower index);
:func:`is_nm_sparse` checks that a weight or a mask is N:M valid (at most N nonzeros per group);
:func:`nm_prune` puts such a mask on a Parameter.

The compressed format (:func:`nm_compress`, :class:`NMSparse`) stores, for each group, its N
kept values in their dtype and their positions 0…M−1 in ⌈log₂ M⌉ bits each (2 bits for 2:4: the
hardware's metadata), bit-packed into bytes without padding. For a weight of s entries,

    bytes = (s·N/M)·itemsize + ⌈(s·N/M)·⌈log₂ M⌉ / 8⌉,

so 2:4 in float32 takes 17/32 of the dense bytes (8 bytes of values + 4 bits of indices per
group of 4 instead of 16 bytes), and in float16 9/16 (4 bytes + 4 bits instead of 8 bytes). The hardware pads its metadata to its tiles; this count is the
information the format holds. The speedup is the hardware's (up to 2× math throughput): here it
is counted, not run.
"""
from __future__ import annotations

import math
import numbers
from dataclasses import dataclass

import numpy as np

from minicompress.nn.module import Parameter


def _check_nm(n, m) -> tuple[int, int]:
    for name, v in (("n", n), ("m", m)):
        if isinstance(v, (bool, np.bool_)) or not isinstance(v, numbers.Integral):
            raise TypeError(f"{name}: expected an int, got {type(v).__name__} {v!r}")
    if not 1 <= n < m:
        raise ValueError(f"n, m: expected 1 <= n < m (keep n of every m weights), got n={n}, m={m}")
    return int(n), int(m)


def _groups(weight, m: int, axis, who: str) -> tuple[np.ndarray, int]:
    """``weight`` with ``axis`` moved last and split into groups: (..., size/m, m), and the axis."""
    w = np.asarray(weight)
    if not (np.issubdtype(w.dtype, np.number) or w.dtype == bool) or np.issubdtype(w.dtype, np.complexfloating):
        raise TypeError(f"{who}: expected a real numeric array, got dtype {w.dtype}")
    if isinstance(axis, bool) or not isinstance(axis, numbers.Integral) or not -w.ndim <= axis < w.ndim:
        raise ValueError(f"axis: expected an int in [{-w.ndim}, {w.ndim - 1}] for {who} of shape "
                         f"{w.shape}, got {axis!r}")
    axis = int(axis) % w.ndim
    if w.shape[axis] % m:
        raise ValueError(f"{who}: dimension {axis} of shape {w.shape} has {w.shape[axis]} entries, "
                         f"not divisible by m={m} (groups of m consecutive weights)")
    moved = np.moveaxis(w, axis, -1)
    return moved.reshape(*moved.shape[:-1], w.shape[axis] // m, m), axis


def _ungroup(grouped: np.ndarray, axis: int) -> np.ndarray:
    """Inverse of :func:`_groups`."""
    moved = grouped.reshape(*grouped.shape[:-2], -1)
    return np.moveaxis(moved, -1, axis)


def _kept_positions(groups: np.ndarray, n: int) -> np.ndarray:
    """Positions (ascending) of the n largest |w| of each group, ties to the lower index."""
    # a stable sort of −|w| puts the larger magnitudes first and, among equals, the lower index
    order = np.argsort(-np.abs(groups.astype(np.float64)), axis=-1, kind="stable")
    return np.sort(order[..., :n], axis=-1)


def nm_mask(weight, n: int, m: int, *, axis: int = 1) -> np.ndarray:
    """The N:M mask of ``weight``: in each group of ``m`` consecutive entries along ``axis``,
    1 at the ``n`` largest |w| (ties to the lower index), 0 elsewhere.

    Parameters
    ----------
    weight : array_like
        Linear (out, in) or Conv2d (out, c_in, kh, kw) weight, PyTorch layout; finite.
    n, m : int
        Keep n of every m, 1 <= n < m.
    axis : int
        The grouped dimension (default 1: ``in`` of a Linear, ``c_in`` of a Conv2d); its size
        must be divisible by m.

    Returns
    -------
    np.ndarray, float64, weight's shape
    """
    n, m = _check_nm(n, m)
    groups, axis = _groups(weight, m, axis, "weight")
    if not np.isfinite(groups).all():
        raise ValueError(f"weight: {int((~np.isfinite(groups)).sum())} non-finite entries; N:M "
                         f"selection needs finite magnitudes")
    mask = np.zeros(groups.shape)
    np.put_along_axis(mask, _kept_positions(groups, n), 1.0, axis=-1)
    return _ungroup(mask, axis)


def is_nm_sparse(weight, n: int, m: int, *, axis: int = 1) -> bool:
    """Is ``weight`` (or a 0/1 mask) N:M valid: at most ``n`` nonzeros in each group of ``m``
    consecutive entries along ``axis``? (NaN counts as nonzero.)"""
    n, m = _check_nm(n, m)
    groups, _ = _groups(weight, m, axis, "weight")
    return bool(((groups != 0).sum(axis=-1) <= n).all())


def nm_prune(param: Parameter, n: int, m: int, *, axis: int = 1) -> Parameter:
    """Put the N:M mask of the effective weights ``data · mask`` on ``param`` (combined with
    its mask, so it stays N:M valid and only gains zeros); returns ``param``."""
    if not isinstance(param, Parameter):
        raise TypeError(f"param: expected a Parameter (e.g. model[1].weight), got {type(param).__name__}")
    mask = nm_mask(param.value(), n, m, axis=axis)
    param.mask = mask if param.mask is None else mask * param.mask
    return param


def index_bits(m: int) -> int:
    """Bits per stored position 0…m−1: ⌈log₂ m⌉ (2 for 2:4 and 1:4, 3 for 4:8)."""
    return max(math.ceil(math.log2(m)), 1)


def nm_storage_bytes(shape, n: int, m: int, dtype=np.float32) -> int:
    """Exact bytes of an N:M-compressed weight of ``shape``: values + bit-packed indices."""
    n, m = _check_nm(n, m)
    kept = math.prod(shape) * n // m
    return kept * np.dtype(dtype).itemsize + math.ceil(kept * index_bits(m) / 8)


@dataclass(frozen=True)
class NMSparse:
    """An N:M-compressed weight.

    Attributes
    ----------
    values : np.ndarray, (..., groups, n), the weight's dtype
        The kept values of each group, in the order of their positions (``axis`` moved last).
    indices : np.ndarray of uint8
        The positions 0…m−1 of the values, ``index_bits(m)`` bits each (most significant bit
        first), packed into bytes in the order of ``values.ravel()``.
    shape, n, m, axis
        The dense weight's shape and the format.
    """

    values: np.ndarray
    indices: np.ndarray
    shape: tuple
    n: int
    m: int
    axis: int

    @property
    def nbytes(self) -> int:
        """Bytes of the stored arrays (values + packed indices)."""
        return int(self.values.nbytes + self.indices.nbytes)

    def positions(self) -> np.ndarray:
        """The unpacked positions, shape of ``values``."""
        b, count = index_bits(self.m), self.values.size
        bits = np.unpackbits(self.indices)[:count * b].reshape(count, b)
        return (bits.astype(np.int64) @ (1 << np.arange(b - 1, -1, -1))).reshape(self.values.shape)

    def to_dense(self) -> np.ndarray:
        """The dense weight (zeros at the positions not stored)."""
        dense = np.zeros((*self.values.shape[:-1], self.m), self.values.dtype)
        np.put_along_axis(dense, self.positions(), self.values, axis=-1)
        return _ungroup(dense, self.axis)


def nm_compress(weight, n: int = 2, m: int = 4, *, axis: int = 1) -> NMSparse:
    """Store an N:M-valid ``weight`` (e.g. ``w · nm_mask(w, n, m)``) as values + indices.

    Raises if ``weight`` is not N:M sparse along ``axis`` (apply :func:`nm_mask` first). In a
    group with fewer than n nonzeros, zeros are stored at the lowest free positions.
    """
    n, m = _check_nm(n, m)
    w = np.asarray(weight)
    if not is_nm_sparse(w, n, m, axis=axis):
        raise ValueError(f"weight: not {n}:{m} sparse along axis {axis} (some group of {m} has more "
                         f"than {n} nonzeros); apply nm_mask first")
    groups, axis = _groups(w, m, axis, "weight")
    positions = _kept_positions(groups, n)  # every nonzero is among the n largest |w|
    values = np.take_along_axis(groups, positions, axis=-1).copy()
    b = index_bits(m)
    bits = (positions.reshape(-1, 1) >> np.arange(b - 1, -1, -1)) & 1  # (kept, b), MSB first
    return NMSparse(values, np.packbits(bits.astype(np.uint8).ravel()), w.shape, n, m, axis)
