"""The default initialization: PyTorch's U(−1/√fan_in, 1/√fan_in) for weights and biases."""
import numpy as np
import pytest

from minicompress import nn
from minicompress.nn.init import fans, uniform_fan_in


def test_fans_follow_pytorchs_layouts():
    assert fans((300, 784)) == (784, 300)
    assert fans((50, 20, 5, 5)) == (20 * 25, 50 * 25)
    with pytest.raises(ValueError, match=r"at least 2 axes .*got shape \(3,\)"):
        fans((3,))


@pytest.mark.parametrize("layer, fan_in", [(lambda r: nn.Linear(40, 30, rng=r), 40),
                                           (lambda r: nn.Conv2d(3, 64, 5, rng=r), 75)])
def test_weights_and_biases_fill_the_fan_in_interval(layer, fan_in):
    bound = 1 / np.sqrt(fan_in)
    a, b = layer(0), layer(0)
    for p, q in zip(a.parameters(), b.parameters()):
        assert np.array_equal(p.data, q.data) and p.data.dtype == np.float32  # same seed, same bits
        assert np.abs(p.data).max() <= bound and np.abs(p.data).max() > 0.8 * bound
    w = uniform_fan_in((2000,), fan_in=16, rng=1, dtype=np.float64)
    assert w.dtype == np.float64 and abs(w.std() - 0.25 / np.sqrt(3)) < 0.01  # U(−¼, ¼)
