"""The compressed model file (``.mcz``): a header with the architecture, then one stream per
tensor, then a checksum. Written atomically; any truncation or corrupted byte is detected.

Layout (integers little-endian):

    offset 0        b"MCZ" and the format version (1 byte)
    4               header length H (uint32)
    8               payload length P (uint64)
    16              header: UTF-8 JSON {architecture, tensors: [{name, shape, dtype, encoding,
                    streams: [[stream, bytes], ...], ...}, ...]}, deflated (zlib: it is metadata,
                    a few hundred bytes; the weights are coded by our own Huffman coder)
    16 + H          payload: the streams, in the header's order
    16 + H + P      CRC-32 of every byte before it (uint32)

The length fields must add up to the file's size (else it is truncated or padded) and the CRC
must match (it changes with any change of up to 32 consecutive bits, so every one-byte
corruption is caught) before anything is decoded.

Each tensor is stored dense, sparse or shared: see :mod:`~minicompress.storage.encodings`.
"""
from __future__ import annotations

import json
import struct
import zlib
from pathlib import Path

import numpy as np

from minicompress.files import atomic_write
from minicompress.nn import io
from minicompress.nn.module import Module
from minicompress.nn.sequential import Sequential
from minicompress.quant.sharing import SharedWeights
from minicompress.storage.encodings import DEFAULT_INDEX_BITS, decode_tensor, encode_tensor

MAGIC, VERSION = b"MCZ", 1
FORMAT = "minicompress-compressed-model"
PREAMBLE = struct.Struct("<3sBIQ")  # magic, version, header length, payload length
CRC = struct.Struct("<I")


def save_compressed(model: Module, path, *, huffman: bool = True, index_bits=DEFAULT_INDEX_BITS) -> int:
    """Write ``model`` (dense, masked and weight-shared engine layers) to ``path``, atomically.

    Parameters
    ----------
    model : Module
        A layer or a Sequential of engine layers, :class:`SharedWeights` included.
    path : str or Path
    huffman : bool
        Huffman-code the relative indices and the cluster codes (else fixed width).
    index_bits : int or dict
        Bits of the relative index (1 to 16); a dict maps tensor names ("0.weight") to bits,
        the others get 5.

    Returns
    -------
    int
        The number of bytes written (the file's size).
    """
    if not isinstance(model, Module):
        raise TypeError(f"save_compressed: expected a Module, got {type(model).__name__}")
    records, payload = [], []
    for name, tensor, shared in _tensors(model):
        bits = index_bits.get(name, DEFAULT_INDEX_BITS) if isinstance(index_bits, dict) else index_bits
        record, streams = encode_tensor(name, tensor, shared, bool(huffman), bits)
        record["streams"] = [[key, len(data)] for key, data in streams]
        records.append(record)
        payload += [data for _, data in streams]
    header = zlib.compress(json.dumps(dict(format=FORMAT, version=VERSION, architecture=_describe(model),
                                           tensors=records), separators=(",", ":")).encode(), 9)
    payload = b"".join(payload)
    body = PREAMBLE.pack(MAGIC, VERSION, len(header), len(payload)) + header + payload
    blob = body + CRC.pack(zlib.crc32(body))
    with atomic_write(Path(path)) as f:
        f.write(blob)
    return len(blob)


def load_compressed(path) -> Module:
    """Read a file written by :func:`save_compressed`: the model, ready to run.

    Raises
    ------
    FileNotFoundError
    ValueError
        A file that is not ours, of a newer version, truncated, or corrupted (checksum), or
        whose content does not decode.
    """
    header, payload = _read(path)
    try:
        streams, offset = {}, 0
        for record in header["tensors"]:
            for key, size in record["streams"]:
                streams[record["name"], key] = payload[offset:offset + size]
                offset += size
        if offset != len(payload):
            raise ValueError(f"the streams take {offset} bytes, the payload has {len(payload)}")
        tensors = {r["name"]: decode_tensor(r, lambda key, r=r: streams[r["name"], key])
                   for r in header["tensors"]}
        return _assemble(_build(header["architecture"]), tensors)
    except (KeyError, TypeError, ValueError, IndexError) as err:
        raise ValueError(f"load_compressed: {path} does not decode to a model: {err}") from None


def inspect_compressed(path) -> dict:
    """The header of a compressed file (checked), with ``file_bytes`` and ``header_bytes``:
    per tensor its encoding, entries, index symbols and the bytes of every stream."""
    header, _ = _read(path)
    return dict(header, file_bytes=Path(path).stat().st_size,
                header_bytes=Path(path).stat().st_size - sum(
                    size for r in header["tensors"] for _, size in r["streams"]))


