"""N:M masks against a readable loop, validity, the compressed format's round trip and bytes."""
import itertools

import numpy as np
import pytest

from minicompress import nn, pruning
from minicompress.pruning import NMSparse, is_nm_sparse, nm_compress, nm_mask, nm_prune, nm_storage_bytes


def loop_nm_mask(w, n, m):
    """The definition, one group at a time: Linear groups along `in`, Conv2d along c_in at each
    (out, kh, kw); keep the n largest |w|, ties to the lower index."""
    w = np.asarray(w, np.float64)
    mask = np.zeros(w.shape)
    other = [range(s) for i, s in enumerate(w.shape) if i != 1]
    for idx in itertools.product(*other):
        for start in range(0, w.shape[1], m):
            group = []
            for j in range(start, start + m):
                full = (idx[0], j, *idx[1:])
                group.append((-abs(w[full]), j, full))
            group.sort()  # by magnitude descending, then by lower index
            for _, _, full in group[:n]:
                mask[full] = 1.0
    return mask


@pytest.mark.parametrize("shape", [(3, 8), (5, 24), (4, 8, 3, 3), (2, 8, 1, 5)])
@pytest.mark.parametrize("n,m", [(2, 4), (1, 4), (4, 8), (3, 4)])
def test_mask_matches_the_loop_and_is_valid(shape, n, m):
    rng = np.random.default_rng(sum(shape) + 10 * n + m)
    w = rng.standard_normal(shape).astype(np.float32)
    w.ravel()[::5] = w.ravel()[1::5][:w.ravel()[::5].size]  # some exact ties
    mask = nm_mask(w, n, m)
    np.testing.assert_array_equal(mask, loop_nm_mask(w, n, m))
    assert mask.shape == w.shape and set(np.unique(mask)) <= {0.0, 1.0}
    assert is_nm_sparse(mask, n, m) and is_nm_sparse(w * mask, n, m)
    assert mask.sum() == w.size * n // m


def test_ties_go_to_the_lower_index_and_groups_run_along_in():
    w = np.array([[1.0, -1.0, 1.0, 0.5, 0.0, 0.0, 0.0, 0.0]])
    np.testing.assert_array_equal(nm_mask(w, 2, 4), [[1, 1, 0, 0, 1, 1, 0, 0]])
    # groups are along `in` (axis 1), not `out`: a column of large values does not win a row
    w = np.array([[9.0, 1, 2, 3], [9.0, 3, 2, 1]])
    np.testing.assert_array_equal(nm_mask(w, 2, 4), [[1, 0, 0, 1], [1, 1, 0, 0]])


def test_conv_groups_are_along_input_channels():
    w = np.zeros((1, 4, 2, 1))
    w[0, :, 0, 0] = [1, 4, 3, 2]   # at (out 0, kh 0, kw 0), channels 1 and 2 are the largest
    w[0, :, 1, 0] = [5, 0, 0, 6]   # at (kh 1): channels 0 and 3
    mask = nm_mask(w, 2, 4)
    np.testing.assert_array_equal(mask[0, :, 0, 0], [0, 1, 1, 0])
    np.testing.assert_array_equal(mask[0, :, 1, 0], [1, 0, 0, 1])


def test_another_axis_can_be_chosen():
    w = np.random.default_rng(0).standard_normal((8, 3))
    np.testing.assert_array_equal(nm_mask(w, 2, 4, axis=0), nm_mask(w.T, 2, 4).T)


def test_validity_check():
    assert is_nm_sparse([[1, 0, 2, 0, 0, 0, 0, 3]], 2, 4)
    assert not is_nm_sparse([[1, 1, 2, 0]], 2, 4)
    assert not is_nm_sparse([[1, 0, np.nan, 0]], 1, 4)  # NaN counts as nonzero


