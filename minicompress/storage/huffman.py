"""Huffman coding with canonical codes: our own small encoder and decoder (heapq and NumPy).

Huffman (1952): repeatedly merge the two least frequent subtrees; a symbol's code length is its
depth in the final tree. The expected length L = Σ p_s·ℓ_s is the least of any prefix code and
H ≤ L < H + 1, H = −Σ p_s log₂ p_s the entropy of the stream's symbol frequencies.

Canonical codes (as DEFLATE): only the lengths are stored. Symbols sorted by (length, symbol)
get consecutive codes, the code growing by one and shifting left whenever the length grows, so
the table is rebuilt from the lengths alone.

A table is a dict ``{symbol: "0110"}`` (the codeword as a string of bits), readable and easy to
check for the prefix property; :func:`huffman_decode` accepts any prefix-free table.
"""
from __future__ import annotations

import heapq
from collections import Counter

import numpy as np

from minicompress.storage.bits import MAX_CODE_BITS, pack_codes, unpack_bits


def code_lengths(counts: dict) -> dict:
    """Huffman code length of every symbol from its count (ties broken by symbol order).

    One symbol alone gets length 1 (a code needs at least one bit per symbol).
    """
    symbols = sorted(counts)
    if len(symbols) == 1:
        return {symbols[0]: 1}
    heap = [(counts[s], i) for i, s in enumerate(symbols)]  # (weight, node); leaves are 0..m-1
    heapq.heapify(heap)
    parent = {}
    node = len(symbols)
    while len(heap) > 1:
        (w1, a), (w2, b) = heapq.heappop(heap), heapq.heappop(heap)
        parent[a] = parent[b] = node
        heapq.heappush(heap, (w1 + w2, node))
        node += 1
    depth = {node - 1: 0}  # the root; parents are created after their children
    for child in range(node - 2, -1, -1):
        depth[child] = depth[parent[child]] + 1
    return {s: depth[i] for i, s in enumerate(symbols)}


def canonical_code(lengths: dict) -> dict:
    """The canonical table ``{symbol: bits}`` of the given code lengths (Kraft sum ≤ 1)."""
    table, code, previous = {}, 0, 0
    for symbol, length in sorted(lengths.items(), key=lambda item: (item[1], item[0])):
        if not 1 <= length <= MAX_CODE_BITS:
            raise ValueError(f"canonical_code: length of symbol {symbol} must be in "
                             f"[1, {MAX_CODE_BITS}], got {length}")
        code <<= length - previous
        if code >> length:
            raise ValueError("canonical_code: these lengths violate Kraft's inequality "
                             "(Σ 2^-length > 1): no prefix code has them")
        table[symbol], code, previous = format(code, f"0{length}b"), code + 1, length
    return table


def huffman_encode(symbols) -> tuple[bytes, dict]:
    """Huffman-code a stream of integer symbols with the canonical code of its frequencies.

    Parameters
    ----------
    symbols : 1-D array_like of ints (or a bytes object: its byte values)

    Returns
    -------
    (bytes, table)
        The codes packed MSB first (zero-padded to a byte) and the table ``{symbol: bits}``.
        An empty stream gives ``(b"", {})``.
    """
    symbols = _as_symbols(symbols, "huffman_encode")
    if symbols.size == 0:
        return b"", {}
    values, counts = np.unique(symbols, return_counts=True)
    table = canonical_code(code_lengths(dict(zip(values.tolist(), counts.tolist()))))
    codes = np.array([int(table[v], 2) for v in values.tolist()], np.int64)
    lengths = np.array([len(table[v]) for v in values.tolist()], np.int64)
    where = np.searchsorted(values, symbols)  # position of each symbol in ``values``
    return pack_codes(codes[where], lengths[where]), table


