"""Observers on known distributions: min–max of batches, the moving average against its
recursion, percentiles of a Gaussian against its quantile function, the MSE-optimal clipping of a
Gaussian against a numerical integration of the same quantizer; per channel; bad input."""
import numpy as np
import pytest
from scipy import integrate, optimize, stats

from minicompress.nn import NonFiniteError
from minicompress.quant import (MinMaxObserver, MovingAverageMinMaxObserver, MSEObserver,
                                PercentileObserver, choose_qparams)


def test_min_max_over_batches(rng):
    obs = MinMaxObserver()
    batches = [rng.uniform(-1, 2, 1000) for _ in range(3)]
    for b in batches:
        assert obs.observe(b) is b
    allv = np.concatenate(batches)
    assert obs.range() == (allv.min(), allv.max())
    scale, zero = obs.qparams()
    expected = choose_qparams(allv.min(), allv.max())
    assert (scale, zero) == (expected[0], expected[1])


def test_moving_average_follows_its_recursion(rng):
    obs = MovingAverageMinMaxObserver(averaging_constant=0.1)
    lo = hi = None
    for _ in range(50):
        b = rng.normal(0, 1, 200)
        obs.observe(b)
        lo = b.min() if lo is None else lo + 0.1 * (b.min() - lo)
        hi = b.max() if hi is None else hi + 0.1 * (b.max() - hi)
    assert obs.range() == pytest.approx((lo, hi), rel=1e-12)
    constant = MovingAverageMinMaxObserver(averaging_constant=0.5)
    for _ in range(30):
        constant.observe(np.array([-2.0, 3.0]))
    assert constant.range() == (-2.0, 3.0)


def test_percentiles_of_a_gaussian(rng):
    obs = PercentileObserver(percentile=99.0)
    for _ in range(5):
        obs.observe(rng.standard_normal(200_000))
    lo, hi = obs.range()
    assert lo == pytest.approx(stats.norm.ppf(0.01), abs=0.02) and hi == pytest.approx(stats.norm.ppf(0.99), abs=0.02)
    sym = PercentileObserver(percentile=99.0, symmetric=True)
    sym.observe(rng.standard_normal(400_000))
    assert sym.range()[1] == pytest.approx(stats.norm.ppf(0.995), abs=0.02)  # P(|x| ≤ t) = 0.99


def gaussian_mse(alpha: float, levels: int) -> float:
    """E[(x − Q(x))²] for x ~ N(0, 1) and the symmetric quantizer with step α/levels, codes in
    ±levels (clamped outside): integrated cell by cell."""
    step = alpha / levels
    total = 2 * integrate.quad(lambda x: (x - alpha) ** 2 * stats.norm.pdf(x), alpha, np.inf)[0]
    for k in range(-levels, levels + 1):
        a, b = max((k - 0.5) * step, -alpha), min((k + 0.5) * step, alpha)
        total += integrate.quad(lambda x: (x - k * step) ** 2 * stats.norm.pdf(x), a, b)[0]
    return total


@pytest.mark.parametrize("bits", [3, 4])
def test_mse_observer_finds_the_optimal_clipping_of_a_gaussian(bits, rng):
    levels = 2 ** (bits - 1) - 1
    best = optimize.minimize_scalar(lambda a: gaussian_mse(a, levels), bounds=(0.5, 5), method="bounded").x
    x = rng.standard_normal(100_000)
    x[:2] = -4.0, 4.0  # min–max range [−4, 4]: the grid of α is in steps of 0.04
    obs = MSEObserver(steps=100, max_values=100_000, bits=bits, symmetric=True)
    obs.observe(x)
    assert obs.range()[1] == pytest.approx(best, abs=0.08)  # ACIQ: 1.71σ (2 bits), 2.15σ (3), 2.55σ (4)
    assert MinMaxObserver(bits=bits, symmetric=True).observe(x) is x


def test_per_channel_observers_reduce_all_other_axes(rng):
    w = rng.standard_normal((6, 4, 3, 3)) * np.arange(1, 7)[:, None, None, None]
    for cls in (MinMaxObserver, PercentileObserver, MSEObserver, MovingAverageMinMaxObserver):
        obs = cls(axis=0, symmetric=True)
        obs.observe(w)
        scale, zero = obs.qparams()
        assert scale.shape == (6,) and zero.tolist() == [0] * 6
        for c in range(6):
            single = cls(symmetric=True)
            single.observe(w[c])
            assert scale[c] == pytest.approx(single.qparams()[0], rel=1e-12)


def test_bad_input_gets_clear_errors():
    with pytest.raises(NonFiniteError, match="calibration data contains NaN or inf \\(first at flat index 2\\)"):
        MinMaxObserver().observe(np.array([0.0, 1.0, np.nan]))
    with pytest.raises(NonFiniteError, match="NaN or inf"):
        MSEObserver().observe(np.array([np.inf]))
    with pytest.raises(RuntimeError, match="qparams\\(\\) before any observe\\(\\)"):
        PercentileObserver().qparams()
    with pytest.raises(ValueError, match="axis 2 is out of range for a batch of shape \\(3, 4\\)"):
        MinMaxObserver(axis=2).observe(np.ones((3, 4)))
    with pytest.raises(ValueError, match="bits must be an int in \\[2, 16\\], got 1"):
        MinMaxObserver(bits=1)
    with pytest.raises(ValueError, match="percentile must be in \\(50, 100\\]"):
        PercentileObserver(percentile=20)
    with pytest.raises(ValueError, match="averaging_constant must be in \\(0, 1\\]"):
        MovingAverageMinMaxObserver(averaging_constant=0)
    with pytest.raises(ValueError, match="symmetric quantization needs signed codes"):
        MinMaxObserver(symmetric=True, signed=False)
    with pytest.raises(ValueError, match="empty batch"):
        MinMaxObserver().observe(np.array([]))
