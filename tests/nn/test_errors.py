"""Bad input fails early, naming the layer, what was expected and what was given."""
import numpy as np
import pytest

from minicompress import nn
from minicompress.nn.checks import NonFiniteError


def test_wrong_rank_and_size():
    model = nn.Sequential(nn.Linear(4, 3, rng=0), nn.ReLU())
    with pytest.raises(ValueError, match=r"Linear\(4 -> 3\) at '0': expected input of shape \(n, 4\), got \(2, 5\)"):
        model(np.zeros((2, 5), np.float32))
    with pytest.raises(ValueError, match=r"got \(2, 1, 2, 2\); add Flatten\(\) before it"):
        model(np.zeros((2, 1, 2, 2), np.float32))
    conv = nn.Conv2d(3, 2, 3, rng=0)
    with pytest.raises(ValueError, match=r"Conv2d\(3 -> 2.*expected input of shape \(n, 3, h, w\), got \(1, 2, 5, 5\)"):
        conv(np.zeros((1, 2, 5, 5), np.float32))
    with pytest.raises(ValueError, match=r"expected input of shape \(n, 3, h, w\), got \(3, 5, 5\)"):
        conv(np.zeros((3, 5, 5), np.float32))
    with pytest.raises(ValueError, match="does not fit"):
        conv(np.zeros((1, 3, 2, 2), np.float32))
    with pytest.raises(ValueError, match="does not fit"):
        nn.MaxPool2d(3)(np.zeros((1, 1, 2, 2), np.float32))
    with pytest.raises(ValueError, match="empty"):
        conv(np.zeros((0, 3, 5, 5), np.float32))


@pytest.mark.parametrize("dtype, match", [(np.int64, "int64"), (np.complex128, "complex128"),
                                          (np.bool_, "bool")])
def test_non_float_dtypes(dtype, match):
    for layer in (nn.Linear(2, 2, rng=0), nn.ReLU(), nn.MaxPool2d(1), nn.Flatten()):
        x = np.ones((1, 2) if isinstance(layer, (nn.Linear, nn.ReLU)) else (1, 1, 2, 2), dtype)
        with pytest.raises(TypeError, match=f"{type(layer).__name__}.*floating.*{match}"):
            layer(x)


def test_dtype_mismatch_and_non_arrays():
    with pytest.raises(TypeError, match=r"input dtype float64 does not match the layer's float32"):
        nn.Linear(2, 2, rng=0)(np.ones((1, 2)))
    with pytest.raises(TypeError, match="must be a NumPy array, got list"):
        nn.Linear(2, 2, rng=0)([[1.0, 2.0]])


def test_nan_input():
    x = np.ones((2, 3), np.float32)
    x[1, 2] = np.nan
    with pytest.raises(NonFiniteError, match=r"Linear\(3 -> 1\).*NaN.*index 5"):
        nn.Linear(3, 1, rng=0)(x)
    assert issubclass(NonFiniteError, ValueError)
    conv_x = np.ones((1, 1, 3, 3), np.float32)
    conv_x[0, 0, 1, 1] = np.inf
    with pytest.raises(ValueError, match="Conv2d"):
        nn.Conv2d(1, 1, 2, rng=0)(conv_x)


def test_backward_errors():
    layer = nn.Linear(3, 2, rng=0)
    with pytest.raises(RuntimeError, match="backward called before forward"):
        layer.backward(np.ones((1, 2), np.float32))
    layer(np.ones((4, 3), np.float32))
    with pytest.raises(ValueError, match=r"expected g_out of shape \(4, 2\).*got \(4, 3\)"):
        layer.backward(np.ones((4, 3), np.float32))
    conv = nn.Conv2d(1, 2, 2, rng=0)
    conv(np.ones((1, 1, 3, 3), np.float32))
    with pytest.raises(ValueError, match=r"\(1, 2, 2, 2\)"):
        conv.backward(np.ones((1, 2, 3, 3), np.float32))


def test_bad_constructor_arguments():
    with pytest.raises(ValueError, match="in_features must be a positive int, got 0"):
        nn.Linear(0, 3)
    with pytest.raises(ValueError, match="kernel_size"):
        nn.Conv2d(1, 1, (3, 3, 3))
    with pytest.raises(ValueError, match="padding"):
        nn.Conv2d(1, 1, 3, padding=-1)
    with pytest.raises(ValueError, match="stride"):
        nn.MaxPool2d(2, stride=0)
    with pytest.raises(TypeError, match="not a Module"):
        nn.Sequential(nn.ReLU(), "relu")
    with pytest.raises(TypeError, match="rng"):
        nn.Linear(2, 2, rng=1.5)
