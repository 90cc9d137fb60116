"""Lebedev et al. 2015, the method: the four convolutions of a CP kernel, their cost."""
import numpy as np

from minicompress import factorize, metrics, nn
from minicompress.papers import lebedev2015_cp as lebedev


def test_cost_per_pixel_is_r_times_s_plus_2d_plus_t():
    """With 'same' padding and stride 1 every stage runs on the output grid: R(S + 2d + T) MACs
    per pixel, counted by the engine layer by layer."""
    model = lebedev.cp_layers(nn.Sequential(nn.Conv2d(6, 8, 3, padding=1, rng=0)), 0, 5, n_iter=3)
    assert [m.groups for m in model] == [1, 5, 5, 1]
    macs = metrics.flops(model, (6, 7, 7))["dense"]
    assert lebedev.macs_per_pixel(6, 8, 3, 5) == (6 * 8 * 9, 5 * (6 + 6 + 8))
    assert macs == 49 * 5 * (6 + 6 + 8)
    assert np.isclose(lebedev.speedup(6, 8, 3, 5), 6 * 8 * 9 / (5 * 20))


def test_four_convolutions_reproduce_a_kernel_of_cp_rank_r(rng):
    R = 3
    factors = [rng.standard_normal((s, R)) / np.sqrt(s) for s in (7, 4, 3, 3)]
    conv = nn.Conv2d(4, 7, 3, padding=1, rng=0, dtype=np.float64)
    conv.weight.data = factorize.cp_to_tensor(np.array([1.0, 1.5, 2.0]), factors)
    model = nn.Sequential(conv, nn.Tanh())
    x = rng.standard_normal((2, 4, 6, 6))
    np.testing.assert_allclose(lebedev.cp_layers(model, 0, R, n_iter=3000)(x), model(x),
                               rtol=1e-8, atol=1e-8)
