"""A reader for the IDX format of MNIST and Fashion-MNIST (gzip-compressed or raw).

An IDX file is a header followed by the array's values, row-major, big-endian::

    bytes 0-1   0x00 0x00
    byte  2     type code: 0x08 uint8, 0x09 int8, 0x0B int16, 0x0C int32, 0x0D float32, 0x0E float64
    byte  3     number of dimensions d
    4 d bytes   the d sizes, each a big-endian uint32
    the rest    prod(sizes) values

So MNIST's label files start with 0x00000801 (uint8, 1 dimension) and its image files with
0x00000803 (uint8, 3 dimensions: n, rows, columns). Every field is checked, and the payload must
have exactly the announced length: a truncated file and a file with trailing bytes both fail.
"""
from __future__ import annotations

import gzip
import zlib

import numpy as np

from minicompress.datasets.checksums import GZIP_MAGIC

# IDX type code -> big-endian NumPy dtype.
IDX_DTYPES = {
    0x08: np.dtype("u1"),
    0x09: np.dtype("i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}


def read_idx(path, *, ndim=None, dtype=None) -> np.ndarray:
    """Read an IDX file (gzip or raw, told apart by the gzip magic bytes 1f 8b).

    Parameters
    ----------
    path : str or os.PathLike
        The file.
    ndim : int, optional
        Required number of dimensions (1 for labels, 3 for images); checked if given.
    dtype : numpy dtype, optional
        Required element type (``np.uint8`` for MNIST); checked if given.

    Returns
    -------
    np.ndarray
        The array, shape as in the header, in native byte order.

    Raises
    ------
    ValueError
        On a corrupt gzip stream, a wrong magic number, type code or number of dimensions,
        or a payload that is shorter or longer than the header announces.
    """
    with open(path, "rb") as f:
        data = f.read()
    if data[:2] == GZIP_MAGIC:
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError, zlib.error) as err:
            raise ValueError(f"{path}: corrupt or truncated gzip stream ({err})") from err
    return parse_idx(data, source=str(path), ndim=ndim, dtype=dtype)


def parse_idx(data: bytes, *, source="<bytes>", ndim=None, dtype=None) -> np.ndarray:
    """Parse the bytes of an (uncompressed) IDX file; see :func:`read_idx`."""
    if len(data) < 4:
        raise ValueError(f"{source}: {len(data)} bytes is too short for an IDX header (4 bytes)")
    zero, type_code, n_dims = data[0:2], data[2], data[3]
    magic = f"0x{int.from_bytes(data[:4], 'big'):08x}"
    if zero != b"\x00\x00" or type_code not in IDX_DTYPES:
        raise ValueError(
            f"{source}: not an IDX file (magic number {magic}; expected 0x0000TTDD with a "
            f"type code TT in {sorted(hex(c) for c in IDX_DTYPES)}, e.g. 0x00000803 for images)"
        )
    file_dtype = IDX_DTYPES[type_code]
    native = file_dtype.newbyteorder("=")
    if dtype is not None and native != np.dtype(dtype).newbyteorder("="):
        raise ValueError(f"{source}: element type {file_dtype.name} (magic {magic}), "
                         f"expected {np.dtype(dtype).name}")
    if ndim is not None and n_dims != ndim:
        raise ValueError(f"{source}: {n_dims} dimensions (magic {magic}), expected {ndim} "
                         f"(labels have 1, images 3)")
    header_len = 4 + 4 * n_dims
    if len(data) < header_len:
        raise ValueError(f"{source}: truncated header ({len(data)} bytes, "
                         f"{n_dims} dimensions need {header_len})")
    shape = tuple(int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(n_dims))
    expected = header_len + int(np.prod(shape, dtype=np.int64)) * file_dtype.itemsize
    if len(data) != expected:
        problem = "truncated" if len(data) < expected else "too long"
        raise ValueError(f"{source}: {problem}: {len(data)} bytes, but a header for shape "
                         f"{shape} of {file_dtype.name} means exactly {expected} bytes")
    values = np.frombuffer(data, dtype=file_dtype, offset=header_len).reshape(shape)
    return values.astype(native)  # a writable copy in native byte order
