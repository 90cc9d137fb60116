"""Backprop against central finite differences (float64), for every layer, loss and reduction."""
import numpy as np
import pytest

from minicompress import nn
from minicompress.nn.gradcheck import check_gradients

from .settings import ACTIVATIONS, LAYERS, small_cnn, small_mlp


@pytest.mark.parametrize("make, shape", [s[1:] for s in LAYERS], ids=[s[0] for s in LAYERS])
def test_layer_gradients(make, shape, rng):
    """Each layer alone, read out by MSE against a random target (a random linear functional
    of the output plus a quadratic), for its parameters and its input."""
    layer = make(rng)
    model = nn.Sequential(layer, nn.Flatten())
    x = rng.standard_normal(shape)
    target = rng.standard_normal(model(x).shape)
    check_gradients(model, nn.MSELoss(reduction="sum"), x, target)


@pytest.mark.parametrize("reduction", ["mean", "sum"])
@pytest.mark.parametrize("activation", ACTIVATIONS, ids=lambda a: a.__name__)
def test_mlp_cross_entropy(activation, reduction, rng):
    model = small_mlp(rng, activation)
    x, y = rng.standard_normal((7, 6)), rng.integers(0, 3, 7)
    check_gradients(model, nn.SoftmaxCrossEntropy(reduction), x, y)


@pytest.mark.parametrize("reduction", ["mean", "sum"])
@pytest.mark.parametrize("activation", ACTIVATIONS, ids=lambda a: a.__name__)
def test_mlp_mse(activation, reduction, rng):
    model = small_mlp(rng, activation)
    x, t = rng.standard_normal((5, 6)), rng.standard_normal((5, 3))
    check_gradients(model, nn.MSELoss(reduction), x, t)


@pytest.mark.parametrize("pool", [nn.MaxPool2d, nn.AvgPool2d], ids=["max", "avg"])
@pytest.mark.parametrize("activation", ACTIVATIONS, ids=lambda a: a.__name__)
def test_cnn_cross_entropy(activation, pool, rng):
    model = small_cnn(rng, activation, pool)
    x, y = rng.standard_normal((3, 1, 8, 8)), rng.integers(0, 3, 3)
    check_gradients(model, nn.SoftmaxCrossEntropy(), x, y)


def test_masked_parameter_gradients(rng):
    """With masks, backprop still matches finite differences of the masked network (zero at
    masked entries, where perturbing data changes nothing)."""
    model = small_cnn(rng)
    for p in model.parameters():
        p.mask = rng.random(p.shape) > 0.4
    x, y = rng.standard_normal((2, 1, 8, 8)), rng.integers(0, 3, 2)
    check_gradients(model, nn.SoftmaxCrossEntropy(), x, y)
    for p in model.parameters():
        assert np.all(p.grad[p.mask == 0] == 0)


def test_gradcheck_catches_a_wrong_gradient(rng):
    """The reference must be able to fail: flip the sign of one layer's weight gradient."""
    model = small_mlp(rng)

    class Wrong(nn.Linear):
        def grad_params(self, g_out):
            super().grad_params(-g_out)

    wrong = Wrong(6, 5, rng=0, dtype=np.float64)
    model.layers[0] = wrong
    with pytest.raises(AssertionError, match="0.weight|weight"):
        check_gradients(model, nn.SoftmaxCrossEntropy(), rng.standard_normal((4, 6)),
                        rng.integers(0, 3, 4), inputs=False)


def test_gradcheck_requires_float64(rng):
    model = small_mlp(rng, dtype=np.float32)
    with pytest.raises(TypeError, match="float64"):
        check_gradients(model, nn.SoftmaxCrossEntropy(), rng.standard_normal((2, 6)), np.array([0, 1]))
