"""The lowered layers: ColumnConv2d (a subset of the GEMM matrix's columns) equals the
convolution with the other columns zero, forward and backward; the CSR layers compute the same
and are inference only; each reports its own MACs."""
import numpy as np
import pytest

from minicompress import nn
from minicompress.metrics import flops
from minicompress.nn.gradcheck import check_gradients
from minicompress.pruning.lowered import ColumnConv2d, CSRConv2d, CSRLinear, same_nonzeros, to_csr

F64 = dict(dtype=np.float64)


def small_cnn(seed=0):
    """(n, 2, 14, 14) → conv 6@3×3 → pool → conv 5@3×3 → pool → fc 20→7 → fc 7→3."""
    r = np.random.default_rng(seed)
    return nn.Sequential(nn.Conv2d(2, 6, 3, rng=r, **F64), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(6, 5, 3, rng=r, **F64), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                         nn.Linear(20, 7, rng=r, **F64), nn.ReLU(), nn.Linear(7, 3, rng=r, **F64))


@pytest.mark.parametrize("stride, padding", [(1, 0), (2, 1), (1, 2)])
def test_column_conv_equals_the_conv_with_those_columns_zero(stride, padding, rng):
    conv = nn.Conv2d(3, 4, 3, stride=stride, padding=padding, rng=0, **F64)
    conv.weight.data.reshape(4, -1)[:, [0, 5, 13, 26]] = 0.0
    column = ColumnConv2d.from_conv(conv)
    x = rng.standard_normal((2, 3, 7, 8))
    assert sorted(column.columns.tolist()) == [c for c in range(27) if c not in (0, 5, 13, 26)]
    np.testing.assert_allclose(column(x), conv(x), rtol=0, atol=1e-12)


def test_column_conv_gradients_match_finite_differences(rng):
    conv = nn.Conv2d(2, 3, 3, stride=2, padding=1, rng=0, **F64)
    model = nn.Sequential(ColumnConv2d.from_conv(conv, columns=[0, 4, 9, 10, 17]), nn.Tanh(),
                          nn.Flatten(), nn.Linear(3 * 3 * 3, 2, rng=1, **F64))
    x, y = rng.standard_normal((2, 2, 5, 5)), np.array([0, 1])
    assert check_gradients(model, nn.SoftmaxCrossEntropy(), x, y) <= 1


def test_column_conv_refuses_bad_columns():
    with pytest.raises(ValueError, match=r"distinct column indices in \[0, 8\]"):
        ColumnConv2d(np.zeros((2, 2)), None, [3, 9], in_channels=1, kernel_size=3)
    with pytest.raises(ValueError, match="distinct"):
        ColumnConv2d(np.zeros((2, 2)), None, [3, 3], in_channels=1, kernel_size=3)


def test_csr_layers_compute_the_same_and_are_inference_only(rng):
    model = small_cnn()
    for index in (0, 3, 7, 9):
        model[index].weight.data[rng.random(model[index].weight.shape) < 0.7] = 0.0
    sparse = to_csr(model)
    x = rng.standard_normal((3, 2, 14, 14))
    np.testing.assert_allclose(sparse(x), model(x), rtol=0, atol=1e-12)
    assert isinstance(sparse[3], CSRConv2d) and isinstance(sparse[9], CSRLinear)
    assert [r["dense"] for r in flops(sparse, (2, 14, 14))["layers"]] == [
        int(np.count_nonzero(model[i].weight.data)) * p for i, p in ((0, 144), (3, 16), (7, 1), (9, 1))]
    with pytest.raises(NotImplementedError, match="inference only"):
        sparse[3].backward(np.zeros((3, 5, 4, 4)))


def test_same_nonzeros_keeps_the_largest_weights_layer_by_layer(rng):
    dense, like = small_cnn(0), small_cnn(1)
    for index, fraction in ((0, 0.3), (3, 0.8), (7, 0.5), (9, 0.0)):
        like[index].weight.data[rng.random(like[index].weight.shape) < fraction] = 0.0
    pruned = same_nonzeros(dense, like, (0, 3, 7, 9))
    for index in (0, 3, 7, 9):
        w, kept = dense[index].weight.data, pruned[index].weight.value()
        assert np.count_nonzero(kept) == np.count_nonzero(like[index].weight.data)
        assert np.abs(w[kept == 0]).max(initial=0) <= np.abs(w[kept != 0]).min()  # magnitude order
    assert dense[3].weight.mask is None  # the dense model is untouched