# ----- the model's tensors, and the model back from them -------------------------------------------
def _leaves(model: Module, prefix: str = ""):
    """(dotted path, layer) of every non-Sequential module, in order."""
    if isinstance(model, Sequential):
        for i, layer in enumerate(model):
            yield from _leaves(layer, f"{prefix}{i}.")
    else:
        yield prefix.rstrip("."), model


def _tensors(model: Module):
    """(name, Parameter or SharedWeights, is_shared) for everything a file stores."""
    for path, layer in _leaves(model):
        dot = path + "." if path else ""
        if isinstance(layer, SharedWeights):
            yield dot + "weight", layer, True
            if layer.bias is not None:
                yield dot + "bias", layer.bias, False
        else:
            for local, p in layer.named_parameters():
                yield dot + local, p, False


def _describe(model: Module) -> dict:
    if isinstance(model, SharedWeights):
        return dict(type="SharedWeights", k=model.k, layer=io.architecture(model.layer))
    if isinstance(model, Sequential):
        return dict(type="Sequential", layers=[_describe(layer) for layer in model])
    spec = io.architecture(model)
    if spec is None:
        raise TypeError(f"save_compressed: {model.describe()} is not an engine layer (dense, "
                        f"masked or SharedWeights): it cannot be described in the file")
    return spec


def _build(spec: dict) -> Module:
    if spec["type"] == "SharedWeights":
        layer = io.build(spec["layer"])
        return SharedWeights(layer, np.zeros(spec["k"]), np.full(layer.weight.shape, -1))
    if spec["type"] == "Sequential":
        return Sequential(*(_build(layer) for layer in spec["layers"]))
    if spec["type"] not in io.LAYERS:
        raise ValueError(f"unknown layer type {spec['type']!r}")
    return io.build(spec)


def _assemble(model: Module, tensors: dict) -> Module:
    for name, target, shared in _tensors(model):
        if name not in tensors:
            raise ValueError(f"no tensor {name!r} in the file")
        value, extra = tensors.pop(name)
        if shared:
            if value.shape != target.codebook.shape or extra.shape != target.index.shape:
                raise ValueError(f"{name}: codebook {value.shape} / index {extra.shape} do not fit "
                                 f"the layer ({target.codebook.shape} / {target.index.shape})")
            target.codebook.data, target.index = value.astype(target.codebook.data.dtype), extra
        else:
            if value.shape != target.shape:
                raise ValueError(f"{name}: shape {value.shape} does not fit the layer's {target.shape}")
            target.data, target.grad, target.mask = value, np.zeros_like(value), extra
    if tensors:
        raise ValueError(f"tensors {sorted(tensors)} belong to no layer of the architecture")
    return model


# ----- the container -----------------------------------------------------------------------------
def _read(path) -> tuple[dict, bytes]:
    """(header, payload) of a file whose framing and checksum are right; else ValueError."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"load_compressed: no compressed model file at {path}")
    blob = path.read_bytes()
    if len(blob) < PREAMBLE.size + CRC.size:
        raise ValueError(f"load_compressed: {path} is {len(blob)} bytes long, shorter than any "
                         f"compressed model file (truncated?)")
    magic, version, header_size, payload_size = PREAMBLE.unpack_from(blob)
    if magic != MAGIC:
        raise ValueError(f"load_compressed: {path} is not a minicompress compressed model file "
                         f"(it starts with {blob[:4]!r}, expected {MAGIC!r} and a version)")
    if version > VERSION:
        raise ValueError(f"load_compressed: {path} has format version {version}; this minicompress "
                         f"reads up to version {VERSION}: upgrade minicompress")
    expected = PREAMBLE.size + header_size + payload_size + CRC.size
    if len(blob) != expected:
        raise ValueError(f"load_compressed: {path} is {len(blob)} bytes long but its length fields "
                         f"say {expected}: the file is {'truncated' if len(blob) < expected else 'padded'} "
                         f"or corrupted")
    (stored,) = CRC.unpack_from(blob, len(blob) - CRC.size)
    if zlib.crc32(blob[:-CRC.size]) != stored:
        raise ValueError(f"load_compressed: {path} fails its checksum (CRC-32): the file is "
                         f"corrupted; do not use it")
    start = PREAMBLE.size
    try:
        header = json.loads(zlib.decompress(blob[start:start + header_size]).decode())
        assert header["format"] == FORMAT and header["version"] == version
    except (ValueError, KeyError, TypeError, AssertionError, zlib.error):
        raise ValueError(f"load_compressed: {path} has no valid header") from None
    return header, blob[start + header_size:start + header_size + payload_size]