def test_bad_input_gives_clear_errors():
    w = np.ones((2, 8))
    with pytest.raises(ValueError, match="1 <= n < m"):
        nm_mask(w, 4, 4)
    with pytest.raises(ValueError, match="1 <= n < m"):
        nm_mask(w, 5, 4)
    with pytest.raises(ValueError, match="1 <= n < m"):
        nm_mask(w, 0, 4)
    with pytest.raises(TypeError, match="n: expected an int"):
        nm_mask(w, 2.0, 4)
    with pytest.raises(ValueError, match="not divisible by m=4"):
        nm_mask(np.ones((2, 6)), 2, 4)
    with pytest.raises(ValueError, match="non-finite"):
        nm_mask(np.array([[1.0, np.inf, 0, 0]]), 2, 4)
    with pytest.raises(ValueError, match="axis"):
        nm_mask(w, 2, 4, axis=2)
    with pytest.raises(TypeError, match="real numeric"):
        nm_mask(np.array([["a"] * 4]), 2, 4)
    with pytest.raises(ValueError, match="not 2:4 sparse"):
        nm_compress(w, 2, 4)


def test_nm_prune_masks_a_layer_and_keeps_old_zeros():
    layer = nn.Linear(8, 3, rng=0)
    pruning.prune(layer.weight, 12)  # half of the 24 weights, unstructured
    before = layer.weight.mask.copy()
    nm_prune(layer.weight, 2, 4)
    assert is_nm_sparse(layer.weight.mask, 2, 4)
    assert (layer.weight.mask <= before).all()
    np.testing.assert_array_equal(layer.weight.mask, before * nm_mask(layer.weight.data * before, 2, 4))


@pytest.mark.parametrize("dtype", [np.float32, np.float16, np.float64])
@pytest.mark.parametrize("shape,n,m", [((300, 784), 2, 4), ((10, 100), 1, 4), ((6, 16, 5, 5), 4, 8),
                                       ((50, 20, 5, 5), 2, 4), ((3, 8), 3, 8)])
def test_compressed_round_trip_and_exact_bytes(shape, n, m, dtype):
    rng = np.random.default_rng(1)
    w = rng.standard_normal(shape).astype(dtype)
    sparse = w * nm_mask(w, n, m).astype(dtype)
    c = nm_compress(sparse, n, m)
    assert isinstance(c, NMSparse)
    back = c.to_dense()
    assert back.dtype == w.dtype and back.shape == w.shape
    np.testing.assert_array_equal(back, sparse)
    kept = w.size * n // m
    bits = {4: 2, 8: 3}[m]
    expected = kept * np.dtype(dtype).itemsize + -(-kept * bits // 8)
    assert c.nbytes == expected == nm_storage_bytes(shape, n, m, dtype)
    assert ((0 <= c.positions()) & (c.positions() < m)).all()


def test_two_four_bytes_by_hand():
    # LeNet-300-100's first layer: 235,200 float32 weights, 940,800 bytes dense;
    # 2:4 keeps 117,600 values (470,400 bytes) + 117,600 two-bit indices (29,400 bytes)
    assert nm_storage_bytes((300, 784), 2, 4) == 470_400 + 29_400
    assert nm_storage_bytes((300, 784), 2, 4) / (300 * 784 * 4) == 17 / 32  # 8.5 of 16 bytes
    assert nm_storage_bytes((300, 784), 2, 4, np.float16) / (300 * 784 * 2) == 9 / 16
    # the index bits are packed across groups: 3 values of 3 bits = 9 bits -> 2 bytes
    c = nm_compress(np.array([[1.0, 0, 0, 0, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0, 0, 2.0],
                              [0, 0, 0, 5.0, 0, 0, 0, 0]], np.float32), 1, 8)
    assert c.indices.nbytes == 2 and c.nbytes == 3 * 4 + 2
    np.testing.assert_array_equal(c.positions().ravel(), [0, 7, 3])
    # packed MSB first: 000 111 011 -> 0b00011101 1_0000000
    np.testing.assert_array_equal(c.indices, [0b00011101, 0b10000000])


def test_groups_with_fewer_nonzeros_round_trip():
    w = np.array([[0.0, 0, 0, 0, 0, 3, 0, 0]], np.float32)
    c = nm_compress(w, 2, 4)
    np.testing.assert_array_equal(c.to_dense(), w)
    np.testing.assert_array_equal(c.positions(), [[[0, 1], [0, 1]]])
    np.testing.assert_array_equal(c.values, [[[0, 0], [0, 3]]])
