"""Write IDX bytes for tests, independently of the reader under test."""
import numpy as np


def idx_bytes(array, type_code=0x08):
    """The bytes of an IDX file holding ``array``: header, then big-endian values."""
    array = np.asarray(array)
    header = bytes([0, 0, type_code, array.ndim])
    header += b"".join(int(size).to_bytes(4, "big") for size in array.shape)
    return header + array.astype(array.dtype.newbyteorder(">")).tobytes()