def huffman_decode(data: bytes, table: dict, n: int) -> np.ndarray:
    """The first ``n`` symbols of a stream written with ``table`` (any prefix-free code).

    Every bit position's codeword is found at once (one pass per code length over the whole
    stream); the symbols are then read off by following the lengths from position 0.

    Raises
    ------
    ValueError
        A table that is not prefix-free; a stream that ends before ``n`` symbols; bits that
        match no codeword.
    """
    n = _count(n)
    codes = _check_table(table)
    if n == 0:
        return np.zeros(0, np.int64)
    if not codes:
        raise ValueError(f"huffman_decode: an empty table cannot decode {n} symbols")
    bits = unpack_bits(bytes(data))
    size, longest = bits.size, max(len(c) for c in codes)
    padded = np.concatenate([bits, np.zeros(longest, np.uint8)]).astype(np.int64)
    found_length = np.zeros(size, np.int64)  # length of the codeword starting at each bit, or 0
    found_symbol = np.zeros(size, np.int64)
    window = np.zeros(size, np.int64)  # the next l bits read as an integer, for l = 1, 2, ...
    by_length = {}
    for code, symbol in codes.items():
        by_length.setdefault(len(code), []).append((int(code, 2), symbol))
    for length in range(1, longest + 1):
        window = (window << 1) | padded[length - 1:length - 1 + size]
        if length in by_length:
            values, syms = (np.array(c, np.int64) for c in zip(*sorted(by_length[length])))
            at = np.minimum(np.searchsorted(values, window), values.size - 1)
            hit = values[at] == window  # a prefix-free code matches at most one length per position
            found_length[hit], found_symbol[hit] = length, syms[at[hit]]
    lengths, found, out, position = found_length.tolist(), found_symbol.tolist(), [0] * n, 0
    for i in range(n):
        step = lengths[position] if position < size else 0
        if position + max(step, 1) > size or step == 0:
            what = "has bits that match no code" if step == 0 and position < size else "ends"
            raise ValueError(f"huffman_decode: the stream {what} at bit {position}, after {i} of "
                             f"{n} symbols (truncated or corrupted)")
        out[i], position = found[position], position + step
    return np.array(out, np.int64)


def expected_length(table: dict, symbols) -> float:
    """Mean code length in bits per symbol of ``symbols`` under ``table``."""
    symbols = _as_symbols(symbols, "expected_length")
    values, counts = np.unique(symbols, return_counts=True)
    return float(sum(c * len(table[v]) for v, c in zip(values.tolist(), counts.tolist())) / symbols.size)


def entropy(symbols) -> float:
    """H = −Σ p log₂ p of the symbol frequencies of a stream, in bits per symbol."""
    counts = np.array(list(Counter(_as_symbols(symbols, "entropy").tolist()).values()), float)
    p = counts / counts.sum()
    return float(-(p * np.log2(p)).sum())


def _as_symbols(symbols, who: str) -> np.ndarray:
    if isinstance(symbols, (bytes, bytearray)):
        symbols = np.frombuffer(bytes(symbols), np.uint8)  # a byte string: its byte values
    symbols = np.asarray(symbols)
    if symbols.ndim != 1 or (symbols.size and not np.issubdtype(symbols.dtype, np.integer)):
        raise TypeError(f"{who}: symbols must be a 1-D array of integers, got {symbols.dtype} "
                        f"array of shape {symbols.shape}")
    return symbols.astype(np.int64)


def _count(n) -> int:
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
        raise ValueError(f"huffman_decode: n must be a non-negative int, got {n!r}")
    return int(n)


def _check_table(table) -> dict:
    """``{codeword: symbol}`` of a table, after checking it is a prefix-free code."""
    if not isinstance(table, dict):
        raise TypeError(f"huffman_decode: table must be a dict {{symbol: bits}}, got {type(table).__name__}")
    codes = {}
    for symbol, code in table.items():
        if not isinstance(code, str) or not code or set(code) - {"0", "1"} or len(code) > MAX_CODE_BITS:
            raise ValueError(f"huffman_decode: the code of symbol {symbol!r} must be a string of "
                             f"1 to {MAX_CODE_BITS} bits '0'/'1', got {code!r}")
        if code in codes:
            raise ValueError(f"huffman_decode: symbols {codes[code]!r} and {symbol!r} share the code {code!r}")
        codes[code] = symbol
    ordered = sorted(codes)  # a prefix sorts right before the codes that extend it
    for a, b in zip(ordered, ordered[1:]):
        if b.startswith(a):
            raise ValueError(f"huffman_decode: the table is not prefix-free ({a!r} is a prefix of {b!r})")
    return codes
