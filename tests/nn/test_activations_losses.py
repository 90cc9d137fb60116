"""Activations (f, f′, f″) and losses (value, gradient) against independent references."""
import numpy as np
import pytest
from scipy.special import logsumexp

from minicompress import nn

from .settings import ACTIVATIONS


@pytest.mark.parametrize("cls", ACTIVATIONS, ids=lambda c: c.__name__)
def test_first_derivative_matches_finite_differences(cls, rng):
    act, eps = cls(), 1e-6
    a = rng.uniform(-3, 3, 200)
    a = a[np.abs(a) > 1e-3]  # away from ReLU's kink
    numeric = (act.f(a + eps) - act.f(a - eps)) / (2 * eps)
    np.testing.assert_allclose(act.df(a, act.f(a)), numeric, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("cls", ACTIVATIONS, ids=lambda c: c.__name__)
def test_second_derivative_matches_finite_differences(cls, rng):
    """f″ from central differences of f′ (itself checked above)."""
    act, eps = cls(), 1e-6
    a = rng.uniform(-3, 3, 200)
    a = a[np.abs(a) > 1e-3]
    numeric = (act.df(a + eps, act.f(a + eps)) - act.df(a - eps, act.f(a - eps))) / (2 * eps)
    np.testing.assert_allclose(act.d2f(a, act.f(a)), numeric, rtol=1e-5, atol=1e-8)


def test_known_values():
    a = np.array([-1.0, 0.0, 1.0, 40.0, -40.0])
    np.testing.assert_allclose(nn.ReLU().f(a), [0, 0, 1, 40, 0])
    assert nn.ReLU().df(np.array([0.0]), None)[0] == 0  # PyTorch's convention at the kink
    np.testing.assert_allclose(nn.Sigmoid().f(a), 1 / (1 + np.exp(-a)))
    np.testing.assert_allclose(nn.ScaledTanh().f(np.array([1.0, -1.0])), [1.0, -1.0], atol=2e-4)
    np.testing.assert_allclose(nn.ScaledTanh().f(a), 1.7159 * np.tanh(2 * a / 3))


@pytest.mark.parametrize("cls", ACTIVATIONS, ids=lambda c: c.__name__)
def test_activation_keeps_float32(cls, rng):
    x = rng.standard_normal((3, 4)).astype(np.float32)
    act = cls()
    y = act(x)
    assert y.dtype == np.float32 and act.backward(np.ones_like(y)).dtype == np.float32
    assert act.df(x, y).dtype == np.float32 and act.d2f(x, y).dtype == np.float32


@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_cross_entropy_value_and_gradient(reduction, rng):
    z, t = rng.standard_normal((6, 4)), rng.integers(0, 4, 6)
    loss = nn.SoftmaxCrossEntropy(reduction)
    nll = logsumexp(z, axis=1) - z[np.arange(6), t]  # an independent formula
    assert np.isclose(loss(z, t), nll.mean() if reduction == "mean" else nll.sum())
    eps, numeric = 1e-6, np.zeros_like(z)
    for idx in np.ndindex(*z.shape):
        dz = np.zeros_like(z)
        dz[idx] = eps
        numeric[idx] = (loss(z + dz, t) - loss(z - dz, t)) / (2 * eps)
    loss(z, t)
    np.testing.assert_allclose(loss.backward(), numeric, rtol=1e-6, atol=1e-9)


def test_cross_entropy_is_stable_and_keeps_dtype():
    z = np.array([[1000.0, 0.0], [-1000.0, 0.0]], dtype=np.float32)
    loss = nn.SoftmaxCrossEntropy()
    assert np.isclose(loss(z, np.array([0, 1])), 0.0)
    assert np.isclose(loss(z, np.array([1, 1])), 500.0)
    assert loss.backward().dtype == np.float32
    uniform = np.zeros((3, 10))
    assert np.isclose(loss(uniform, np.array([0, 4, 9])), np.log(10))


@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_mse_value_and_gradient(reduction, rng):
    o, t = rng.standard_normal((5, 3)), rng.standard_normal((5, 3))
    loss = nn.MSELoss(reduction)
    total = np.sum((o - t) ** 2)
    assert np.isclose(loss(o, t), total / 15 if reduction == "mean" else total)
    np.testing.assert_allclose(loss.backward(), 2 * (o - t) / (15 if reduction == "mean" else 1))


def test_count_correct():
    z = np.array([[0.1, 0.9], [0.8, 0.2], [0.3, 0.7]])
    assert nn.SoftmaxCrossEntropy().count_correct(z, np.array([1, 1, 1])) == 2
    assert nn.MSELoss().count_correct(z, nn.one_hot(np.array([1, 0, 0]), 2)) == 2
    assert nn.MSELoss().count_correct(z[:, :1], z[:, :1]) is None


def test_one_hot():
    np.testing.assert_array_equal(nn.one_hot(np.array([2, 0]), 3), [[0, 0, 1], [1, 0, 0]])
    with pytest.raises(ValueError, match=r"\[0, 3\)"):
        nn.one_hot(np.array([3]), 3)
    with pytest.raises(TypeError, match="integer"):
        nn.one_hot(np.array([1.0]), 3)


def test_loss_bad_inputs():
    ce = nn.SoftmaxCrossEntropy()
    z = np.zeros((3, 4))
    with pytest.raises(ValueError, match=r"target of shape \(3,\).*got \(2,\)"):
        ce(z, np.array([0, 1]))
    with pytest.raises(TypeError, match="integer class labels"):
        ce(z, np.array([0.0, 1.0, 2.0]))
    with pytest.raises(ValueError, match=r"\[0, 4\)"):
        ce(z, np.array([0, 1, 4]))
    with pytest.raises(ValueError, match="NaN"):
        ce(np.array([[np.nan, 0.0]]), np.array([0]))
    with pytest.raises(ValueError, match=r"target shape \(3, 2\) does not match output shape \(3, 4\)"):
        nn.MSELoss()(z, np.zeros((3, 2)))
    with pytest.raises(ValueError, match="reduction"):
        nn.MSELoss(reduction="avg")
    with pytest.raises(RuntimeError, match="before forward"):
        nn.MSELoss().backward()
