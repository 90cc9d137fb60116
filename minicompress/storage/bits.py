"""Bit streams: variable-length codes packed most significant bit first, and fixed-width fields.

A stream is the concatenation of its codes, each written with its own length, padded with zero
bits to a whole byte (``np.packbits`` order: the first bit is the high bit of the first byte).
"""
from __future__ import annotations

import numpy as np

MAX_CODE_BITS = 63  # codes are held in int64


def pack_codes(codes, lengths) -> bytes:
    """Write ``codes[i]`` in ``lengths[i]`` bits, one after the other, MSB first.

    Parameters
    ----------
    codes : (n,) non-negative ints, each < 2**lengths[i]
    lengths : (n,) ints in [1, 63]

    Returns
    -------
    bytes
        ceil(Σ lengths / 8) bytes, the last one padded with zero bits.
    """
    codes, lengths = np.asarray(codes, np.int64).ravel(), np.asarray(lengths, np.int64).ravel()
    if codes.shape != lengths.shape:
        raise ValueError(f"pack_codes: {codes.size} codes but {lengths.size} lengths")
    if lengths.size and (lengths.min() < 1 or lengths.max() > MAX_CODE_BITS):
        raise ValueError(f"pack_codes: code lengths must be in [1, {MAX_CODE_BITS}], got "
                         f"[{lengths.min()}, {lengths.max()}]")
    if codes.size and (codes.min() < 0 or np.any(codes >> lengths)):
        raise ValueError("pack_codes: a code does not fit in its length (or is negative)")
    ends = np.cumsum(lengths)
    starts = ends - lengths
    bits = np.zeros(int(ends[-1]) if ends.size else 0, np.uint8)
    for j in range(int(lengths.max()) if lengths.size else 0):  # j-th bit of every code at once
        has = lengths > j
        bits[starts[has] + j] = (codes[has] >> (lengths[has] - 1 - j)) & 1
    return np.packbits(bits).tobytes()


def unpack_bits(data: bytes) -> np.ndarray:
    """The bits of ``data`` as a uint8 array of 0/1, 8·len(data) long, MSB first."""
    return np.unpackbits(np.frombuffer(data, np.uint8))


def pack_fixed(values, bits: int) -> bytes:
    """Every value in ``bits`` bits (unsigned fixed-width fields)."""
    values = np.asarray(values, np.int64).ravel()
    return pack_codes(values, np.full(values.size, bits))


def unpack_fixed(data: bytes, bits: int, n: int) -> np.ndarray:
    """Inverse of :func:`pack_fixed`: ``n`` unsigned ``bits``-bit fields (int64).

    Raises ValueError if ``data`` holds fewer than n·bits bits.
    """
    if not 1 <= bits <= MAX_CODE_BITS:
        raise ValueError(f"unpack_fixed: bits must be in [1, {MAX_CODE_BITS}], got {bits}")
    stream = unpack_bits(data)
    if stream.size < n * bits:
        raise ValueError(f"unpack_fixed: {len(data)} bytes hold {stream.size // bits} fields of "
                         f"{bits} bits, {n} were expected (truncated stream)")
    fields = stream[:n * bits].reshape(n, bits).astype(np.int64)  # (n, bits), MSB first
    return fields @ (np.int64(1) << np.arange(bits - 1, -1, -1, dtype=np.int64))
