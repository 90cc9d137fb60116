"""How one tensor of a model file is written: three encodings, each a few streams of bytes.

``dense``   the raw values (a parameter without a mask);
``sparse``  a masked parameter: the relative index of its kept entries
            (:mod:`~minicompress.storage.sparse`), then their raw values;
``shared``  the weight of a :class:`~minicompress.quant.sharing.SharedWeights` layer: the
            codebook (raw), the relative index of the kept connections, their cluster codes.

With ``huffman=True`` (the default) the relative index and the cluster codes are Huffman-coded
(canonical codes; a table of code lengths per stream); with ``huffman=False`` they are written
in fixed width: ``index_bits`` per index symbol, ⌈log₂ k⌉ per cluster code.
"""
from __future__ import annotations

import numpy as np

from minicompress.storage.bits import pack_fixed, unpack_fixed
from minicompress.storage.huffman import canonical_code, huffman_decode, huffman_encode
from minicompress.storage.sparse import positions_from_index, relative_index

DEFAULT_INDEX_BITS = 5  # Han et al.'s relative index for fully connected layers
DTYPES = ("float16", "float32", "float64")


def encode_tensor(name: str, tensor, shared: bool, huffman: bool, bits: int):
    """(header record, [(stream name, bytes), ...]) of one tensor.

    ``tensor`` is a Parameter (dense without a mask, sparse with one) or, with ``shared``, a
    SharedWeights layer (its codebook and index); ``bits`` is the relative index's width.
    """
    if shared:
        w = tensor.index
        kept, dtype = w >= 0, tensor.codebook.data.dtype
    else:
        w, dtype = tensor.data, tensor.data.dtype
        kept = None if tensor.mask is None else tensor.mask != 0
    if dtype.name not in DTYPES:
        raise TypeError(f"save_compressed: {name} has dtype {dtype}; expected one of {DTYPES}")
    record = dict(name=name, shape=list(w.shape), dtype=dtype.name, huffman=huffman)
    if kept is None:
        return dict(record, encoding="dense"), [("values", _raw(w, dtype))]
    positions = np.flatnonzero(kept)
    symbols = relative_index(positions, bits)
    record.update(entries=int(positions.size), symbols=int(symbols.size), index_bits=int(bits))
    streams = _symbol_streams("gaps", symbols, huffman, bits)
    if not shared:
        return dict(record, encoding="sparse"), streams + [("values", _raw(w.ravel()[positions], dtype))]
    code_bits = max(1, int(np.ceil(np.log2(tensor.k))))
    record.update(encoding="shared", k=tensor.k, code_bits=code_bits)
    codes = _symbol_streams("codes", w.ravel()[positions], huffman, code_bits)
    return record, [("codebook", _raw(tensor.codebook.data, dtype))] + streams + codes


def decode_tensor(record: dict, stream) -> tuple:
    """(values, mask or None) for dense/sparse tensors, (codebook, index) for shared ones;
    ``stream(name)`` returns the bytes of one of the record's streams."""
    shape = tuple(record["shape"])
    if record["dtype"] not in DTYPES or any(not isinstance(s, int) or s < 0 for s in shape):
        raise ValueError(f"{record['name']}: bad dtype {record['dtype']!r} or shape {shape}")
    dtype = np.dtype(record["dtype"])
    size = int(np.prod(shape))
    if record["encoding"] == "dense":
        return _values(stream("values"), dtype, size, record["name"]).reshape(shape), None
    symbols = _read_symbols(stream, "gaps", record["symbols"], record["huffman"], record["index_bits"])
    positions = positions_from_index(symbols, record["index_bits"], size)
    if positions.size != record["entries"]:
        raise ValueError(f"{record['name']}: the index holds {positions.size} entries, the header "
                         f"says {record['entries']}")
    if record["encoding"] == "sparse":
        values = np.zeros(size, dtype)
        values[positions] = _values(stream("values"), dtype, positions.size, record["name"])
        mask = np.zeros(size, dtype)
        mask[positions] = 1
        return values.reshape(shape), mask.reshape(shape)
    if record["encoding"] != "shared":
        raise ValueError(f"{record['name']}: unknown encoding {record['encoding']!r}")
    codebook = _values(stream("codebook"), dtype, record["k"], record["name"])
    codes = _read_symbols(stream, "codes", positions.size, record["huffman"], record["code_bits"])
    if codes.size and codes.max() >= record["k"]:
        raise ValueError(f"{record['name']}: cluster code {codes.max()} of a codebook of {record['k']}")
    index = np.full(size, -1, np.int64)
    index[positions] = codes
    return codebook, index.reshape(shape)


def _symbol_streams(key: str, symbols: np.ndarray, huffman: bool, bits: int) -> list:
    """[(key, packed symbols)] in fixed width, or [(key_lengths, table), (key, Huffman codes)]."""
    if not huffman:
        return [(key, pack_fixed(symbols, bits))]
    data, table = huffman_encode(symbols)
    lengths = np.zeros(max(table, default=-1) + 1, np.uint8)  # one byte per symbol 0 … max
    for symbol, code in table.items():
        lengths[symbol] = len(code)
    return [(key + "_lengths", lengths.tobytes()), (key, data)]


def _read_symbols(stream, key: str, n: int, huffman: bool, bits: int) -> np.ndarray:
    if not huffman:
        return unpack_fixed(stream(key), bits, n)
    lengths = np.frombuffer(stream(key + "_lengths"), np.uint8)
    table = canonical_code({s: int(l) for s, l in enumerate(lengths) if l})
    return huffman_decode(stream(key), table, n)


def _raw(values: np.ndarray, dtype) -> bytes:
    return np.ascontiguousarray(values, dtype=np.dtype(dtype).newbyteorder("<")).tobytes()


def _values(data: bytes, dtype, n: int, name: str) -> np.ndarray:
    little = np.dtype(dtype).newbyteorder("<")
    if len(data) != n * little.itemsize:
        raise ValueError(f"{name}: {len(data)} bytes for {n} values of {dtype}")
    return np.frombuffer(data, little).astype(dtype)
